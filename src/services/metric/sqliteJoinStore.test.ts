import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
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

  it('empties the WAL into the database file at open (a failed sync may have left frames in the page cache only)', async () => {
    const first = openStore();
    first.transaction(() => applyMessage(first, half('y_true', 'kept', 1)));
    // A stop without the checkpoint a clean close makes: the WAL still holds the transaction.
    const saved = await Promise.all(
      ['', '-wal'].map(async (s) => [file + s, await readFile(file + s)] as const),
    );
    first.close();
    for (const [f, data] of saved) await writeFile(f, data);
    expect((await stat(`${file}-wal`)).size).toBeGreaterThan(0);
    const second = openStore();
    expect((await stat(`${file}-wal`)).size).toBe(0);
    expect(second.pendingCount()).toBe(1);
    second.close();
    // Without its WAL the database file alone has the half: the checkpoint copied it there.
    await rm(`${file}-wal`, { force: true });
    const third = openStore();
    expect(third.getPending(JSON.stringify('kept'))?.value).toBe(1);
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
      unsyncedText: '1,2,3,1\n',
      offsetAfter: 40,
      rows: 1,
      recordDelimiter: '\r\n' as const,
    };
    store.transaction(() => store.writeCheckpoint(checkpoint));
    store.close();
    expect(openStore().readCheckpoint()).toEqual(checkpoint);
  });

  it('keeps the text of several batches, and forgets what the files hold durably', () => {
    const store = openStore();
    store.transaction(() =>
      store.writeCheckpoint({
        offsetBefore: 0,
        unsyncedText: 'h\n',
        offsetAfter: 2,
        rows: 0,
        recordDelimiter: '\n',
      }),
    );
    store.transaction(() => store.markLogsSynced(10));
    store.transaction(() =>
      store.addBatchText({ csv: { offset: 2, text: 'a\n', rows: 1 }, labels: { offset: 10, text: 'x\n' } }),
    );
    store.transaction(() =>
      store.addBatchText({ csv: { offset: 4, text: 'bb\n', rows: 2 }, labels: { offset: 12, text: 'y\n' } }),
    );
    expect(store.readCheckpoint()).toMatchObject({
      offsetBefore: 2,
      unsyncedText: 'a\nbb\n',
      offsetAfter: 7,
      rows: 2,
    });
    expect(store.readLabelsCheckpoint()).toEqual({ offsetBefore: 10, text: 'x\ny\n', offsetAfter: 14 });
    store.transaction(() => {
      store.forgetSyncedText('csv', 4);
      store.forgetSyncedText('labels', 14);
    });
    expect(store.readCheckpoint()).toMatchObject({ offsetBefore: 4, unsyncedText: 'bb\n', offsetAfter: 7 });
    expect(store.readLabelsCheckpoint()).toEqual({ offsetBefore: 14, text: '', offsetAfter: 14 });
  });

  it('upgrades a schema 1 state: its last batch becomes the CSV text kept for recovery', () => {
    const v1 = new Database(file);
    v1.exec(`
      CREATE TABLE pending (key TEXT PRIMARY KEY, queue TEXT NOT NULL, value REAL NOT NULL, received_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE done (key TEXT PRIMARY KEY, y_true REAL, y_pred REAL) WITHOUT ROWID;
      CREATE TABLE meta (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
      INSERT INTO done VALUES ('1', 2, 3);
      INSERT INTO meta VALUES ('schema_version', 1), ('csv_offset_before', 32), ('batch_text', '1,2,3,1' || char(10)),
        ('csv_offset_after', 40), ('csv_rows', 1), ('record_delimiter', char(13) || char(10));
    `);
    v1.close();
    const store = openStore();
    expect(store.readCheckpoint()).toEqual({
      offsetBefore: 32,
      unsyncedText: '1,2,3,1\n',
      offsetAfter: 40,
      rows: 1,
      recordDelimiter: '\r\n',
    });
    expect(store.readLabelsCheckpoint()).toBeUndefined();
    expect(store.getDone('1')).toEqual({ yTrue: 2, yPred: 3 });
    store.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare("SELECT v FROM meta WHERE k = 'schema_version'").get()).toEqual({ v: 2 });
    expect(
      raw.prepare("SELECT count(*) AS n FROM meta WHERE k IN ('batch_text', 'csv_offset_before')").get(),
    ).toEqual({ n: 0 });
    raw.close();
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
