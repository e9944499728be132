// Decides, at start, how to bring metric_log.csv and the join state back in line after any crash.
import type { CsvCheckpoint } from './sqliteJoinStore.js';

/** What start-up found; the CSV's cut last line (if any) is already removed. */
export interface RecoveryFacts {
  checkpoint: CsvCheckpoint | undefined;
  /** Bytes in metric_log.csv (0 when it was missing). */
  csvSize: number;
  /** The file holds the checkpoint's unsynced text, byte for byte, at its offset. */
  unsyncedIntact: boolean;
  /** The state remembers ids whose rows were written. */
  hasWrittenIds: boolean;
}

export type RecoveryAction =
  /** No CSV (or an empty one): start it with the header. Forget written ids if there were some: the user removed the output. */
  | { kind: 'create'; forgetWrittenIds: boolean }
  /** A CSV but no checkpoint (state deleted, or a file the Python service wrote): its ids become written. */
  | { kind: 'import-all' }
  /** The text not yet synced when the crash came did not (fully) reach the disk: cut the file at its offset and write it again. */
  | { kind: 'rewrite-unsynced'; checkpoint: CsvCheckpoint; discardedBytes: number }
  /** The file is shorter than what was known to be on disk: someone cut it. Keep what is left, add the unsynced text at the end. */
  | { kind: 'append-unsynced'; checkpoint: CsvCheckpoint }
  /** Complete rows beyond the checkpoint (another writer, or a batch whose commit a power cut undid): their ids become written. */
  | { kind: 'import-tail'; checkpoint: CsvCheckpoint }
  | { kind: 'none'; checkpoint: CsvCheckpoint };

export function planRecovery(facts: RecoveryFacts): RecoveryAction {
  const { checkpoint, csvSize } = facts;
  if (csvSize === 0) return { kind: 'create', forgetWrittenIds: facts.hasWrittenIds };
  if (!checkpoint) return { kind: 'import-all' };
  if (csvSize < checkpoint.offsetBefore) return { kind: 'append-unsynced', checkpoint };
  if (csvSize < checkpoint.offsetAfter || !facts.unsyncedIntact) {
    return {
      kind: 'rewrite-unsynced',
      checkpoint,
      discardedBytes: Math.max(0, csvSize - checkpoint.offsetAfter),
    };
  }
  if (csvSize > checkpoint.offsetAfter) return { kind: 'import-tail', checkpoint };
  return { kind: 'none', checkpoint };
}
