// `new Date(ms).toISOString()`, cheaper on a hot path: the text up to the second is kept and reused.

/** The first millisecond of year 10000: from there on the ISO text has a six-digit, signed year. */
const FOUR_DIGIT_YEARS_END = 253_402_300_800_000;

let cachedSecond = Number.NaN;
/** `YYYY-MM-DDTHH:MM:SS.` of `cachedSecond`. */
let cachedPrefix = '';

/**
 * The same text as `new Date(ms).toISOString()` (`2024-01-02T03:04:05.678Z`). Timestamps of one second
 * share their first 20 characters, so only a new second costs a Date; a logger that stamps thousands of
 * lines a second (the metric's labels_log.txt) formats one Date per second instead of one per line.
 */
export function isoTime(ms: number): string {
  if (!(Number.isInteger(ms) && ms >= 0 && ms < FOUR_DIGIT_YEARS_END)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    cachedSecond = second;
  }
  const milli = ms - second * 1000;
  return `${cachedPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
