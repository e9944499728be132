// The consumer against RabbitMQ: how a handler's failure is treated, by whose fault it is.
import { afterAll, describe, expect, it } from 'vitest';
import { startConsumer, type Delivery } from '../../src/broker/consumer.js';
import { createDeadLetterer } from '../../src/broker/deadLetters.js';
import { createConfirmPublisher } from '../../src/broker/publisher.js';
import { declareTopology } from '../../src/broker/topology.js';
import { HEADER_ATTEMPTS, encodeMessage } from '../../src/contract/wire.js';
import { createServiceMetrics } from '../../src/observability/metrics.js';
import { captureLogger } from '../support/logger.js';
import { cleanupPrefix, closeConnection, openTestConnection, uniquePrefix } from '../support/broker.js';

class DiskFull extends Error {}

describe('startConsumer against RabbitMQ', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const prefix of prefixes) await cleanupPrefix(prefix);
  });

  // A quorum queue counts every nack towards its x-delivery-limit (maxAttempts here): a message sent back
  // by nack for the service's fault would be dead-lettered after a few of them.
  it.each(['classic', 'quorum'] as const)(
    'sends back a message whose handler failed by the service’s fault, without counting an attempt; the message’s own failures count (%s queue)',
    async (queueType) => {
      const prefix = uniquePrefix('consumer');
      prefixes.push(prefix);
      const conn = await openTestConnection();
      const { log } = captureLogger();
      try {
        const topology = await declareTopology(conn, {
          prefix,
          queueType,
          legacyQueues: false,
          maxAttempts: 2,
          log,
        });
        const publisher = createConfirmPublisher(conn);
        const metrics = createServiceMetrics('metric');
        const seen: Array<{ id: string | number; delivery: Delivery }> = [];
        let diskFull = 3;
        let diskDone = false;
        let finished!: () => void;
        const done = new Promise<void>((resolve) => (finished = resolve));
        const consumer = startConsumer({
          conn,
          queue: topology.queues.y_true,
          prefetch: 10,
          maxAttempts: 2,
          deadLetters: createDeadLetterer(topology, publisher),
          retryPublisher: publisher,
          log,
          metrics,
          isServiceFault: (err) => err instanceof DiskFull,
          handle(message, delivery) {
            seen.push({ id: message.id, delivery });
            if (message.id === 'disk' && diskFull-- > 0) throw new DiskFull('no space left on device');
            if (message.id === 'disk') diskDone = true;
            if (diskDone && seen.filter((s) => s.id === 'bad').length === 2) setImmediate(finished);
            if (message.id === 'bad') throw new Error('this message cannot be processed');
            return undefined;
          },
        });
        await publisher.publish(topology.queues.y_true.name, encodeMessage('bad', 1));
        await publisher.publish(topology.queues.y_true.name, encodeMessage('disk', 2));
        await done;
        const deadQueue = topology.queues.y_true.deadLetterQueue;
        const deadline = Date.now() + 5_000;
        let dead = 0;
        while (dead === 0 && Date.now() < deadline) {
          dead = (await conn.queueDeclare({ queue: deadQueue, passive: true })).messageCount;
          if (dead === 0) await new Promise((r) => setTimeout(r, 50));
        }
        await consumer.close();

        const disk = seen.filter((s) => s.id === 'disk');
        // Three failures by the service's fault, then it went through: 4 deliveries, never an attempt count.
        expect(disk).toHaveLength(4);
        expect(disk.every((s) => s.delivery.headers[HEADER_ATTEMPTS] === undefined)).toBe(true);
        // The message's own failure counts: retried once with an attempt count, then dead-lettered.
        const bad = seen.filter((s) => s.id === 'bad');
        expect(bad.map((s) => s.delivery.headers[HEADER_ATTEMPTS])).toEqual([undefined, 1]);
        expect(dead).toBe(1);
        await publisher.close();
      } finally {
        await closeConnection(conn);
      }
    },
  );
});
