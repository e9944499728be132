import { afterAll, describe, expect, it } from 'vitest';
import { connectionReady, isCoalesced, socketOf } from '../../src/broker/coalescedWrites.js';
import { connectBroker } from '../../src/broker/connection.js';
import { captureLogger } from '../support/logger.js';
import { AMQP_URL, cleanupPrefix, closeConnection, uniquePrefix } from '../support/broker.js';
import { waitFor } from '../support/processes.js';

describe('connectBroker against RabbitMQ', () => {
  const prefix = uniquePrefix('conn');
  afterAll(() => cleanupPrefix(prefix));

  it('coalesces socket writes, again after a reconnect, and messages still flow both ways', async () => {
    const { log } = captureLogger();
    const conn = await connectBroker({
      url: AMQP_URL,
      connectTimeout: 10,
      connectionName: 'predstream-test-coalesce',
      log,
    });
    const queue = `${prefix}features`; // a name cleanupPrefix deletes
    const received: string[] = [];
    try {
      const first = socketOf(conn);
      // If a rabbitmq-client upgrade moves its socket, this fails instead of silently losing the batching.
      expect(first).toBeDefined();
      expect(isCoalesced(first!)).toBe(true);

      await conn.queueDeclare({ queue, durable: true });
      const consumer = conn.createConsumer(
        { queue, queueOptions: { durable: true }, qos: { prefetchCount: 100 } },
        (msg) => {
          received.push(String(msg.body));
        },
      );
      const publisher = conn.createPublisher({ confirm: true });
      // A burst in one turn of the event loop: all leave in one write, and all are confirmed.
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => publisher.send({ routingKey: queue }, `m${i}`)),
      );
      await waitFor('200 messages', () => received.length === 200, 20_000, 20);
      expect(received).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));

      // rabbitmq-client reads any cork as "blocked": right after a write, conn.ready says false for the
      // rest of the turn. connectionReady (what /readyz asks) sends the turn's frames and says true.
      const confirmed = publisher.send({ routingKey: queue }, 'mid-turn');
      await Promise.resolve(); // the publish is written in a microtask of this turn
      expect(first!.writableCorked).toBe(1);
      expect(conn.ready).toBe(false);
      expect(connectionReady(conn)).toBe(true);
      expect(first!.writableCorked).toBe(0);
      await confirmed;
      await waitFor('the mid-turn message', () => received.includes('mid-turn'), 20_000, 20);

      // Drop the TCP connection under the client: it reconnects on a new socket, coalesced too.
      first!.destroy();
      await waitFor('the reconnect', () => socketOf(conn) !== first && connectionReady(conn), 20_000, 20);
      const second = socketOf(conn)!;
      expect(isCoalesced(second)).toBe(true);
      await publisher.send({ routingKey: queue }, 'after-reconnect');
      await waitFor(
        'the message sent after the reconnect',
        () => received.includes('after-reconnect'),
        20_000,
        20,
      );

      await consumer.close();
      await publisher.close();
    } finally {
      await closeConnection(conn);
    }
  });
});
