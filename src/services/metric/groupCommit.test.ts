import { describe, expect, it } from 'vitest';
import { createGroupCommit } from './groupCommit.js';

describe('group commit', () => {
  it('flushes one batch for items submitted together and resolves each with its own result', async () => {
    const batches: number[][] = [];
    const gc = createGroupCommit<number, number>({
      maxSize: 100,
      maxWaitMs: 5,
      flush: async (items) => {
        batches.push(items);
        return items.map((x) => x * 2);
      },
    });
    const results = await Promise.all([1, 2, 3].map((x) => gc.submit(x)));
    expect(results).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('never runs two flushes at once and caps batch size', async () => {
    let running = 0;
    let maxRunning = 0;
    const sizes: number[] = [];
    const gc = createGroupCommit<number, void>({
      maxSize: 10,
      maxWaitMs: 1,
      flush: async (items) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        sizes.push(items.length);
        await new Promise((r) => setTimeout(r, 3));
        running -= 1;
        return items.map(() => undefined);
      },
    });
    await Promise.all(Array.from({ length: 95 }, (_, i) => gc.submit(i)));
    expect(maxRunning).toBe(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(95);
  });

  it('rejects every item of a failed batch and keeps working afterwards', async () => {
    let fail = true;
    const gc = createGroupCommit<number, number>({
      maxSize: 10,
      maxWaitMs: 0,
      flush: async (items) => {
        if (fail) throw new Error('disk full');
        return items;
      },
    });
    const failed = await Promise.allSettled([gc.submit(1), gc.submit(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(gc.submit(3)).resolves.toBe(3);
    await gc.drain();
    expect(gc.pending).toBe(0);
  });

  it('lets the handlers queued in the turn a flush ends in join the next batch', async () => {
    const batches: string[][] = [];
    let finishFirst: (() => void) | undefined;
    const gc = createGroupCommit<string, void>({
      maxSize: 100,
      maxWaitMs: 0,
      flush: async (items) => {
        batches.push(items);
        if (batches.length === 1) await new Promise<void>((r) => (finishFirst = r));
        return items.map(() => undefined);
      },
    });
    const done = [gc.submit('a')];
    while (!finishFirst) await new Promise((r) => setTimeout(r, 1));
    done.push(gc.submit('b')); // arrived while the first batch was being written
    // One turn: the AMQP client reads a message and queues its handler, then the disk write completes.
    setImmediate(() => done.push(gc.submit('c')));
    finishFirst();
    await new Promise((r) => setImmediate(r));
    await Promise.all(done);
    await gc.drain();
    expect(batches).toEqual([['a'], ['b', 'c']]);
  });

  it('with maxWaitMs 0 starts a partial batch in the check phase, not after a 1 ms timer', async () => {
    const batches: string[][] = [];
    const gc = createGroupCommit<string, void>({
      maxSize: 100,
      maxWaitMs: 0,
      flush: async (items) => {
        batches.push(items);
        return items.map(() => undefined);
      },
    });
    const done = gc.submit('a');
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([['a']]);
    await done;
  });

  it('with maxInFlight above 1, applies the next batch while earlier ones wait for their flush', async () => {
    const applied: string[][] = [];
    const finish: Array<() => void> = [];
    const gc = createGroupCommit<string, string>({
      maxSize: 100,
      maxWaitMs: 0,
      maxInFlight: 2,
      flush: (items) => {
        applied.push(items); // the synchronous part: applied in order, at once
        return new Promise<string[]>((r) => finish.push(() => r(items.map((x) => x.toUpperCase()))));
      },
    });
    const a = gc.submit('a');
    await new Promise((r) => setImmediate(r));
    const b = gc.submit('b');
    await new Promise((r) => setImmediate(r));
    const c = gc.submit('c');
    await new Promise((r) => setImmediate(r));
    // a and b are applied and waiting; c waits for a free slot.
    expect(applied).toEqual([['a'], ['b']]);
    expect(gc.pending).toBe(3);
    finish.shift()!();
    await expect(a).resolves.toBe('A');
    await new Promise((r) => setImmediate(r));
    expect(applied).toEqual([['a'], ['b'], ['c']]);
    finish.shift()!();
    finish.shift()!();
    await expect(Promise.all([b, c])).resolves.toEqual(['B', 'C']);
    await gc.drain();
    expect(gc.pending).toBe(0);
  });

  it('with maxInFlight above 1, items waiting for their timer start in the check phase when a flush lands', async () => {
    const applied: string[][] = [];
    const finish: Array<() => void> = [];
    const gc = createGroupCommit<string, void>({
      maxSize: 2,
      maxWaitMs: 60_000,
      maxInFlight: 2,
      flush: (items) => {
        applied.push(items);
        return new Promise<void[]>((r) => finish.push(() => r(items.map(() => undefined))));
      },
    });
    const full = [gc.submit('a'), gc.submit('b')]; // a full batch starts at once
    const c = gc.submit('c'); // a partial one waits for its (long) timer...
    await new Promise((r) => setTimeout(r, 5));
    expect(applied).toEqual([['a', 'b']]);
    finish.shift()!(); // ...until the disk is free again
    await Promise.all(full);
    await new Promise((r) => setImmediate(r));
    expect(applied).toEqual([['a', 'b'], ['c']]);
    finish.shift()!();
    await c;
  });
});
