import { describe, expect, it } from 'vitest';
import {
  createPacer,
  defaultMaxBurst,
  nextDue,
  parseRate,
  startPace,
  type PacerOptions,
  type Rate,
} from './pacer.js';

/** A simulated clock: `sleep` moves time forward by the requested delay plus some timer lateness. */
function fakeTime(lateMs = 0) {
  const clock = { t: 0, sleeps: [] as number[] };
  const opts: Required<Pick<PacerOptions, 'now' | 'sleep'>> = {
    now: () => clock.t,
    sleep: async (ms) => {
      clock.sleeps.push(ms);
      clock.t += ms + lateMs;
    },
  };
  return { clock, opts };
}

/** Release times of `n` rows, with `workMs` of publishing between rows. */
async function releaseTimes(rate: Rate, n: number, lateMs = 0, workMs = 0, maxBurst?: number) {
  const { clock, opts } = fakeTime(lateMs);
  const pacer = createPacer(rate, { ...opts, ...(maxBurst === undefined ? {} : { maxBurst }) });
  const times: number[] = [];
  for (let k = 0; k < n; k++) {
    await pacer.wait();
    times.push(clock.t);
    clock.t += workMs;
  }
  return { times, sleeps: clock.sleeps, pacer };
}

describe('pacer at 1000 rows/s', () => {
  it('releases row k at k ms', async () => {
    const { times, sleeps } = await releaseTimes(1000, 1000);
    times.forEach((t, k) => expect(t).toBeCloseTo(k, 9));
    expect(sleeps).toHaveLength(999);
  });

  it('does not drift when every timer fires 0.3 ms late', async () => {
    const { times } = await releaseTimes(1000, 10_000, 0.3);
    // A relative "sleep 1 ms after each row" would end near 12997 ms; the schedule ends near 9999.
    times.forEach((t, k) => {
      expect(t).toBeGreaterThanOrEqual(k - 1e-6);
      expect(t).toBeLessThanOrEqual(k + 0.3 + 1e-6);
    });
  });

  it('never sleeps when publishing is slower than the rate', async () => {
    // 2.5 ms of work per row at 1000 rows/s: every row is already due when asked for.
    const { times, sleeps } = await releaseTimes(1000, 100, 0, 2.5);
    expect(sleeps).toEqual([]);
    expect(times.at(-1)).toBeCloseTo(99 * 2.5, 9);
  });

  it('catches up after a stall with one burst of at most maxBurst rows, then resumes the rate', async () => {
    const { clock, opts } = fakeTime();
    const pacer = createPacer(1000, opts);
    expect(pacer.maxBurst).toBe(100);
    for (let k = 0; k < 10; k++) await pacer.wait();
    clock.t += 5000; // the broker blocked us for 5 s: 5000 rows are overdue

    // Count the rows released back to back (bounded loop: a broken pacer must fail, not hang).
    let burst = 0;
    while (clock.sleeps.length === 9 && burst <= 10_000) {
      await pacer.wait();
      if (clock.sleeps.length === 9) burst++;
    }
    expect(burst).toBe(100);
    // The row that ended the burst waited one interval; the next ones follow at 1 ms.
    const resumedAt = clock.t;
    for (let k = 1; k <= 5; k++) {
      await pacer.wait();
      expect(clock.t).toBeCloseTo(resumedAt + k, 9);
    }
  });
});

describe('pacer at 0.5 rows/s', () => {
  it('releases a row every 2 s, the first at once', async () => {
    const { times, sleeps } = await releaseTimes(0.5, 4);
    expect(times).toEqual([0, 2000, 4000, 6000]);
    expect(sleeps).toEqual([2000, 2000, 2000]);
  });

  it('subtracts publishing time from the wait', async () => {
    const { times, sleeps } = await releaseTimes(0.5, 4, 0, 300);
    expect(times).toEqual([0, 2000, 4000, 6000]);
    expect(sleeps).toEqual([1700, 1700, 1700]);
  });

  it('absorbs late timers instead of accumulating them', async () => {
    const { times } = await releaseTimes(0.5, 5, 5);
    expect(times).toEqual([0, 2005, 4005, 6005, 8005]);
  });

  it('after a long stall sends one row and waits a full interval for the next', async () => {
    const { clock, opts } = fakeTime();
    const pacer = createPacer(0.5, opts);
    expect(pacer.maxBurst).toBe(1);
    await pacer.wait();
    clock.t = 60_000;
    await pacer.wait();
    expect(clock.t).toBe(60_000);
    await pacer.wait();
    expect(clock.t).toBe(62_000);
  });
});

describe("pacer at 'max'", () => {
  it('never waits', async () => {
    const { times, sleeps, pacer } = await releaseTimes('max', 10_000);
    expect(sleeps).toEqual([]);
    expect(times.every((t) => t === 0)).toBe(true);
    expect(pacer.scheduled).toBe(10_000);
  });
});

describe('nextDue', () => {
  it('computes each due time from the anchor, not by adding intervals', () => {
    // 3 rows/s: adding 333.33... ms 3000 times accumulates rounding; k * 1000 / 3 does not.
    let state = startPace(0);
    let due = 0;
    for (let k = 0; k <= 3000; k++) ({ dueMs: due, state } = nextDue(state, 0, 3, 100));
    expect(due).toBe(1_000_000);
  });

  it('moves the anchor so that exactly maxBurst rows are overdue', () => {
    const state = { anchorMs: 0, anchorRow: 0, row: 10 }; // row 10 due at 100 ms at 100 rows/s
    expect(nextDue(state, 100 + 4 * 10 - 1, 100, 4)).toEqual({ dueMs: 100, state: { ...state, row: 11 } });
    const late = nextDue(state, 100 + 4 * 10, 100, 4);
    expect(late.dueMs).toBe(110); // rows 10..13 due at 110, 120, 130, 140: four overdue at 140
    expect(late.state).toEqual({ anchorMs: 110, anchorRow: 10, row: 11 });
  });
});

describe('parseRate', () => {
  it.each([
    ['10', 10],
    ['0.5', 0.5],
    [' 1e3 ', 1000],
    ['max', 'max'],
    ['MAX', 'max'],
  ])('reads %j', (text, rate) => {
    expect(parseRate(text)).toBe(rate);
  });

  it.each(['0', '-1', 'abc', '', 'Infinity', 'NaN', '0x10', '1e400'])('refuses %j', (text) => {
    expect(() => parseRate(text)).toThrow(
      /--rate must be a number of rows per second greater than 0.*or 'max'/,
    );
  });
});

describe('createPacer', () => {
  it.each([0, -1, Number.NaN, Infinity])('refuses the rate %d', (rate) => {
    expect(() => createPacer(rate)).toThrow(/--rate must be/);
  });

  it.each([0, 1.5, Infinity])('refuses maxBurst %d', (maxBurst) => {
    expect(() => createPacer(10, { maxBurst })).toThrow(/maxBurst must be a whole number/);
  });

  it('bounds bursts to 0.1 s of rows by default, at least one', () => {
    expect(defaultMaxBurst(0.5)).toBe(1);
    expect(defaultMaxBurst(1000)).toBe(100);
    expect(defaultMaxBurst(15)).toBe(2);
  });

  it('stops a wait when its signal aborts', async () => {
    const pacer = createPacer(0.5); // real clock and timer: the second row is 2 s away
    await pacer.wait();
    const controller = new AbortController();
    const waiting = pacer.wait(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    await expect(pacer.wait(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});
