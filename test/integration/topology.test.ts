import { afterAll, describe, expect, it } from 'vitest';
import { declareTopology, durableDeclaration } from '../../src/broker/topology.js';
import { captureLogger } from '../support/logger.js';
import { cleanupPrefix, openTestConnection, uniquePrefix } from '../support/broker.js';

describe('declareTopology against RabbitMQ', () => {
  const fresh = uniquePrefix('topo');
  const mixed = uniquePrefix('topomix');
  const quorum = uniquePrefix('topoq');
  afterAll(async () => {
    await cleanupPrefix(fresh);
    await cleanupPrefix(mixed);
    await cleanupPrefix(quorum);
  });

  it('declares durable queues with dead-lettering on a fresh prefix', async () => {
    const conn = await openTestConnection();
    const { log, lines } = captureLogger();
    try {
      const topo = await declareTopology(conn, {
        prefix: fresh,
        queueType: 'classic',
        legacyQueues: false,
        maxAttempts: 5,
        log,
      });
      expect(topo.full).toBe(true);
      expect(topo.queues.features.name).toBe(`${fresh}features`);
      expect(topo.queues.y_true.deadLetterQueue).toBe(`${fresh}y_true.dead`);
      // A message nacked without requeue lands in the dead-letter queue through the exchange.
      const ch = await conn.acquire();
      await ch.basicPublish({ routingKey: `${fresh}y_true` }, Buffer.from('x'));
      const msg = await waitGet(ch, `${fresh}y_true`);
      ch.basicNack({ deliveryTag: msg.deliveryTag, requeue: false });
      const dead = await waitGet(ch, `${fresh}y_true.dead`);
      expect(dead.body.toString()).toBe('x');
      ch.basicAck({ deliveryTag: dead.deliveryTag });
      await ch.close();
      expect(lines().filter((l) => l.level === 40)).toHaveLength(0);
    } finally {
      await conn.close();
    }
  });

  it('declares quorum queues, dead-letter queues included, with --queue-type quorum', async () => {
    const conn = await openTestConnection();
    const { log } = captureLogger();
    try {
      const topo = await declareTopology(conn, {
        prefix: quorum,
        queueType: 'quorum',
        legacyQueues: false,
        maxAttempts: 3,
        log,
      });
      expect(topo.full).toBe(true);
      // Redeclaring with the same arguments but classic is refused: proof of the type without the management API.
      const classic = durableDeclaration(`${quorum}features`, {
        prefix: quorum,
        queueType: 'classic',
        maxAttempts: 3,
      });
      await expect(conn.queueDeclare(classic)).rejects.toThrow(/PRECONDITION_FAILED/);
      await expect(conn.queueDeclare({ queue: `${quorum}features.dead`, durable: true })).rejects.toThrow(
        /PRECONDITION_FAILED/,
      );
    } finally {
      await conn.close();
    }
  });

  it('uses a queue declared the original way as it is, with one warning, and does not crash', async () => {
    const conn = await openTestConnection();
    const { log, lines } = captureLogger();
    try {
      // What pika's queue_declare(queue=NAME) does: not durable, no arguments.
      await conn.queueDeclare({ queue: `${mixed}features`, durable: false });
      const topo = await declareTopology(conn, {
        prefix: mixed,
        queueType: 'classic',
        legacyQueues: false,
        maxAttempts: 5,
        log,
      });
      expect(topo.queues.features.mode).toBe('legacy');
      expect(topo.queues.y_pred.mode).toBe('durable');
      expect(topo.full).toBe(false);
      const warnings = lines().filter((l) => l.level === 40);
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]?.msg)).toContain(`${mixed}features`);
      // The connection still works after the refused redeclare.
      await conn.queueDeclare({ queue: `${mixed}features`, passive: true });
    } finally {
      await conn.close();
    }
  });
});

async function waitGet(
  ch: Awaited<ReturnType<Awaited<ReturnType<typeof openTestConnection>>['acquire']>>,
  queue: string,
) {
  for (let i = 0; i < 50; i++) {
    const msg = await ch.basicGet({ queue });
    if (msg) return msg as typeof msg & { body: Buffer };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no message arrived in ${queue}`);
}
