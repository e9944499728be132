// Test helpers for the real RabbitMQ: a unique queue prefix per test and clean-up afterwards.
import { randomBytes } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { deleteTopology } from '../../src/broker/topology.js';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export function uniquePrefix(name: string): string {
  return `test.${name}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}.`;
}

export async function openTestConnection(): Promise<Connection> {
  const conn = new Connection({ url: AMQP_URL, retryLow: 200, retryHigh: 1000 });
  conn.on('error', () => undefined);
  try {
    await conn.onConnect(10_000);
  } catch {
    throw new Error(
      `integration tests need RabbitMQ at ${AMQP_URL.replace(/:[^:@/]*@/, ':***@')}: start it with 'rabbitmq-server -detached' (or .ci/run does it)`,
    );
  }
  return conn;
}

/** Deletes every queue and exchange predstream declares under the prefix. */
export async function cleanupPrefix(prefix: string): Promise<void> {
  const conn = await openTestConnection();
  try {
    await deleteTopology(conn, prefix);
  } finally {
    await conn.close();
  }
}

/** Closes a test connection; one whose channels are still open (a failed test) is destroyed after 2 s. */
export async function closeConnection(conn: Connection): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    conn.close(),
    new Promise<void>((resolve) => (timer = setTimeout(() => (conn.unsafeDestroy(), resolve()), 2_000))),
  ]);
  clearTimeout(timer);
}
