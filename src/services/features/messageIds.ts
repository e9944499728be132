// Issues the id that ties a features message to its y_true message: unique per run at any rate.
import { randomInt } from 'node:crypto';

/*
 * Format: `<run>-<seq>`, e.g. `mi3k9x2a0q7fz-1`, `mi3k9x2a0q7fz-2`, ...
 *   run  the process start time in ms since epoch, base36 (8 characters until the year 2059),
 *        followed by 5 base36 characters of crypto randomness (36^5 ≈ 60 million values), so two
 *        processes started in the same millisecond still differ. Fixed for the life of the process.
 *   seq  a decimal counter from 1, so no two messages of a run share an id however fast they go
 *        (the original's float timestamps collide at high rates).
 * Ids stay far below the wire's 128-character limit and use only [0-9a-z-].
 */

/** A run tag is lowercase base36, at most 32 characters; with `-<seq>` that keeps ids short. */
export const RUN_TAG_PATTERN = /^[0-9a-z]{1,32}$/;

const ENTROPY_CHARS = 5;
export const RUN_TAG_ENTROPY_LIMIT = 36 ** ENTROPY_CHARS;

/** Builds a run tag from the start time (ms) and an integer in [0, RUN_TAG_ENTROPY_LIMIT). */
export function formatRunTag(startMs: number, entropy: number): string {
  if (!Number.isSafeInteger(startMs) || startMs < 0) {
    throw new RangeError(`run start time must be whole non-negative milliseconds, got ${startMs}`);
  }
  if (!Number.isInteger(entropy) || entropy < 0 || entropy >= RUN_TAG_ENTROPY_LIMIT) {
    throw new RangeError(
      `run tag entropy must be a whole number below ${RUN_TAG_ENTROPY_LIMIT}, got ${entropy}`,
    );
  }
  return startMs.toString(36) + entropy.toString(36).padStart(ENTROPY_CHARS, '0');
}

/** A run tag for this moment, with entropy from the OS's cryptographic randomness. */
export function newRunTag(): string {
  return formatRunTag(Date.now(), randomInt(0, RUN_TAG_ENTROPY_LIMIT));
}

export interface IdGenerator {
  /** The tag every id of this run starts with; log it to find a run's messages. */
  readonly runTag: string;
  /** How many ids have been issued so far. */
  readonly issued: number;
  /** The next id: `<runTag>-<seq>`. */
  next(): string;
}

/** An id source for one run. Pass `runTag` only to reproduce ids (tests, replays). */
export function createIdGenerator(runTag: string = newRunTag()): IdGenerator {
  if (!RUN_TAG_PATTERN.test(runTag)) {
    throw new RangeError(`run tag must be 1 to 32 characters of 0-9 and a-z, got '${runTag}'`);
  }
  let seq = 0;
  return {
    runTag,
    get issued() {
      return seq;
    },
    next() {
      // Unreachable in practice (2^53 messages); refusing beats silently repeating ids.
      if (seq >= Number.MAX_SAFE_INTEGER) throw new RangeError(`run ${runTag} has used up its ids`);
      seq += 1;
      return `${runTag}-${seq}`;
    },
  };
}
