// Sends a message that cannot be processed to its dead-letter queue, with the reason in a header.
import type { AsyncMessage } from 'rabbitmq-client';
import { HEADER_ORIGIN_QUEUE, HEADER_REASON } from '../contract/wire.js';
import type { ConfirmPublisher } from './publisher.js';
import type { QueueTopology, Topology } from './topology.js';

/** The bytes of a delivery as they came (the AMQP client parses JSON and text bodies for us). */
export function rawBody(msg: { body?: unknown }): Buffer {
  const body: unknown = msg.body;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body) ?? '', 'utf8');
}

export interface DeadLetterer {
  send(queue: QueueTopology, msg: AsyncMessage, reason: string): Promise<void>;
}

export function createDeadLetterer(topology: Topology, publisher: ConfirmPublisher): DeadLetterer {
  return {
    send(queue, msg, reason) {
      return publisher.publish(queue.deadLetterQueue, rawBody(msg), {
        exchange: topology.deadLetterExchange,
        contentType: msg.contentType ?? '',
        headers: {
          ...(msg.headers ?? {}),
          [HEADER_REASON]: reason,
          [HEADER_ORIGIN_QUEUE]: queue.name,
          'x-predstream-dead-lettered-at': new Date().toISOString(),
        },
      });
    },
  };
}
