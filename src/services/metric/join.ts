// The metric join: pairs a y_true and a y_pred half by id, in either order, over a pluggable store.
import { idKey, type MessageId } from '../../contract/wire.js';

export type LabelQueue = 'y_true' | 'y_pred';

/** One received half, as the consumer hands it over after decoding. */
export interface LabelMessage {
  queue: LabelQueue;
  id: MessageId;
  value: number;
  /** When the service received it (ms since epoch); drives the TTL of an unmatched half. */
  receivedAt: number;
}

/** A half waiting for its partner. Stored under `idKey(id)`. */
export interface PendingHalf {
  id: MessageId;
  queue: LabelQueue;
  value: number;
  receivedAt: number;
}

/**
 * An id whose row was written. Kept for good, so that a redelivery after the row was written (the
 * process died before the ack) is recognised and never writes a second row. A value is `null` when
 * the row was imported from a CSV field that did not hold a number: any half for it is a duplicate.
 */
export interface DoneRecord {
  yTrue: number | null;
  yPred: number | null;
}

/** One line of metric_log.csv. */
export interface MetricRow {
  id: MessageId;
  yTrue: number;
  yPred: number;
  absoluteError: number;
}

/** What the join needs from its storage; `key` is always `idKey(id)`. A key is never both pending and done. */
export interface JoinStore {
  getPending(key: string): PendingHalf | undefined;
  /** Only called for a key that has no pending half and is not done. */
  putPending(key: string, half: PendingHalf): void;
  deletePending(key: string): void;
  getDone(key: string): DoneRecord | undefined;
  /** Only called for a key that is not done yet. */
  markDone(key: string, record: DoneRecord): void;
  /** Deletes up to `limit` halves received before `cutoff` (ms), oldest first; returns how many. */
  deletePendingOlderThan(cutoff: number, limit: number): number;
  pendingCount(): number;
}

export type JoinOutcome =
  | { kind: 'pending'; key: string }
  | { kind: 'matched'; key: string; row: MetricRow }
  /** Already seen with the same value (`of: 'pending'`), or its row is already written (`of: 'written'`). */
  | { kind: 'duplicate'; key: string; of: 'pending' | 'written' }
  /** Same id and queue as a half pending or written, with another value: the caller dead-letters it. */
  | { kind: 'conflict'; key: string; reason: string };

function conflictReason(
  key: string,
  queue: LabelQueue,
  before: number,
  now: number,
  written: boolean,
): string {
  const where = written ? ' (its row is already written)' : '';
  return `duplicate id ${key} on ${queue} with a different value (${before} vs ${now})${where}`;
}

/** Applies one half to the store and says what happened. Deterministic: no clock, no I/O. */
export function applyMessage(store: JoinStore, message: LabelMessage): JoinOutcome {
  const key = idKey(message.id);
  const { queue, value } = message;

  // Pending first: a key is never both pending and done, so the second half of a pair (half of all
  // messages) needs one lookup, not two.
  const pending = store.getPending(key);
  if (!pending) {
    const done = store.getDone(key);
    if (done) {
      const writtenValue = queue === 'y_true' ? done.yTrue : done.yPred;
      if (writtenValue === null || writtenValue === value) return { kind: 'duplicate', key, of: 'written' };
      return { kind: 'conflict', key, reason: conflictReason(key, queue, writtenValue, value, true) };
    }
    store.putPending(key, { id: message.id, queue, value, receivedAt: message.receivedAt });
    return { kind: 'pending', key };
  }
  if (pending.queue === queue) {
    if (pending.value === value) return { kind: 'duplicate', key, of: 'pending' };
    return { kind: 'conflict', key, reason: conflictReason(key, queue, pending.value, value, false) };
  }

  const yTrue = queue === 'y_true' ? value : pending.value;
  const yPred = queue === 'y_pred' ? value : pending.value;
  store.deletePending(key);
  store.markDone(key, { yTrue, yPred });
  return {
    kind: 'matched',
    key,
    row: { id: message.id, yTrue, yPred, absoluteError: Math.abs(yTrue - yPred) },
  };
}

/**
 * Drops halves that waited longer than `ttlMs` (received before `now - ttlMs`); returns how many.
 * `limit` bounds the work of one call, so a sweep of a huge backlog can be spread over several ticks.
 */
export function expire(
  store: JoinStore,
  now: number,
  ttlMs: number,
  limit = Number.POSITIVE_INFINITY,
): number {
  if (!(ttlMs >= 0))
    throw new RangeError(`ttlMs must be a non-negative number of milliseconds, got ${ttlMs}`);
  return store.deletePendingOlderThan(now - ttlMs, limit);
}
