import { describe, expect, it } from 'vitest';
import { planRecovery, type RecoveryFacts } from './recoveryPlan.js';
import type { CsvCheckpoint } from './sqliteJoinStore.js';

// A file whose last 20 bytes, at offset 100, were not yet synced.
const checkpoint: CsvCheckpoint = {
  offsetBefore: 100,
  unsyncedText: 'x'.repeat(19) + '\n',
  offsetAfter: 120,
  rows: 5,
  recordDelimiter: '\n',
};
const facts = (over: Partial<RecoveryFacts>): RecoveryFacts => ({
  checkpoint,
  csvSize: 120,
  unsyncedIntact: true,
  hasWrittenIds: true,
  ...over,
});

describe('planRecovery', () => {
  it('does nothing when the file ends exactly with the intact unsynced text', () => {
    expect(planRecovery(facts({})).kind).toBe('none');
  });

  it('starts a new file when there is none, forgetting written ids only if there were some', () => {
    expect(planRecovery(facts({ csvSize: 0 }))).toEqual({ kind: 'create', forgetWrittenIds: true });
    expect(planRecovery(facts({ csvSize: 0, checkpoint: undefined, hasWrittenIds: false }))).toEqual({
      kind: 'create',
      forgetWrittenIds: false,
    });
  });

  it('imports a file it has no checkpoint for', () => {
    expect(planRecovery(facts({ checkpoint: undefined, csvSize: 5000 })).kind).toBe('import-all');
  });

  it('rewrites the unsynced text when it is missing, short or different on disk', () => {
    for (const csvSize of [100, 110, 119]) {
      expect(planRecovery(facts({ csvSize, unsyncedIntact: false }))).toEqual({
        kind: 'rewrite-unsynced',
        checkpoint,
        discardedBytes: 0,
      });
    }
    expect(planRecovery(facts({ csvSize: 150, unsyncedIntact: false }))).toEqual({
      kind: 'rewrite-unsynced',
      checkpoint,
      discardedBytes: 30,
    });
  });

  it('imports rows beyond the intact unsynced text, and appends that text to a file cut before it', () => {
    expect(planRecovery(facts({ csvSize: 150 })).kind).toBe('import-tail');
    expect(planRecovery(facts({ csvSize: 60, unsyncedIntact: false })).kind).toBe('append-unsynced');
  });
});
