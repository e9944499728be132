// Releases rows at R per second on an absolute schedule, so timer lateness never adds up to drift.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleepMs } from 'node:timers/promises';

/** Rows per second (a number > 0), or `max`: as fast as the publisher can go. */
export type Rate = number | 'max';

/** Seconds of backlog the pacer catches up by default; anything older is dropped from the schedule. */
export const DEFAULT_CATCH_UP_SECONDS = 0.1;

const DECIMAL = /^[+]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function rateError(got: string): RangeError {
  return new RangeError(
    `--rate must be a number of rows per second greater than 0 (e.g. 10 or 0.5), or 'max'; got '${got}'`,
  );
}

/** Reads `--rate`: a positive decimal number or `max`. */
export function parseRate(text: string): Rate {
  const t = text.trim();
  if (t.toLowerCase() === 'max') return 'max';
  const value = DECIMAL.test(t) ? Number(t) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0) throw rateError(text);
  return value;
}

function checkRate(rate: Rate): void {
  if (rate !== 'max' && !(Number.isFinite(rate) && rate > 0)) throw rateError(String(rate));
}

/**
 * Largest number of rows released back to back by default: the rows due in
 * {@link DEFAULT_CATCH_UP_SECONDS}, at least 1. Big enough that timer granularity (~1 ms) does
 * not cap high rates, small enough that a stall is not followed by a flood.
 */
export function defaultMaxBurst(rate: Rate): number {
  if (rate === 'max') return Infinity;
  return Math.max(1, Math.ceil(rate * DEFAULT_CATCH_UP_SECONDS));
}

/** Where the schedule stands: row `row` is next; row k is due at anchorMs + (k - anchorRow) / rate. */
export interface PaceState {
  anchorMs: number;
  anchorRow: number;
  row: number;
}

/** The schedule of a pacer started at `nowMs`: row 0 is due at once. */
export function startPace(nowMs: number): PaceState {
  return { anchorMs: nowMs, anchorRow: 0, row: 0 };
}

export interface PaceStep {
  /** When the claimed row may be sent; at or before `nowMs` means send it now. */
  dueMs: number;
  /** The schedule after claiming the row. */
  state: PaceState;
}

/**
 * Claims the next row of the schedule and says when it is due. Row k is due at a fixed absolute
 * time, computed from the anchor (not by adding intervals), so late timers cost nothing in the
 * long run. When more than `maxBurst` rows are overdue, the anchor moves so that exactly
 * `maxBurst` are: the backlog beyond that is dropped rather than sent in one burst.
 */
export function nextDue(state: PaceState, nowMs: number, rate: Rate, maxBurst: number): PaceStep {
  const claimed: PaceState = { ...state, row: state.row + 1 };
  if (rate === 'max') return { dueMs: nowMs, state: claimed };
  const intervalMs = 1000 / rate;
  const dueMs = state.anchorMs + ((state.row - state.anchorRow) * 1000) / rate;
  // Rows overdue now (this one included): floor(lag / interval) + 1.
  if (nowMs - dueMs >= maxBurst * intervalMs) {
    const anchorMs = nowMs - (maxBurst - 1) * intervalMs;
    return { dueMs: anchorMs, state: { anchorMs, anchorRow: state.row, row: state.row + 1 } };
  }
  return { dueMs, state: claimed };
}

// ---- async adapter -----------------------------------------------------------------------------

/** setTimeout fires at once for delays over 2^31-1 ms, so longer waits are split. */
const MAX_TIMER_MS = 2 ** 31 - 1;

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  let left = ms;
  while (left > 0) {
    const step = Math.min(left, MAX_TIMER_MS);
    await sleepMs(step, undefined, signal ? { signal } : undefined);
    left -= step;
  }
}

export interface PacerOptions {
  /** Most rows released back to back when catching up; default {@link defaultMaxBurst}. */
  maxBurst?: number;
  /** Monotonic clock in ms; default `performance.now`. */
  now?: () => number;
  /** Resolves after `ms`, rejects if `signal` aborts; default a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface Pacer {
  readonly rate: Rate;
  readonly maxBurst: number;
  /** Rows claimed so far by `wait` (a row is claimed when its wait starts). */
  readonly scheduled: number;
  /**
   * Resolves when the next row may be sent. The schedule starts at the first call, so setup
   * time does not count as lateness. Rejects with an AbortError if `signal` aborts the wait.
   */
  wait(signal?: AbortSignal): Promise<void>;
}

/** A pacer for `rate` rows per second; with `max` it never waits. */
export function createPacer(rate: Rate, opts: PacerOptions = {}): Pacer {
  checkRate(rate);
  const maxBurst = opts.maxBurst ?? defaultMaxBurst(rate);
  if (rate !== 'max' && !(Number.isInteger(maxBurst) && maxBurst >= 1)) {
    throw new RangeError(`maxBurst must be a whole number of rows >= 1, got ${maxBurst}`);
  }
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? defaultSleep;
  let state: PaceState | undefined;
  return {
    rate,
    maxBurst,
    get scheduled() {
      return state?.row ?? 0;
    },
    async wait(signal) {
      signal?.throwIfAborted();
      const t = now();
      const step = nextDue(state ?? startPace(t), t, rate, maxBurst);
      state = step.state;
      if (step.dueMs > t) await sleep(step.dueMs - t, signal);
    },
  };
}
