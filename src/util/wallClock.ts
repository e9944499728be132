// Wall-clock time with sub-millisecond resolution that stays on the system's wall clock.
//
// Latency is one process's publish time minus another's receipt time, so every process must read the
// same clock: the system's wall clock (Date.now(), whole ms). `performance.timeOrigin +
// performance.now()` has µs resolution but follows the monotonic clock from the moment the process
// started, and on a VM whose wall clock is being corrected the two part: seen here at ~5 ms per second
// (0.5 %), which after a minute put the bench's receipt times 300 ms to 3 s off the services' publish
// times (negative latencies). This clock keeps the monotonic clock's resolution but moves its anchor
// whenever it leaves the wall clock's current millisecond, so it is never more than 1 ms off it.
import { performance } from 'node:perf_hooks';

export interface ClockSources {
  /** Whole-ms wall clock (Date.now). */
  wallMs(): number;
  /** Monotonic ms since `originMs` (performance.now). */
  monoMs(): number;
  /** Wall-clock ms at which `monoMs` was 0 (performance.timeOrigin). */
  originMs: number;
}

/** A µs-resolution clock whose every reading lies in the wall clock's current millisecond. */
export function wallClock(sources: ClockSources): () => number {
  let anchor = sources.originMs;
  return () => {
    const mono = sources.monoMs();
    const wall = sources.wallMs();
    let t = anchor + mono;
    if (t < wall) t = wall;
    else if (t >= wall + 1) t = wall + 0.999;
    else return t;
    anchor = t - mono;
    return t;
  };
}

/**
 * Wall-clock ms since the epoch with sub-millisecond resolution, comparable across processes on one
 * machine: features stamps its published-at header with it, the metric its rows, the bench its readings.
 */
export const wallClockNow: () => number = wallClock({
  wallMs: Date.now,
  monoMs: () => performance.now(),
  originMs: performance.timeOrigin,
});
