// Consumes one queue with manual acks: validates each message, dead-letters bad ones, bounds retries.
import {
  ConsumerStatus,
  AMQPError,
  type AsyncMessage,
  type Connection,
  type Consumer,
} from 'rabbitmq-client';
import { HEADER_ATTEMPTS, decodeMessage, type QueueName, type WireMessage } from '../contract/wire.js';
import { reasonKind, type ServiceMetrics } from '../observability/metrics.js';
import type { Logger } from '../util/logger.js';
import { rawBody, type DeadLetterer } from './deadLetters.js';
import type { ConfirmPublisher } from './publisher.js';
import type { QueueTopology } from './topology.js';

/** What a handler asks for: nothing (done, ack) or a dead letter with a reason (ack after it is stored). */
export type HandleResult = void | { deadLetter: string };

export interface Delivery {
  headers: Record<string, unknown>;
  redelivered: boolean;
  receivedAt: number;
}

export interface ConsumeOptions<Q extends QueueName> {
  conn: Connection;
  queue: QueueTopology<Q>;
  /** Unacked messages RabbitMQ may push; also how many handlers run at once. */
  prefetch: number;
  maxAttempts: number;
  deadLetters: DeadLetterer;
  /** Used to send a failed message back to its queue with an attempt count. */
  retryPublisher: ConfirmPublisher;
  log: Logger;
  metrics: ServiceMetrics;
  /**
   * True for an error that is the service's own trouble, not the message's (a failed disk, say): the
   * message goes back to the end of its queue as it is (published again, confirmed, then acked),
   * without counting an attempt, so it is never dead-lettered for it. The service must stop or
   * recover, or it keeps getting such messages back.
   */
  isServiceFault?(err: unknown): boolean;
  handle(message: WireMessage<Q>, delivery: Delivery): Promise<HandleResult> | HandleResult;
}

function attemptsOf(headers: Record<string, unknown> | undefined): number {
  const n = Number(headers?.[HEADER_ATTEMPTS] ?? 0);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/**
 * Starts consuming. Ack only after the handler's effect is durable (the handler resolves then).
 * A broker or connection error during handling requeues the message (nothing is lost); one that
 * `isServiceFault` claims sends it back as it came; any other error sends it back with an attempt
 * count, and dead-letters it after maxAttempts.
 */
export function startConsumer<Q extends QueueName>(opts: ConsumeOptions<Q>): Consumer {
  const { queue, log, metrics } = opts;
  const label = { queue: queue.logical };

  const reject = async (msg: AsyncMessage, reason: string): Promise<ConsumerStatus> => {
    metrics.rejected.inc({ ...label, reason: reasonKind(reason) });
    log.warn({ queue: queue.name, reason }, `rejected a message from ${queue.name}: ${reason}`);
    await opts.deadLetters.send(queue, msg, reason);
    metrics.deadLettered.inc(label);
    return ConsumerStatus.ACK;
  };

  const consumer = opts.conn.createConsumer(
    {
      queue: queue.name,
      queueOptions: queue.declaration,
      qos: { prefetchCount: opts.prefetch },
      concurrency: opts.prefetch,
      requeue: true,
    },
    async (msg: AsyncMessage): Promise<ConsumerStatus> => {
      const receivedAt = Date.now();
      metrics.consumed.inc(label);
      const decoded = decodeMessage<Q>(queue.logical, msg.body, msg.contentType);
      if (!decoded.ok) return reject(msg, decoded.reason);
      const headers = (msg.headers ?? {}) as Record<string, unknown>;
      try {
        const result = await opts.handle(decoded.message, {
          headers,
          redelivered: msg.redelivered,
          receivedAt,
        });
        if (result && 'deadLetter' in result) return reject(msg, result.deadLetter);
        metrics.processingSeconds.observe(label, (Date.now() - receivedAt) / 1000);
        return ConsumerStatus.ACK;
      } catch (err) {
        // Broker trouble (a closed channel, a lost connection, a publish timeout) is not the message's
        // fault: let RabbitMQ requeue it, without counting an attempt.
        if (err instanceof AMQPError) throw err;
        if (opts.isServiceFault?.(err)) {
          // Sent back as it came, attempt count unchanged. Not nacked: a quorum queue counts a nack
          // towards its x-delivery-limit (before RabbitMQ 4.3), so a few failures of the service would
          // dead-letter a good message; and a requeued message comes straight back.
          log.warn(
            { queue: queue.name, err: err instanceof Error ? err.message : String(err) },
            'the service cannot process messages now; the message goes back to its queue',
          );
          await opts.retryPublisher.publish(queue.name, rawBody(msg), {
            contentType: msg.contentType,
            headers,
          });
          return ConsumerStatus.ACK;
        }
        const attempts = attemptsOf(headers) + 1;
        const why = err instanceof Error ? err.message : String(err);
        if (attempts >= opts.maxAttempts) {
          return reject(msg, `processing failed ${attempts} times: ${why}`);
        }
        log.warn({ queue: queue.name, attempts, err: why }, 'processing failed; retrying the message later');
        await opts.retryPublisher.publish(queue.name, rawBody(msg), {
          contentType: msg.contentType,
          headers: { ...headers, [HEADER_ATTEMPTS]: attempts },
        });
        metrics.retried.inc(label);
        return ConsumerStatus.ACK;
      }
    },
  );
  consumer.on('error', (err: unknown) => {
    log.warn({ queue: queue.name, err: String(err) }, 'consumer error (it recovers by itself)');
  });
  return consumer;
}
