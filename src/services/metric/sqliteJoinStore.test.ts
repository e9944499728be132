import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricStoreError } from './errors.js';
import { applyMessage, expire, type LabelMessage } from './join.js';
import { SqliteJoinStore } from './sqliteJoinStore.js';

const T0 = 1_700_000_000_000;
const half = (
  queue: 'y_true' | 'y_pred',
  id: number | string,
  value: number,
  receivedAt = T0,
): LabelMessage => ({
  queue,
  id,
  value,
  receivedAt,
});

describe('SqliteJoinStore', () => {
  let dir: string;
  let file: string;
  const open: SqliteJoinStore[] = [];
  const openStore = (options = {}): SqliteJoinStore => {
    const store = SqliteJoinStore.open(file, options);
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'predstream-sqlite-'));
    file = path.join(dir, 'metric_state.sqlite');
  });
  afterEach(async () => {
    for (const store of open.splice(0)) store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('joins in either order and keeps ids of both types apart', () => {
    const store = openStore();
    store.transaction(() => {
      expect(applyMessage(store, half('y_pred', 'k', 2)).kind).toBe('pending');
      expect(applyMessage(store, half('y_true', 5, 1)).kind).toBe('pending');
      expect(applyMessage(store, half('y_true', '5', 1)).kind).toBe('pending');
    });
    const out = store.transaction(() => applyMessage(store, half('y_true', 'k', 10)));
    expect(out).toEqual({
      kind: 'matched',
      key: '"k"',
      row: { id: 'k', yTrue: 10, yPred: 2, absoluteError: 8 },
    });
    expect(store.pendingCount()).toBe(2);
  });

  it('keeps pending halves and written ids across a reopen', () => {
    const first = openStore();
    first.transaction(() => {
      applyMessage(first, half('y_true', 1, 0.1 + 0.2));
      applyMessage(first, half('y_true', 2, 3));
      applyMessage(first, half('y_pred', 2, 4));
    });
    first.close();

    const second = openStore();
    expect(second.pendingCount()).toBe(1);
    expect(second.getPending('1')).toEqual({ id: 1, queue: 'y_true', value: 0.1 + 0.2, receivedAt: T0 });
    expect(second.transaction(() => applyMessage(second, half('y_pred', 2, 4)))).toEqual({
      kind: 'duplicate',
      key: '2',
      of: 'written',
    });
    const conflict = second.transaction(() => applyMessage(second, half('y_true', 1, 0.3)));
    expect(conflict.kind === 'conflict' && conflict.reason).toBe(
      `duplicate id 1 on y_true with a different value (${0.1 + 0.2} vs 0.3)`,
    );
  });

  it('undoes the whole batch, count included, when the transaction fails', () => {
    const store = openStore();
    expect(() =>
      store.transaction(() => {
        applyMessage(store, half('y_true', 'a', 1));
        applyMessage(store, half('y_true', 'b', 1));
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(store.pendingCount()).toBe(0);
    expect(store.getPending('"a"')).toBeUndefined();
  });

  it('stores the CSV checkpoint with the batch', () => {
    const store = openStore();
    expect(store.readCheckpoint()).toBeUndefined();
    const checkpoint = {
      offsetBefore: 32,
      batchText: '1,2,3,1\n',
      offsetAfter: 40,
      rows: 1,
      recordDelimiter: '\r\n' as const,
    };
    store.transaction(() => store.writeCheckpoint(checkpoint));
    store.close();
    expect(openStore().readCheckpoint()).toEqual(checkpoint);
  });

  it('refuses a second opener while the first holds the file', () => {
    openStore();
    let error: unknown;
    try {
      openStore({ lockTimeoutMs: 0 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MetricStoreError);
    expect((error as MetricStoreError).code).toBe('STATE_LOCKED');
    expect((error as Error).message).toMatch(/another metric service/);
  });

  it('expires 100k pending halves by age, in bounded steps', () => {
    const store = openStore();
    const n = 100_000;
    const batch = 10_000;
    for (let start = 0; start < n; start += batch) {
      store.transaction(() => {
        for (let i = start; i < start + batch; i++) applyMessage(store, half('y_true', `id-${i}`, i, T0 + i));
      });
    }
    expect(store.pendingCount()).toBe(n);
    // Halves received at T0 + i for i < 60_000 are older than 1000 ms at T0 + 61_000.
    expect(expire(store, T0 + 61_000, 1000, 25_000)).toBe(25_000);
    expect(store.getPending(JSON.stringify('id-24999'))).toBeUndefined();
    expect(store.getPending(JSON.stringify('id-25000'))).toBeDefined();
    expect(expire(store, T0 + 61_000, 1000)).toBe(35_000);
    expect(store.pendingCount()).toBe(40_000);
    store.close();
    expect(openStore().pendingCount()).toBe(40_000);
  });
});
