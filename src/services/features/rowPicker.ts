// Picks dataset rows uniformly at random from a seedable PRNG, so `--seed` replays the same order.
import { randomInt } from 'node:crypto';

/** Largest seed accepted: seeds are whole numbers that survive a round trip through JSON and the CLI. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

const TWO_32 = 2 ** 32;

/**
 * sfc32, Chris Doty-Humphrey's Small Fast Chaotic generator from PractRand (32-bit words, shifts
 * 21/9/3), seeded as PractRand's `sfc32::seed(Uint64)` does: a = 0, b = low word, c = high word,
 * counter = 1, then 12 outputs discarded. Chosen because it passes PractRand, needs no
 * multiplications or BigInt, and its counter guarantees a period of at least 2^32.
 * Returns a function yielding uint32 values.
 */
export function sfc32(seed: number): () => number {
  checkSeed(seed);
  let a = 0;
  let b = seed >>> 0;
  let c = Math.floor(seed / TWO_32) >>> 0;
  let counter = 1;
  const next = (): number => {
    const t = (((a + b) | 0) + counter) | 0;
    counter = (counter + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = ((c << 21) | (c >>> 11)) + t;
    c |= 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`seed must be a whole number from 0 to ${MAX_SEED}, got ${seed}`);
  }
}

/**
 * A uniform integer in [0, n) from uint32 draws, for 1 <= n <= 2^32. Draws that fall in the
 * incomplete last block of 2^32 mod n values are rejected, so there is no modulo bias.
 */
export function uniformIndex(nextUint32: () => number, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > TWO_32) {
    throw new RangeError(`cannot pick uniformly among ${n} values: need a whole number from 1 to 2^32`);
  }
  const limit = TWO_32 - (TWO_32 % n);
  for (;;) {
    const u = nextUint32();
    if (u < limit) return u % n;
  }
}

/** A fresh seed from the OS's cryptographic randomness (48 bits: the most `randomInt` gives). */
export function randomSeed(): number {
  return randomInt(0, 2 ** 48 - 1);
}

export interface RowPicker {
  /** The seed in use; log it so a run without `--seed` can be replayed with `--seed <this>`. */
  readonly seed: number;
  readonly rows: number;
  /** Index of the next row to send, uniform over 0..rows-1 (the last row included). */
  next(): number;
}

/**
 * Row indices drawn with replacement, uniformly over all `rows` rows. The same seed gives the
 * same sequence; without a seed, one is drawn from crypto randomness and exposed as `seed`.
 */
export function createRowPicker(rows: number, seed?: number): RowPicker {
  if (!Number.isInteger(rows) || rows < 1 || rows > TWO_32) {
    throw new RangeError(`cannot pick rows from a dataset of ${rows} rows: it needs at least one row`);
  }
  const usedSeed = seed ?? randomSeed();
  const nextUint32 = sfc32(usedSeed);
  return { seed: usedSeed, rows, next: () => uniformIndex(nextUint32, rows) };
}
