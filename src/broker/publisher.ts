// Publishes with publisher confirms: each send resolves only once RabbitMQ has taken the message.
import type { Connection, Publisher } from 'rabbitmq-client';
import type { QueueDeclaration } from './topology.js';

export interface PublishOptions {
  headers?: Record<string, unknown>;
  contentType?: string;
  /** Exchange to publish to; the default exchange routes by queue name. */
  exchange?: string;
}

export interface ConfirmPublisher {
  /** Resolves when the broker confirms the message; rejects if it could not be published. */
  publish(routingKey: string, body: Buffer, opts?: PublishOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * Confirms are pipelined: many sends may be outstanding at once, and each caller awaits its own.
 * Queues passed here are redeclared after a reconnect (a non-durable queue vanishes with a broker restart).
 */
export function createConfirmPublisher(conn: Connection, queues: QueueDeclaration[] = []): ConfirmPublisher {
  const publisher: Publisher = conn.createPublisher({ confirm: true, maxAttempts: 3, queues });
  return {
    publish(routingKey, body, opts = {}) {
      return publisher.send(
        {
          exchange: opts.exchange ?? '',
          routingKey,
          durable: true,
          // The original sends no content type; an empty one given here is left out.
          contentType: opts.contentType === undefined ? 'application/json' : opts.contentType || undefined,
          headers: opts.headers,
        },
        body,
      );
    },
    close: () => publisher.close(),
  };
}
