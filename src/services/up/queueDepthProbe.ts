// Reads queue depths for the status block over one AMQP connection of its own; RabbitMQ may be down.
import type { Connection } from 'rabbitmq-client';
import { connectionReady } from '../../broker/coalescedWrites.js';
import { connectBroker } from '../../broker/connection.js';
import type { Logger } from '../../util/logger.js';
import type { QueueDepths } from './statusTracker.js';

export interface QueueDepthProbeOptions {
  amqpUrl: string;
  connectTimeout: number;
  /** Physical queue name by logical name (features -> t1.features). */
  queues: Record<string, string>;
  log: Logger;
  /** How long one passive declare may take before the broker counts as down. */
  answerTimeoutMs?: number;
}

const RETRY_CONNECT_MS = 5_000;

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class QueueDepthProbe {
  private conn: Connection | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  // The services report RabbitMQ trouble themselves; the block shows "broker down" instead of a third copy.
  private readonly quietLog: Logger;

  constructor(private readonly opts: QueueDepthProbeOptions) {
    this.quietLog = opts.log.child({ component: 'queue-depths' }, { level: 'error' });
  }

  /** Connects in the background (retrying until closed); `read` says 'down' until then. */
  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    try {
      const conn = await connectBroker({
        url: this.opts.amqpUrl,
        connectTimeout: this.opts.connectTimeout,
        connectionName: 'predstream-up-status',
        log: this.quietLog,
      });
      if (this.closed) await conn.close();
      else this.conn = conn;
    } catch {
      if (this.closed) return;
      this.retryTimer = setTimeout(() => void this.connect(), RETRY_CONNECT_MS);
      this.retryTimer.unref();
    }
  }

  /** Ready messages per logical queue; a queue not declared yet is left out. */
  async read(): Promise<QueueDepths> {
    const conn = this.conn;
    if (!conn || !connectionReady(conn)) return 'down';
    const depths: Record<string, number> = {};
    for (const [logical, queue] of Object.entries(this.opts.queues)) {
      try {
        const ok = await within(
          conn.queueDeclare({ queue, passive: true }),
          this.opts.answerTimeoutMs ?? 2_000,
        );
        depths[logical] = ok.messageCount;
      } catch {
        if (!connectionReady(conn)) return 'down';
        // NOT_FOUND: the services have not declared it yet.
      }
    }
    return depths;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    // A close to a broker that is down may wait for an answer that never comes.
    await within(conn.close(), 2_000).catch(() => conn.unsafeDestroy());
  }
}
