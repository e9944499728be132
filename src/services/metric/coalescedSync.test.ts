import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCoalescedSync } from './coalescedSync.js';

/** A sync whose completions the test controls, recording how many commits each one started after. */
function manualSync() {
  const calls: Array<{ resolve(): void; reject(err: unknown): void }> = [];
  return {
    calls,
    sync: () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject })),
    /** Completes the oldest sync still running. */
    finish(err?: unknown) {
      const call = calls.shift()!;
      if (err === undefined) call.resolve();
      else call.reject(err);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('coalesced sync', () => {
  it('starts a sync at the first commit and resolves that commit only when it completes', async () => {
    const s = manualSync();
    const cs = createCoalescedSync(s.sync);
    let done = false;
    const first = cs.afterCommit().then(() => (done = true));
    expect(s.calls).toHaveLength(1);
    await tick();
    expect(done).toBe(false);
    s.finish();
    await first;
    expect(done).toBe(true);
    expect(cs.waiting).toBe(0);
  });

  it('runs one sync at a time, and one more for all the commits made while it ran', async () => {
    const s = manualSync();
    const cs = createCoalescedSync(s.sync);
    const order: string[] = [];
    const a = cs.afterCommit().then(() => order.push('a'));
    // b, c and d commit while a's sync runs: they must not count as durable when it ends.
    const rest = ['b', 'c', 'd'].map((name) => cs.afterCommit().then(() => order.push(name)));
    expect(s.calls).toHaveLength(1);
    s.finish();
    await a;
    await tick();
    expect(order).toEqual(['a']);
    expect(s.calls).toHaveLength(1); // the second sync, covering b, c and d
    s.finish();
    await Promise.all(rest);
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    await cs.idle();
  });

  it('rejects the commits a failed sync covered, and gives later commits a sync of their own', async () => {
    const s = manualSync();
    const cs = createCoalescedSync(s.sync);
    const a = cs.afterCommit();
    const b = cs.afterCommit();
    s.finish(); // a's sync
    await a;
    await tick();
    s.finish(new Error('EIO')); // b's sync
    await expect(b).rejects.toThrow('EIO');
    const c = cs.afterCommit();
    expect(s.calls).toHaveLength(1);
    s.finish();
    await expect(c).resolves.toBeUndefined();
  });

  it('treats a sync that throws at once like one that fails', async () => {
    const cs = createCoalescedSync(() => {
      throw new Error('EBADF');
    });
    await expect(cs.afterCommit()).rejects.toThrow('EBADF');
    await cs.idle();
  });

  it('idle waits for the commits still unsynced', async () => {
    const s = manualSync();
    const cs = createCoalescedSync(s.sync);
    void cs.afterCommit();
    let idle = false;
    const waited = cs.idle().then(() => (idle = true));
    await tick();
    expect(idle).toBe(false);
    s.finish();
    await waited;
    expect(idle).toBe(true);
  });
});

describe('coalesced sync with a least interval between syncs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A clock the test moves, with Node's timers following it (setImmediate stays real for `tick`). */
  function pacedClock() {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let t = 1_000;
    return {
      now: () => t,
      advance(ms: number) {
        t += ms;
        vi.advanceTimersByTime(ms);
      },
    };
  }

  it('starts the next sync only once the interval has passed since the last one started, covering every commit made meanwhile', async () => {
    const clock = pacedClock();
    const s = manualSync();
    const cs = createCoalescedSync(s.sync, { minIntervalMs: 10, now: clock.now });
    const a = cs.afterCommit();
    expect(s.calls).toHaveLength(1); // the first sync starts at once
    clock.advance(2);
    s.finish();
    await a;
    clock.advance(1);
    let done = 0;
    const later = [cs.afterCommit(), cs.afterCommit()].map((p) => p.then(() => (done += 1)));
    await tick();
    expect(s.calls).toHaveLength(0); // 3 ms after the last start: it waits
    clock.advance(6);
    await tick();
    expect(s.calls).toHaveLength(0);
    const third = cs.afterCommit().then(() => (done += 1));
    clock.advance(1); // 10 ms after the last start
    expect(s.calls).toHaveLength(1);
    expect(done).toBe(0);
    s.finish();
    await tick();
    expect(done).toBe(3);
    await Promise.all([...later, third]);
    expect(s.calls).toHaveLength(0); // one sync served all three
    await cs.idle();
  });

  /** A sync paced at 10 ms, with one commit whose sync has started; `finishFirst` ends that sync. */
  function withFirstSyncRunning() {
    const clock = pacedClock();
    const s = manualSync();
    const cs = createCoalescedSync(s.sync, { minIntervalMs: 10, now: clock.now });
    const first = cs.afterCommit();
    return {
      clock,
      s,
      cs,
      /** Ends the first sync `ms` after it started. */
      async finishFirst(ms = 0) {
        clock.advance(ms);
        s.finish();
        await first;
        await tick();
      },
    };
  }

  it('syncs at once a commit that comes after a quiet spell longer than the interval', async () => {
    const { clock, s, cs, finishFirst } = withFirstSyncRunning();
    await finishFirst();
    clock.advance(25);
    const b = cs.afterCommit();
    expect(s.calls).toHaveLength(1);
    s.finish();
    await b;
  });

  it('starts the next sync as soon as one slower than the interval ends, without a timer', async () => {
    const { s, cs, finishFirst } = withFirstSyncRunning();
    const b = cs.afterCommit(); // made while the first sync runs
    await finishFirst(15);
    expect(s.calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    s.finish();
    await b;
  });

  it('idle waits for a sync that is waiting for its interval', async () => {
    const { clock, s, cs, finishFirst } = withFirstSyncRunning();
    await finishFirst();
    void cs.afterCommit();
    let idle = false;
    const waited = cs.idle().then(() => (idle = true));
    await tick();
    expect(idle).toBe(false);
    clock.advance(10);
    expect(s.calls).toHaveLength(1);
    s.finish();
    await waited;
    expect(idle).toBe(true);
  });
});
