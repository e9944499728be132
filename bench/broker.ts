// The bench's own view of RabbitMQ: queue depths and consumers, clean-up of a prefix, the broker version.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { deleteTopology } from '../src/broker/topology.js';
import { maskUrl } from '../src/broker/url.js';
import { QUEUES, queueName, type QueueName } from '../src/contract/wire.js';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * The port RabbitMQ listens on, when AMQP_URL names this machine (its CPU is measured from /proc then);
 * undefined for a broker elsewhere.
 */
export function localBrokerPort(url = AMQP_URL): number | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) return undefined;
  if (parsed.port !== '') return Number(parsed.port);
  return parsed.protocol === 'amqps:' ? 5671 : 5672;
}

/** A queue prefix no other run uses: `bench.<part>.<time><random>.` */
export function benchPrefix(part: string): string {
  return `bench.${part}.${Date.now().toString(36)}${randomBytes(2).toString('hex')}.`;
}

export async function openBenchConnection(): Promise<Connection> {
  const conn = new Connection({
    url: AMQP_URL,
    retryLow: 200,
    retryHigh: 1000,
    connectionName: 'predstream-bench',
  });
  conn.on('error', () => undefined);
  try {
    await conn.onConnect(10_000);
  } catch {
    conn.unsafeDestroy();
    throw new Error(
      `the bench needs RabbitMQ at ${maskUrl(AMQP_URL)}: start it ` +
        `('rabbitmq-server -detached', or 'docker compose up -d rabbitmq') or set AMQP_URL`,
    );
  }
  return conn;
}

export type QueueStatus = Record<QueueName, { messages: number; consumers: number }>;

/** Ready messages and consumers of the three queues under `prefix` (passive declares: nothing changes). */
export async function queueStatus(conn: Connection, prefix: string): Promise<QueueStatus> {
  const status = {} as QueueStatus;
  for (const q of QUEUES) {
    try {
      const ok = await conn.queueDeclare({ queue: queueName(prefix, q), passive: true });
      status[q] = { messages: ok.messageCount, consumers: ok.consumerCount };
    } catch {
      status[q] = { messages: 0, consumers: 0 };
    }
  }
  return status;
}

/** Waits until each named queue has at least one consumer. */
export async function waitForConsumers(
  conn: Connection,
  prefix: string,
  queues: readonly QueueName[],
  timeoutMs: number,
  alive: () => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    alive();
    const status = await queueStatus(conn, prefix);
    if (queues.every((q) => status[q].consumers > 0)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `no consumer on ${queues.filter((q) => status[q].consumers === 0).join(', ')} after ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Deletes the queues, dead-letter queues and exchange predstream declares under `prefix`. */
export async function cleanupPrefix(conn: Connection, prefix: string): Promise<void> {
  await deleteTopology(conn, prefix).catch(() => undefined);
}

/** `rabbitmqctl version`, or a note saying why it is unknown. */
export function rabbitmqVersion(): Promise<string> {
  return new Promise((resolve) => {
    execFile('rabbitmqctl', ['-q', 'version'], { timeout: 20_000 }, (err, stdout) => {
      resolve(err ? `unknown (rabbitmqctl: ${err.message.split('\n')[0]})` : stdout.trim());
    });
  });
}
