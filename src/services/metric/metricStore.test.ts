import { parse } from 'csv-parse/sync';
import { mkdtemp, open as openFile, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppendFile, PositionalFile } from './csvLog.js';
import { MetricStoreError } from './errors.js';
import type { LabelMessage } from './join.js';
import { MetricStore, type MetricStoreOptions } from './metricStore.js';
import { SqliteJoinStore } from './sqliteJoinStore.js';

const T0 = 1_700_000_000_000;
const msg = (queue: 'y_true' | 'y_pred', id: number | string, value: number): LabelMessage => ({
  queue,
  id,
  value,
  receivedAt: T0,
});
/** Both halves of ids `from..to-1`, y_pred first for odd ids; y_true = 100 + id, y_pred = id / 4. */
function pairs(from: number, to: number): LabelMessage[] {
  const out: LabelMessage[] = [];
  for (let id = from; id < to; id++) {
    const t = msg('y_true', id, 100 + id);
    const p = msg('y_pred', id, id / 4);
    out.push(...(id % 2 === 0 ? [t, p] : [p, t]));
  }
  return out;
}

describe('MetricStore', () => {
  let dir: string;
  let csvPath: string;
  let statePath: string;
  let labelsPath: string;
  const warnings: string[] = [];
  const stores: MetricStore[] = [];

  const openStore = async (options: MetricStoreOptions = {}): Promise<MetricStore> => {
    const store = await MetricStore.open(dir, {
      lockTimeoutMs: 0,
      log: { info: () => undefined, warn: (m) => warnings.push(m) },
      ...options,
    });
    stores.push(store);
    return store;
  };
  const reopen = async (store: MetricStore): Promise<MetricStore> => {
    await store.close();
    return openStore();
  };
  /**
   * What a crash leaves behind: the state as committed, the files as they are, nothing synced or tidied on
   * the way out. (The state is copied while open, then put back after a close that would have tidied it.)
   */
  const crash = async (store: MetricStore): Promise<void> => {
    const saved = await Promise.all(
      ['', '-wal'].map(async (suffix) => ({
        file: statePath + suffix,
        data: await readFile(statePath + suffix).catch(() => undefined),
      })),
    );
    await store.close();
    stores.splice(stores.indexOf(store), 1);
    for (const { file, data } of saved) {
      if (data) await writeFile(file, data);
      else await rm(file, { force: true });
    }
  };
  /** Long enough that no file sync happens during a test: all text since the open is kept in the state. */
  const NO_FILE_SYNC = { fileSyncMs: 3_600_000, fileSyncBytes: 1e12 };
  const csvText = (): Promise<string> => readFile(csvPath, 'utf8');
  const csvRecords = async (): Promise<string[][]> => parse(await csvText(), { relax_column_count: true });
  /** How often each id field occurs among the data rows, checking the header on the way. */
  const idCounts = async (): Promise<Map<string, number>> => {
    const [header, ...rows] = await csvRecords();
    expect(header).toEqual(['id', 'y_true', 'y_pred', 'absolute_error']);
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r[0]!, (counts.get(r[0]!) ?? 0) + 1);
    return counts;
  };
  const expectEachOnce = async (ids: number[]): Promise<void> => {
    const counts = await idCounts();
    expect([...counts.keys()].sort()).toEqual(ids.map(String).sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  };
  const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'predstream-metric-'));
    csvPath = path.join(dir, 'metric_log.csv');
    statePath = path.join(dir, 'metric_state.sqlite');
    labelsPath = path.join(dir, 'labels_log.txt');
    warnings.length = 0;
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a new CSV with the header and writes one row per joined id', async () => {
    const store = await openStore();
    expect(store.recovery.action).toBe('create');
    expect(await csvText()).toBe('id,y_true,y_pred,absolute_error\n');

    const result = await store.applyBatch([...pairs(0, 3), msg('y_true', 'lonely', 1)]);
    expect(result.counts).toEqual({ pending: 4, matched: 3, duplicate: 0, conflict: 0 });
    const [, ...rows] = await csvRecords();
    expect(rows).toEqual(
      range(0, 3).map((id) => [
        String(id),
        String(100 + id),
        String(id / 4),
        String(Math.abs(100 + id - id / 4)),
      ]),
    );
    expect(store.pendingCount()).toBe(1);
    expect(store.rowsWritten()).toBe(3);
    expect(store.csvBytes()).toBe((await stat(csvPath)).size);
    const labelLines = (await readFile(labelsPath, 'utf8')).trimEnd().split('\n');
    // One line per received message, then one per row written.
    expect(labelLines).toHaveLength(7 + 3);
    expect(labelLines[6]).toMatch(/ queue=y_true id="lonely" value=1$/);
    expect(labelLines[7]).toMatch(/ row id=0 y_true=100 y_pred=0 absolute_error=100$/);
  });

  it('joins a pair whose halves come in different batches, and within one batch ignores a repeated half', async () => {
    const store = await openStore();
    await store.applyBatch([msg('y_true', 'a', 1), msg('y_true', 'a', 1)]);
    const result = await store.applyBatch([
      msg('y_pred', 'a', 4),
      msg('y_true', 'a', 1),
      msg('y_true', 'a', 2),
    ]);
    expect(result.outcomes.map((o) => o.kind)).toEqual(['matched', 'duplicate', 'conflict']);
    expect((await csvRecords()).slice(1)).toEqual([['a', '1', '4', '3']]);
  });

  it('adds no row when a batch already written is delivered again', async () => {
    const store = await openStore();
    const batch = pairs(0, 5);
    await store.applyBatch(batch);
    const before = await csvText();
    const again = await store.applyBatch(batch);
    expect(again.counts.duplicate).toBe(batch.length);
    expect(again.rows).toEqual([]);
    expect(await csvText()).toBe(before);
  });

  it('fails for good when a COMMIT fails; the rows it wrote stay, and count as written after the restart', async () => {
    const store = await openStore();
    await store.applyBatch(pairs(0, 3));
    // Fail the next COMMIT (as a full disk or an I/O error would).
    const state = (store as unknown as { state: { commit(): void } }).state;
    state.commit = () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    const error = await store.applyBatch(pairs(3, 6)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MetricStoreError);
    expect((error as MetricStoreError).code).toBe('STATE_FAILED');
    expect((error as Error).message).toMatch(/disk is full.*restart the metric service/);
    await expect(store.failed).resolves.toBe(error);
    expect(() => store.join(msg('y_true', 'late', 1))).toThrow(error as Error);
    // The rows were written as their pairs completed, before the COMMIT.
    await expectEachOnce(range(0, 6));
    await crash(store);
    // Nothing of the failed group was acked, so its halves come again: they add no row.
    const reopened = await openStore();
    expect(reopened.recovery.action).toBe('import-tail');
    const again = await reopened.applyBatch(pairs(3, 6));
    expect(again.counts).toMatchObject({ duplicate: 6, matched: 0 });
    expect(reopened.pendingCount()).toBe(0);
    await expectEachOnce(range(0, 6));
  });

  it('fails for good when a statement fails mid-group, and after the restart writes each id once', async () => {
    const store = await openStore();
    await store.applyBatch(pairs(0, 2));
    const state = (store as unknown as { state: { markDone(...args: unknown[]): void } }).state;
    const markDone = state.markDone.bind(state);
    let calls = 0;
    state.markDone = (...args) => {
      calls += 1;
      if (calls === 3) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      markDone(...args);
    };
    const group = pairs(2, 8);
    let joined = 0;
    const error = (() => {
      try {
        for (const m of group) {
          store.join(m);
          joined += 1;
        }
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    expect((error as MetricStoreError).code).toBe('STATE_FAILED');
    expect(joined).toBe(5); // ids 2 and 3 joined, then id 4's second half failed
    await expect(store.commit()).rejects.toBe(error);
    await expectEachOnce(range(0, 4));
    await crash(store);
    const reopened = await openStore();
    expect(reopened.recovery.action).toBe('import-tail');
    await reopened.applyBatch(group);
    await expectEachOnce(range(0, 8));
    expect(reopened.pendingCount()).toBe(0);
  });

  it('writes a row as soon as its later half is joined; the labels and the durability come with the commit', async () => {
    const store = await openStore();
    const labelsAtOpen = await readFile(labelsPath, 'utf8');
    expect(store.join(msg('y_pred', 'a', 4)).kind).toBe('pending');
    expect((await csvRecords()).slice(1)).toEqual([]);
    const outcome = store.join(msg('y_true', 'a', 1));
    expect(outcome).toMatchObject({ kind: 'matched', row: { id: 'a', yTrue: 1, yPred: 4 } });
    expect((await csvRecords()).slice(1)).toEqual([['a', '1', '4', '3']]);
    expect(store.rowsWritten()).toBe(1);
    expect(store.csvBytes()).toBe((await stat(csvPath)).size);
    expect(await readFile(labelsPath, 'utf8')).toBe(labelsAtOpen);

    const state = (store as unknown as { state: { syncWal(): Promise<void> } }).state;
    const syncWal = state.syncWal.bind(state);
    let release!: () => void;
    // Held until the test lets it run (`release` is set when the sync is asked for).
    state.syncWal = () => new Promise<void>((r) => (release = r)).then(() => syncWal());
    let durable = false;
    const committed = store.commit().then(() => (durable = true));
    const labelLines = (await readFile(labelsPath, 'utf8')).slice(labelsAtOpen.length).trimEnd().split('\n');
    expect(labelLines).toHaveLength(3);
    expect(labelLines[2]).toMatch(/ row id="a" y_true=1 y_pred=4 absolute_error=3$/);
    // A commit with no group open waits for the last one.
    let alsoDurable = false;
    const nothingOpen = store.commit().then(() => (alsoDurable = true));
    await new Promise((r) => setTimeout(r, 30));
    expect([durable, alsoDurable]).toEqual([false, false]);
    state.syncWal = syncWal;
    release();
    await Promise.all([committed, nothingOpen]);
    expect([durable, alsoDurable]).toEqual([true, true]);
  });

  it('commits an open group on close, and expires halves inside one', async () => {
    let store = await openStore(NO_FILE_SYNC);
    store.join(msg('y_true', 'old', 1));
    await store.commit();
    for (const m of pairs(0, 2)) store.join(m);
    store.join(msg('y_true', 'waiting', 7));
    // Expiry runs between joins, inside the open group; only the half received long ago goes.
    const later = { ...msg('y_true', 'fresh', 2), receivedAt: T0 + 60_000 };
    store.join(later);
    expect(store.expire(T0 + 60_000, 30_000)).toBe(2);
    expect(store.pendingCount()).toBe(1);
    store = await reopen(store);
    expect(store.recovery.action).toBe('none');
    expect(store.pendingCount()).toBe(1);
    await expectEachOnce(range(0, 2));
    const result = await store.applyBatch([msg('y_pred', 'fresh', 3), msg('y_pred', 'waiting', 1)]);
    expect(result.outcomes.map((o) => o.kind)).toEqual(['matched', 'pending']);
  });

  it('takes the rows written by a group a crash caught before its COMMIT as written', async () => {
    const store = await openStore();
    await store.applyBatch(pairs(0, 2));
    for (const m of pairs(2, 5)) store.join(m);
    store.join(msg('y_true', 'half', 1));
    await crash(store); // the state as committed: without the open group
    const reopened = await openStore();
    expect(reopened.recovery.action).toBe('import-tail');
    expect(reopened.rowsWritten()).toBe(5);
    // Never acked, so every half of the group comes again; only the lone half is taken anew.
    const again = await reopened.applyBatch([...pairs(2, 5), msg('y_true', 'half', 1)]);
    expect(again.counts).toMatchObject({ duplicate: 6, pending: 1, matched: 0 });
    await expectEachOnce(range(0, 5));
  });

  it('resolves a batch (the caller then acks it) only after the state’s WAL is synced', async () => {
    const store = await openStore();
    const state = (store as unknown as { state: { syncWal(): Promise<void> } }).state;
    const syncWal = state.syncWal.bind(state);
    let release!: () => void;
    // Held until the test lets it run (`release` is set when the sync is asked for).
    state.syncWal = () => new Promise<void>((r) => (release = r)).then(() => syncWal());
    let resolved = false;
    const applied = store.applyBatch(pairs(0, 2)).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(resolved).toBe(false); // the rows may be in the file already, but nothing is acked yet
    state.syncWal = syncWal;
    release();
    await applied;
    expect(resolved).toBe(true);
  });

  it('applies the next batch while the one before waits for its sync, and resolves them in order', async () => {
    const store = await openStore();
    const state = (store as unknown as { state: { syncWal(): Promise<void> } }).state;
    const syncWal = state.syncWal.bind(state);
    // Each sync waits for the test's go before it runs.
    const held: Array<() => void> = [];
    state.syncWal = () => new Promise<void>((r, j) => held.push(() => syncWal().then(r, j)));
    try {
      const order: number[] = [];
      const first = store.applyBatch(pairs(0, 2)).then(() => order.push(1));
      const second = store.applyBatch(pairs(2, 4)).then(() => order.push(2));
      // Both batches are applied and in the file while the first sync has not even run.
      await expectEachOnce(range(0, 4));
      expect(held).toHaveLength(1);
      held.shift()!(); // it started before the second batch's commit, so it covers only the first
      await first;
      expect(order).toEqual([1]);
      while (held.length === 0) await new Promise((r) => setImmediate(r));
      held.shift()!(); // the second batch's own sync
      await second;
      expect(order).toEqual([1, 2]);
    } finally {
      state.syncWal = syncWal;
      for (const go of held.splice(0)) go();
    }
  });

  it('fails for good when a disk sync fails, naming the fix', async () => {
    const store = await openStore();
    const state = (store as unknown as { state: { syncWal(): Promise<void> } }).state;
    const syncWal = state.syncWal.bind(state);
    state.syncWal = () =>
      Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const error = await store.applyBatch(pairs(0, 2)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MetricStoreError);
    expect((error as MetricStoreError).code).toBe('SYNC_FAILED');
    expect((error as Error).message).toMatch(/EIO.*restart the metric service/);
    await expect(store.failed).resolves.toBe(error);
    state.syncWal = syncWal;
    await expect(store.applyBatch(pairs(2, 4))).rejects.toBe(error);
  });

  it('acks nothing committed while a sync failed, even after a later sync succeeds', async () => {
    const store = await openStore();
    const state = (store as unknown as { state: { syncWal(): Promise<void> } }).state;
    const syncWal = state.syncWal.bind(state);
    let failFirst!: (err: unknown) => void;
    let calls = 0;
    // The first sync fails once the test says so; the next one (covering the second batch) succeeds.
    state.syncWal = () =>
      ++calls === 1 ? new Promise<void>((_, reject) => (failFirst = reject)) : syncWal();
    const first = store.applyBatch(pairs(0, 2)).catch((err: unknown) => err);
    const second = store.applyBatch(pairs(2, 4)).then(
      () => 'acked',
      (err: unknown) => err,
    );
    failFirst(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const error = await first;
    expect((error as MetricStoreError).code).toBe('SYNC_FAILED');
    expect(await second).toBe(error);
    expect(calls).toBe(2); // the second batch's sync ran, and proved nothing
    state.syncWal = syncWal;
  });

  it('with syncs paced, close waits for the paced sync of an open group, and leaves no timer', async () => {
    const store = await openStore({ ...NO_FILE_SYNC, walSyncIntervalMs: 200 });
    const state = (store as unknown as { state: { syncWal(): Promise<void>; close(): void } }).state;
    const syncWal = state.syncWal.bind(state);
    const close = state.close.bind(state);
    const events: string[] = [];
    state.syncWal = () => syncWal().then(() => void events.push('sync'));
    state.close = () => {
      events.push('state closed');
      close();
    };
    await store.applyBatch(pairs(0, 2)); // the first sync starts at once
    let acked = false;
    const second = store.applyBatch(pairs(2, 4)).then(() => (acked = true));
    store.join(msg('y_true', 'open', 1)); // a group still open at close
    await new Promise((r) => setTimeout(r, 50));
    expect(acked).toBe(false); // paced: the next sync may start 200 ms after the first
    const started = performance.now();
    await store.close();
    await second;
    expect(performance.now() - started).toBeGreaterThan(100);
    expect(events.indexOf('state closed')).toBe(events.length - 1);
    expect(events.filter((e) => e === 'sync').length).toBeGreaterThanOrEqual(3);
    const reopened = await openStore();
    expect(reopened.recovery.action).toBe('none');
    expect(reopened.pendingCount()).toBe(1);
    await expectEachOnce(range(0, 4));
  });

  it('fails for good when a row’s write fails (a full disk); after the restart each id is written once', async () => {
    const store = await openStore();
    await store.applyBatch(pairs(0, 2));
    const csv = (store as unknown as { csv: { writeAtSync(data: Buffer, at: number): void } }).csv;
    const writeAtSync = csv.writeAtSync.bind(csv);
    let writes = 0;
    csv.writeAtSync = (data, at) => {
      if (++writes < 2) return writeAtSync(data, at);
      writeAtSync(data.subarray(0, 7), at); // part of it got in, then the disk was full
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const error = await store.applyBatch(pairs(2, 5)).catch((err: unknown) => err);
    expect((error as MetricStoreError).code).toBe('WRITE_FAILED');
    expect((error as Error).message).toMatch(/metric_log\.csv failed \(Error: ENOSPC.*free space first/);
    await expect(store.commit()).rejects.toBe(error);
    await crash(store);
    const reopened = await openStore();
    expect(reopened.recovery).toMatchObject({ action: 'import-tail', cutBytes: 7, importedRows: 1 });
    // Nothing of the failed group was acked: all of it comes again.
    await reopened.applyBatch(pairs(2, 5));
    await expectEachOnce(range(0, 5));
    expect(reopened.pendingCount()).toBe(0);
  });

  it('fails for good when the labels write of a commit fails; start-up writes the lines the state kept', async () => {
    const store = await openStore(NO_FILE_SYNC);
    await store.applyBatch(pairs(0, 2));
    const labels = (store as unknown as { labels: { appendSync(data: Buffer): void } }).labels;
    const appendSync = labels.appendSync.bind(labels);
    labels.appendSync = (data) => {
      appendSync(data.subarray(0, 5));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const error = await store.applyBatch(pairs(2, 4)).catch((err: unknown) => err);
    expect((error as MetricStoreError).code).toBe('WRITE_FAILED');
    expect((error as Error).message).toMatch(/labels_log\.txt failed/);
    // A commit with no group open (halves joined before the failed one) is refused too: nothing more is acked.
    await expect(store.commit()).rejects.toBe(error);
    await crash(store);
    const reopened = await openStore();
    expect(reopened.recovery.action).toBe('none'); // the group was committed: its rows are in the state
    const lines = (await readFile(labelsPath, 'utf8')).trimEnd().split('\n');
    expect(lines.filter((l) => / row id=/.test(l))).toHaveLength(4);
    expect(lines).toHaveLength(3 * 4);
    await expectEachOnce(range(0, 4));
  });

  it('keeps the text of batches its files have not synced yet, and writes it again after a crash lost it', async () => {
    const store = await openStore(NO_FILE_SYNC);
    const csvAtOpen = store.csvBytes();
    const labelsAtOpen = (await stat(labelsPath)).size;
    await store.applyBatch(pairs(0, 3));
    await store.applyBatch([...pairs(3, 5), msg('y_true', 'lonely', 1)]);
    const csvBefore = await csvText();
    const labelsBefore = await readFile(labelsPath, 'utf8');
    await crash(store);
    // A power cut: what was never synced is gone from the files (the state's WAL was synced before the acks).
    await truncate(csvPath, csvAtOpen);
    await truncate(labelsPath, labelsAtOpen);
    const reopened = await openStore();
    expect(reopened.recovery.action).toBe('rewrite-unsynced');
    expect(await csvText()).toBe(csvBefore);
    expect(await readFile(labelsPath, 'utf8')).toBe(labelsBefore);
    expect(reopened.pendingCount()).toBe(1);
  });

  it('drops the kept text once the files are synced past it', async () => {
    const store = await openStore({ fileSyncMs: 0 });
    const state = (store as unknown as { state: { readCheckpoint(): { unsyncedText: string } } }).state;
    await store.applyBatch(pairs(0, 3));
    await new Promise((r) => setTimeout(r, 50)); // the file sync runs and lands
    await store.applyBatch(pairs(3, 4));
    expect(state.readCheckpoint().unsyncedText).toBe('3,103,0.75,102.25\n');
  });

  it('leaves nothing to repair after a clean stop', async () => {
    let store = await openStore(NO_FILE_SYNC);
    await store.applyBatch(pairs(0, 3));
    store = await reopen(store);
    expect(store.recovery.action).toBe('none');
    const state = (store as unknown as { state: { readCheckpoint(): { unsyncedText: string } } }).state;
    expect(state.readCheckpoint().unsyncedText).toBe('');
  });

  it('takes the rows of a batch written before a crash cut its commit short as written', async () => {
    let store = await openStore();
    await store.applyBatch(pairs(0, 2));
    await store.close();
    // What the file holds when the process dies after the batch's write and before its COMMIT.
    const ahead = '2,102,0.5,101.5\n3,103,0.75,102.25\n';
    await writeFile(csvPath, (await csvText()) + ahead);
    store = await openStore();
    expect(store.recovery.action).toBe('import-tail');
    expect(store.rowsWritten()).toBe(4);
    // The unacked halves come again and add nothing.
    const again = await store.applyBatch(pairs(2, 4));
    expect(again.rows).toEqual([]);
    expect(store.pendingCount()).toBe(0);
    await expectEachOnce(range(0, 4));
  });

  it('makes the CSV durable at start before the state records anything about the rows past its checkpoint', async () => {
    const store = await openStore();
    await store.applyBatch(pairs(0, 2));
    for (const m of pairs(2, 4)) store.join(m);
    await crash(store);
    // A power cut during start-up must not keep the ids while losing the rows: the sync comes first.
    const order: string[] = [];
    const datasync = PositionalFile.prototype.datasync;
    const importDone = SqliteJoinStore.prototype.importDone;
    const writeCheckpoint = SqliteJoinStore.prototype.writeCheckpoint;
    const spies = [
      vi.spyOn(PositionalFile.prototype, 'datasync').mockImplementation(function (this: PositionalFile) {
        if (this.path === csvPath) order.push('csv synced');
        return datasync.call(this);
      }),
      vi.spyOn(SqliteJoinStore.prototype, 'importDone').mockImplementation(function (
        this: SqliteJoinStore,
        rows,
      ) {
        order.push('ids imported');
        importDone.call(this, rows);
      }),
      vi.spyOn(SqliteJoinStore.prototype, 'writeCheckpoint').mockImplementation(function (
        this: SqliteJoinStore,
        cp,
      ) {
        order.push('checkpoint');
        writeCheckpoint.call(this, cp);
      }),
    ];
    try {
      const reopened = await openStore();
      expect(reopened.recovery.action).toBe('import-tail');
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(order.slice(0, 3)).toEqual(['csv synced', 'ids imported', 'checkpoint']);
  });

  it('writes again at start what the files hold past their last sync, and syncs it before the state records it (a failed sync may have left it in the page cache only)', async () => {
    const store = await openStore(NO_FILE_SYNC);
    const csvSynced = store.csvBytes();
    const labelsSynced = (await stat(labelsPath)).size;
    await store.applyBatch(pairs(0, 3));
    for (const m of pairs(3, 4)) store.join(m); // a group a crash cuts short: its row is past the checkpoint
    // The lines the state keeps for labels_log.txt end here (an open group's lines are appended at its commit).
    const labelsKeptEnd = (await stat(labelsPath)).size;
    await crash(store);
    const csvBytes = await readFile(csvPath);
    const labelsBytes = await readFile(labelsPath);
    // Nothing is lost, so there is nothing to repair; but only a write dirties the pages, and only dirty
    // pages are written by a sync. Every write, sync and state update, in order:
    type Event =
      | { kind: 'write'; file: string; at: number; bytes: Buffer }
      | { kind: 'sync'; file: string }
      | { kind: 'state'; what: string };
    const events: Event[] = [];
    const writeAtSync = PositionalFile.prototype.writeAtSync;
    const datasync = PositionalFile.prototype.datasync;
    const appendDatasync = AppendFile.prototype.datasync;
    const spies = [
      vi.spyOn(PositionalFile.prototype, 'writeAtSync').mockImplementation(function (
        this: PositionalFile,
        data,
        at,
      ) {
        events.push({ kind: 'write', file: this.path, at, bytes: Buffer.from(data) });
        writeAtSync.call(this, data, at);
      }),
      vi.spyOn(PositionalFile.prototype, 'datasync').mockImplementation(function (this: PositionalFile) {
        events.push({ kind: 'sync', file: this.path });
        return datasync.call(this);
      }),
      vi.spyOn(AppendFile.prototype, 'datasync').mockImplementation(function (this: AppendFile) {
        events.push({ kind: 'sync', file: this.path });
        return appendDatasync.call(this);
      }),
      ...(['importDone', 'writeCheckpoint', 'markLogsSynced'] as const).map((what) => {
        const original = SqliteJoinStore.prototype[what] as (...args: unknown[]) => unknown;
        return vi.spyOn(SqliteJoinStore.prototype, what).mockImplementation(function (
          this: SqliteJoinStore,
          ...args: unknown[]
        ) {
          events.push({ kind: 'state', what });
          return original.apply(this, args) as never;
        });
      }),
    ];
    try {
      const reopened = await openStore();
      expect(reopened.recovery.action).toBe('import-tail');
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    /** The bytes the writes to `file` before event `until` put in [from, to), which must all be covered. */
    const rewritten = (file: string, from: number, to: number, until: number): Buffer => {
      const out = Buffer.alloc(to - from);
      const covered = new Array<boolean>(to - from).fill(false);
      for (const e of events.slice(0, until)) {
        if (e.kind !== 'write' || e.file !== file) continue;
        for (let i = 0; i < e.bytes.length; i++) {
          const at = e.at + i - from;
          if (at < 0 || at >= out.length) continue;
          out[at] = e.bytes[i]!;
          covered[at] = true;
        }
      }
      expect(covered.every(Boolean), `${file}: every byte in [${from}, ${to}) written again`).toBe(true);
      return out;
    };
    const firstSync = (file: string) => events.findIndex((e) => e.kind === 'sync' && e.file === file);
    const firstState = events.findIndex((e) => e.kind === 'state');
    // The CSV: everything past the checkpoint, its own bytes, before its first sync, which comes before the
    // state records anything (the rows past the checkpoint are imported as written).
    const csvSync = firstSync(csvPath);
    expect(rewritten(csvPath, csvSynced, csvBytes.length, csvSync)).toEqual(csvBytes.subarray(csvSynced));
    expect(csvSync).toBeLessThan(firstState);
    // labels_log.txt: the lines the state kept, before the sync that start-up makes before it forgets them.
    const labelsForgotten = events.findIndex((e) => e.kind === 'state' && e.what === 'markLogsSynced');
    const labelsSync = events.findIndex((e) => e.kind === 'sync' && e.file === labelsPath);
    expect(labelsSync).toBeLessThan(labelsForgotten);
    expect(labelsSync).toBeGreaterThanOrEqual(0);
    expect(rewritten(labelsPath, labelsSynced, labelsKeptEnd, labelsSync)).toEqual(
      labelsBytes.subarray(labelsSynced, labelsKeptEnd),
    );
    await expectEachOnce(range(0, 4));
  });

  it('cuts the rows past the checkpoint at a hole of NUL bytes a power cut left, and imports those before it', async () => {
    let store = await openStore();
    await store.applyBatch(pairs(0, 2));
    await store.close();
    // The file's size reached the disk, but a page in the middle of the group's rows did not.
    const tail = '2,102,0.5,101.5\n3,10' + '\0'.repeat(40) + '.25,104,1,103\n5,105,1.25,103.75\n';
    await writeFile(csvPath, (await csvText()) + tail);
    store = await openStore();
    expect(store.recovery).toMatchObject({ action: 'import-tail', importedRows: 1 });
    expect(warnings.some((w) => /hole of NUL bytes/.test(w))).toBe(true);
    expect(await csvText()).not.toContain('\0');
    // None of the tail was acked: its halves come again, and each id gets one row.
    await store.applyBatch(pairs(2, 6));
    await expectEachOnce(range(0, 6));
  });

  it('reopens after a clean stop without touching the CSV, and joins halves left pending', async () => {
    let store = await openStore();
    await store.applyBatch([...pairs(0, 4), msg('y_pred', 9, 2)]);
    const before = await csvText();
    store = await reopen(store);
    expect(store.recovery.action).toBe('none');
    expect(await csvText()).toBe(before);
    expect(store.pendingCount()).toBe(1);
    await store.applyBatch([msg('y_true', 9, 5), ...pairs(0, 4)]);
    await expectEachOnce([...range(0, 4), 9]);
    expect(store.rowsWritten()).toBe(5);
    expect(warnings).toEqual([]);
  });

  describe('after a crash that kept text not yet synced from the CSV', () => {
    // The first batch's text is synced, the second's is not, and the crash kept (some of) it from the disk.
    async function crashDuringSecondBatch(cutAt: (offsetBefore: number, offsetAfter: number) => number) {
      const store = await openStore(NO_FILE_SYNC);
      await store.applyBatch(pairs(0, 3));
      await store.syncFiles();
      const offsetBefore = store.csvBytes();
      await store.applyBatch(pairs(3, 6));
      const offsetAfter = store.csvBytes();
      await crash(store);
      await truncate(csvPath, cutAt(offsetBefore, offsetAfter));
      return { offsetBefore, offsetAfter };
    }

    it('rewrites the batch when none of it reached the file', async () => {
      await crashDuringSecondBatch((before) => before);
      const store = await openStore();
      expect(store.recovery.action).toBe('rewrite-unsynced');
      await expectEachOnce(range(0, 6));
      // RabbitMQ redelivers the unacked batch: every half is recognised, no row is added.
      const redelivered = await store.applyBatch(pairs(3, 6));
      expect(redelivered.counts.duplicate).toBe(6);
      await expectEachOnce(range(0, 6));
    });

    it('cuts a half-written line and rewrites the batch', async () => {
      const { offsetBefore } = await crashDuringSecondBatch((before) => before + 3);
      expect((await stat(csvPath)).size).toBe(offsetBefore + 3);
      const store = await openStore();
      expect(store.recovery.cutBytes).toBe(3);
      expect(store.recovery.action).toBe('rewrite-unsynced');
      await expectEachOnce(range(0, 6));
      expect(store.csvBytes()).toBe((await stat(csvPath)).size);
    });

    it('rewrites a batch that reached the file only partly, ending on a line boundary', async () => {
      await crashDuringSecondBatch((before, after) => {
        expect(after - before).toBeGreaterThan(12);
        return before;
      });
      // Put back just the first line of the batch, as if the crash came after it.
      const line = '3,103,0.75,102.25\n';
      await writeFile(csvPath, line, { flag: 'a' });
      const store = await openStore();
      expect(store.recovery.action).toBe('rewrite-unsynced');
      await expectEachOnce(range(0, 6));
    });

    it('rewrites a batch whose bytes on disk are garbage (a power cut after the size grew)', async () => {
      const { offsetBefore, offsetAfter } = await crashDuringSecondBatch((_, after) => after);
      const handle = await openFile(csvPath, 'r+');
      await handle.write(Buffer.alloc(offsetAfter - offsetBefore - 1, 0), 0, undefined, offsetBefore);
      await handle.close();
      const store = await openStore();
      expect(store.recovery.action).toBe('rewrite-unsynced');
      await expectEachOnce(range(0, 6));
    });
  });

  it('repairs a CSV with a cut last line and no state (written by the Python service), and continues it', async () => {
    const python =
      'id,y_true,y_pred,absolute_error\r\n' +
      '1700000000.5,151.0,140.5,10.5\r\n' +
      'abc,75.0,80.0,5.0\r\n' +
      '1700000001.25,12';
    await writeFile(csvPath, python);
    const store = await openStore();
    expect(store.recovery).toMatchObject({
      action: 'import-all',
      importedRows: 2,
      cutBytes: '1700000001.25,12'.length,
    });
    expect(store.rowsWritten()).toBe(2);

    const result = await store.applyBatch([
      msg('y_true', 1700000000.5, 151),
      msg('y_pred', 'abc', 80),
      msg('y_pred', 1700000001.25, 13),
      msg('y_true', 1700000001.25, 12),
    ]);
    expect(result.outcomes.map((o) => o.kind)).toEqual(['duplicate', 'duplicate', 'pending', 'matched']);
    expect(await csvText()).toBe(
      'id,y_true,y_pred,absolute_error\r\n' +
        '1700000000.5,151.0,140.5,10.5\r\n' +
        'abc,75.0,80.0,5.0\r\n' +
        '1700000001.25,12,13,1\r\n',
    );
  });

  it('imports the ids of the CSV once when the state file was deleted', async () => {
    let store = await openStore();
    await store.applyBatch(pairs(0, 4));
    await store.close();
    await rm(statePath);
    store = await openStore();
    expect(store.recovery).toMatchObject({ action: 'import-all', importedRows: 4 });
    const again = await store.applyBatch(pairs(0, 4));
    expect(again.counts.duplicate).toBe(8);
    await expectEachOnce(range(0, 4));
  });

  it('starts over, forgetting written ids, when the user removed the CSV', async () => {
    let store = await openStore();
    await store.applyBatch(pairs(0, 2));
    await store.close();
    await rm(csvPath);
    store = await openStore();
    expect(store.recovery.action).toBe('create');
    expect(warnings.join('\n')).toMatch(/missing or empty but rows were written before/);
    await store.applyBatch(pairs(0, 2));
    await expectEachOnce([0, 1]);
    expect(store.rowsWritten()).toBe(2);
  });

  it('takes complete rows another writer appended as written, and cuts its unfinished line', async () => {
    let store = await openStore();
    await store.applyBatch(pairs(0, 2));
    await store.close();
    await writeFile(csvPath, '"x,1",1,2,1\n77,5,5,0\n78,1', { flag: 'a' });
    store = await openStore();
    expect(store.recovery).toMatchObject({ action: 'import-tail', importedRows: 2, cutBytes: 4 });
    expect(store.rowsWritten()).toBe(4);
    const result = await store.applyBatch([msg('y_true', 'x,1', 1), msg('y_pred', 77, 5), ...pairs(78, 79)]);
    expect(result.outcomes.map((o) => o.kind)).toEqual(['duplicate', 'duplicate', 'pending', 'matched']);
    const counts = await idCounts();
    expect([...counts.entries()].sort()).toEqual([
      ['0', 1],
      ['1', 1],
      ['77', 1],
      ['78', 1],
      ['x,1', 1],
    ]);
  });

  it('keeps what is left of a CSV someone cut short and appends the text not yet synced after it', async () => {
    let store = await openStore(NO_FILE_SYNC);
    await store.applyBatch(pairs(0, 3));
    await store.syncFiles();
    const afterFirst = store.csvBytes();
    await store.applyBatch(pairs(3, 5));
    await crash(store);
    const lines = (await csvText()).split('\n');
    // Someone kept the header and the first row only.
    await writeFile(csvPath, `${lines[0]}\n${lines[1]}\n`);
    expect((await stat(csvPath)).size).toBeLessThan(afterFirst);
    store = await openStore();
    expect(store.recovery.action).toBe('append-unsynced');
    await expectEachOnce([0, 3, 4]);
    expect(store.rowsWritten()).toBe(3);
    expect(store.csvBytes()).toBe((await stat(csvPath)).size);
    // Ids whose rows were lost are still known as written: a redelivery does not bring them back twice.
    expect((await store.applyBatch(pairs(1, 2))).counts.duplicate).toBe(2);
  });

  it('refuses a CSV that is not a metric log, naming the fix', async () => {
    await writeFile(csvPath, 'time,value\n1,2\n');
    const error = await openStore().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MetricStoreError);
    expect((error as MetricStoreError).code).toBe('CSV_UNUSABLE');
    expect((error as Error).message).toMatch(/not the header id,y_true,y_pred,absolute_error.*move it away/);
    // The failed open released the state file.
    await rm(csvPath);
    await expect(openStore()).resolves.toBeInstanceOf(MetricStore);
  });

  it('refuses to import a CSV whose rows are not valid CSV', async () => {
    await writeFile(csvPath, 'id,y_true,y_pred,absolute_error\n1,2,3,1\n"open quote,1,2,1\n');
    const error = await openStore().catch((err: unknown) => err);
    expect((error as MetricStoreError).code).toBe('CSV_UNUSABLE');
    expect((error as Error).message).toMatch(/is not valid CSV/);
  });

  it('appends the label lines a crash kept from the disk to a labels_log.txt someone cut meanwhile', async () => {
    let store = await openStore(NO_FILE_SYNC);
    await store.applyBatch(pairs(0, 1));
    await store.syncFiles();
    await store.applyBatch([msg('y_true', 'late', 7)]);
    await crash(store);
    await writeFile(labelsPath, 'rotated\n');
    store = await openStore();
    const lines = (await readFile(labelsPath, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('rotated');
    expect(lines[1]).toMatch(/ queue=y_true id="late" value=7$/);
    expect(warnings.join('\n')).toMatch(
      /labels_log.txt is 8 bytes, shorter than the \d+ bytes known to be on disk.*appending the 1 line a crash/,
    );
  });

  it('cuts an unterminated last line of labels_log.txt', async () => {
    await writeFile(labelsPath, 'line one\nhalf a li');
    const store = await openStore();
    await store.applyBatch([msg('y_true', 1, 1)]);
    const lines = (await readFile(labelsPath, 'utf8')).split('\n');
    expect(lines[0]).toBe('line one');
    expect(lines[1]).toMatch(/queue=y_true id=1 value=1$/);
    expect(lines).toHaveLength(3);
  });

  it('runs concurrent applyBatch calls one after another', async () => {
    const store = await openStore();
    const results = await Promise.all([
      store.applyBatch(pairs(0, 10)),
      store.applyBatch(pairs(10, 20)),
      store.applyBatch(pairs(0, 20)),
    ]);
    expect(results.map((r) => r.counts.matched)).toEqual([10, 10, 0]);
    await expectEachOnce(range(0, 20));
    expect(store.csvBytes()).toBe((await stat(csvPath)).size);
  });
});
