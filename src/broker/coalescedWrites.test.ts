import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { coalesceSocketWrites, isCoalesced } from './coalescedWrites.js';

const nextCheckPhase = () => new Promise<void>((r) => setImmediate(r));

interface Pair {
  client: net.Socket;
  received: () => Buffer;
  chunks: () => number;
  close(): Promise<void>;
}

/** A client socket connected to a local server that records what arrives. */
async function connectedPair(): Promise<Pair> {
  const parts: Buffer[] = [];
  let serverSide: net.Socket | undefined;
  const server = net.createServer((s) => {
    serverSide = s;
    s.on('data', (d: Buffer) => parts.push(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise<void>((r) => client.once('connect', r));
  return {
    client,
    received: () => Buffer.concat(parts),
    chunks: () => parts.length,
    async close() {
      client.destroy();
      serverSide?.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('coalesceSocketWrites', () => {
  let pair: Pair | undefined;
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  it('holds the writes of one turn of the event loop and sends them together, in order', async () => {
    pair = await connectedPair();
    const { client } = pair;
    coalesceSocketWrites(client);
    expect(isCoalesced(client)).toBe(true);

    for (let i = 0; i < 100; i++) client.write(Buffer.from(`frame-${i};`));
    // Nothing has left yet: the socket is corked until the check phase.
    expect(client.writableCorked).toBe(1);
    expect(client.writableLength).toBeGreaterThan(0);

    await nextCheckPhase();
    expect(client.writableCorked).toBe(0);
    const expected = Array.from({ length: 100 }, (_, i) => `frame-${i};`).join('');
    await until(() => pair!.received().length === expected.length);
    expect(pair.received().toString()).toBe(expected);
    // One writev: loopback delivers it in one or very few reads, not one per frame.
    expect(pair.chunks()).toBeLessThan(10);
  });

  it('keeps the library’s own cork/uncork pairs balanced and stays applied once', async () => {
    pair = await connectedPair();
    const { client } = pair;
    coalesceSocketWrites(client);
    coalesceSocketWrites(client); // idempotent: one wrapper, one cork per turn

    client.cork(); // what the AMQP encoder does around each frame
    client.write('a');
    client.write('b');
    client.uncork();
    expect(client.writableCorked).toBe(1); // still held by the per-turn cork

    await nextCheckPhase();
    expect(client.writableCorked).toBe(0);
    client.write('c'); // a new turn corks again
    expect(client.writableCorked).toBe(1);
    await nextCheckPhase();
    await until(() => pair!.received().toString() === 'abc');
  });

  it('returns false above the high-water mark, so the writer still sees backpressure', async () => {
    pair = await connectedPair();
    const { client } = pair;
    coalesceSocketWrites(client);
    const big = Buffer.alloc(client.writableHighWaterMark + 1, 1);
    expect(client.write(big)).toBe(false);
    await new Promise<void>((r) => client.once('drain', r));
    await until(() => pair!.received().length === big.length);
  });

  it('does not throw when the socket is destroyed before the check phase', async () => {
    pair = await connectedPair();
    const { client } = pair;
    coalesceSocketWrites(client);
    client.on('error', () => undefined);
    client.write('x');
    client.destroy();
    await nextCheckPhase();
    expect(client.destroyed).toBe(true);
  });

  it('lifts only its own cork: a cork the library holds (RabbitMQ blocked the connection) stays', async () => {
    pair = await connectedPair();
    const { client } = pair;
    coalesceSocketWrites(client);
    client.write('a'); // the turn's cork
    client.cork(); // rabbitmq-client on connection.blocked
    await nextCheckPhase();
    expect(client.writableCorked).toBe(1);
    client.uncork(); // connection.unblocked
    await until(() => pair!.received().toString() === 'a');
  });
});
