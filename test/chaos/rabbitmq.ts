// The broker side of the chaos run: stop and start the RabbitMQ application, and read queue depths.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Connection } from 'rabbitmq-client';
import { QUEUES, deadLetterQueueName, queueName } from '../../src/contract/wire.js';

const run = promisify(execFile);

/** Runs `rabbitmqctl <args>`, bounded in time; the error says what failed and how to check by hand. */
export async function rabbitmqctl(args: readonly string[], timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await run('rabbitmqctl', [...args], { timeout: timeoutMs, killSignal: 'SIGKILL' });
    return stdout;
  } catch (err) {
    const e = err as { code?: unknown; killed?: boolean; stderr?: string; message: string };
    const why =
      e.code === 'ENOENT'
        ? 'rabbitmqctl is not installed or not on PATH (the chaos test needs it to restart RabbitMQ)'
        : e.killed
          ? `it did not finish within ${timeoutMs} ms`
          : (e.stderr?.trim() || e.message).split('\n')[0];
    throw new Error(`rabbitmqctl ${args.join(' ')} failed: ${why}; try it by hand as root`);
  }
}

/** Stops the RabbitMQ application (the Erlang node keeps running): every client connection drops. */
export async function stopBrokerApp(): Promise<void> {
  await rabbitmqctl(['stop_app'], 30_000);
}

/** Starts the RabbitMQ application again and waits until it accepts connections. */
export async function startBrokerApp(): Promise<void> {
  await rabbitmqctl(['start_app'], 30_000);
  await rabbitmqctl(['await_startup', '--timeout', '20'], 30_000);
}

export interface QueueDepths {
  /** Ready messages in features, y_true and y_pred under the prefix. */
  ready: Record<(typeof QUEUES)[number], number>;
  /** Messages in their dead-letter queues. */
  dead: Record<(typeof QUEUES)[number], number>;
}

/** Ready-message counts through passive declares (cheap; rabbitmqctl costs a second of CPU per call). */
export async function queueDepths(conn: Connection, prefix: string): Promise<QueueDepths> {
  const depths: QueueDepths = {
    ready: { features: 0, y_true: 0, y_pred: 0 },
    dead: { features: 0, y_true: 0, y_pred: 0 },
  };
  for (const logical of QUEUES) {
    const name = queueName(prefix, logical);
    depths.ready[logical] = (await conn.queueDeclare({ queue: name, passive: true })).messageCount;
    depths.dead[logical] = (
      await conn.queueDeclare({ queue: deadLetterQueueName(name), passive: true })
    ).messageCount;
  }
  return depths;
}
