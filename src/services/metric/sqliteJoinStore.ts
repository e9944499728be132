// The join's durable state in SQLite (metric_state.sqlite): unmatched halves, written ids, and the CSV checkpoint.
import { closeSync, fdatasync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { MetricStoreError } from './errors.js';
import type { DoneRecord, JoinStore, LabelQueue, PendingHalf } from './join.js';
import type { RecordDelimiter } from './metricCsv.js';

export const STATE_FILE_NAME = 'metric_state.sqlite';
const fdatasyncAsync = promisify(fdatasync);
/** 1: one batch's CSV text in `meta`. 2: the text of every batch not yet synced in the files, in `log_tail`. */
const SCHEMA_VERSION = 2;

/**
 * metric_log.csv as the state knows it, committed with each batch's join changes: where it ends, and the
 * text at its end that may not be on disk yet (every batch since the file was last synced), enough to
 * redo those writes after a crash, whatever part of them reached the disk.
 */
export interface CsvCheckpoint {
  /** Where the text not known to be on disk starts; the file is durable up to here. */
  offsetBefore: number;
  /** That text, exactly (the header, for a new file); '' when the whole file is on disk. */
  unsyncedText: string;
  /** The file's size once that text is written: `offsetBefore + byteLength(unsyncedText)`. */
  offsetAfter: number;
  /** Data rows in the file once that text is written. */
  rows: number;
  recordDelimiter: RecordDelimiter;
}

/** labels_log.txt as the state knows it: like CsvCheckpoint, for the receipt log. */
export interface LabelsCheckpoint {
  offsetBefore: number;
  text: string;
  offsetAfter: number;
}

/** What one batch adds to the two logs; its text is kept until the files are synced past it. */
export interface BatchText {
  csv: { offset: number; text: string; rows: number } | undefined;
  labels: { offset: number; text: string };
}

export type LogFileName = 'csv' | 'labels';

/** An id found in an existing CSV: every key it may stand for, and its values for conflict checks. */
export interface ImportedRow {
  keys: readonly string[];
  yTrue: number | null;
  yPred: number | null;
}

export interface SqliteJoinStoreOptions {
  /** SQLite page cache; the tables live on disk, so a million pending halves cost disk, not memory. */
  cacheKiB?: number;
  /** How long to wait for another process to release the state file before failing. */
  lockTimeoutMs?: number;
}

const DEFAULT_OPTS: Required<SqliteJoinStoreOptions> = { cacheKiB: 16 * 1024, lockTimeoutMs: 5000 };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pending (
  key TEXT PRIMARY KEY,
  queue TEXT NOT NULL CHECK (queue IN ('y_true', 'y_pred')),
  value REAL NOT NULL,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pending_received_at ON pending (received_at);
CREATE TABLE IF NOT EXISTS done (key TEXT PRIMARY KEY, y_true REAL, y_pred REAL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_tail (
  seq INTEGER PRIMARY KEY,
  file TEXT NOT NULL CHECK (file IN ('csv', 'labels')),
  offset INTEGER NOT NULL,
  end_offset INTEGER NOT NULL,
  text TEXT NOT NULL
);
`;

/** Bytes `text` takes in a UTF-8 file. */
export const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

interface PendingRow {
  queue: LabelQueue;
  value: number;
  received_at: number;
}

interface DoneRow {
  y_true: number | null;
  y_pred: number | null;
}

type Statement = Database.Statement<unknown[], unknown>;

/** Schema 1 kept one batch's CSV text in `meta`; it becomes the CSV's kept text (labels were synced at once then). */
function migrateFromVersion1(db: Database.Database): void {
  const get = (k: string): unknown =>
    (db.prepare('SELECT v FROM meta WHERE k = ?').get(k) as { v: unknown } | undefined)?.v;
  const offsetBefore = get('csv_offset_before');
  const unsyncedText = get('batch_text');
  const offsetAfter = get('csv_offset_after');
  if (
    typeof offsetBefore === 'number' &&
    typeof unsyncedText === 'string' &&
    typeof offsetAfter === 'number' &&
    unsyncedText !== ''
  ) {
    db.prepare('INSERT INTO log_tail (file, offset, end_offset, text) VALUES (?, ?, ?, ?)').run(
      'csv',
      offsetBefore,
      offsetAfter,
      unsyncedText,
    );
  }
  db.prepare("DELETE FROM meta WHERE k IN ('csv_offset_before', 'batch_text')").run();
}

/**
 * The pending half's id is not stored apart: the key is `idKey(id)`, i.e. the id's JSON, so
 * `JSON.parse(key)` gives it back exactly. Call the JoinStore methods inside `transaction()`.
 */
export class SqliteJoinStore implements JoinStore {
  private pendingRows: number;
  /** better-sqlite3's wrapper, built once: `db.transaction(fn)` builds four wrapper functions per call. */
  private readonly runInTransaction: (fn: () => unknown) => unknown;
  private readonly stmts: Record<
    | 'getPending'
    | 'putPending'
    | 'deletePending'
    | 'getDone'
    | 'markDone'
    | 'importDone'
    | 'expire'
    | 'countPending'
    | 'anyDone'
    | 'clearDone'
    | 'getMeta'
    | 'setMeta'
    | 'addText'
    | 'readText'
    | 'forgetText'
    | 'clearText'
    | 'begin'
    | 'commit'
    | 'rollback',
    Statement
  >;

  private constructor(
    private readonly db: Database.Database,
    /** The WAL file, for `syncWal`. */
    private walFd: number | undefined,
  ) {
    this.stmts = {
      getPending: db.prepare('SELECT queue, value, received_at FROM pending WHERE key = ?'),
      putPending: db.prepare('INSERT INTO pending (key, queue, value, received_at) VALUES (?, ?, ?, ?)'),
      deletePending: db.prepare('DELETE FROM pending WHERE key = ?'),
      getDone: db.prepare('SELECT y_true, y_pred FROM done WHERE key = ?'),
      markDone: db.prepare('INSERT INTO done (key, y_true, y_pred) VALUES (?, ?, ?)'),
      importDone: db.prepare('INSERT OR IGNORE INTO done (key, y_true, y_pred) VALUES (?, ?, ?)'),
      expire: db.prepare(
        'DELETE FROM pending WHERE key IN (SELECT key FROM pending WHERE received_at < ? ORDER BY received_at LIMIT ?)',
      ),
      countPending: db.prepare('SELECT count(*) AS n FROM pending'),
      anyDone: db.prepare('SELECT 1 AS one FROM done LIMIT 1'),
      clearDone: db.prepare('DELETE FROM done'),
      getMeta: db.prepare('SELECT v FROM meta WHERE k = ?'),
      setMeta: db.prepare(
        'INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v',
      ),
      addText: db.prepare('INSERT INTO log_tail (file, offset, end_offset, text) VALUES (?, ?, ?, ?)'),
      readText: db.prepare('SELECT offset, end_offset, text FROM log_tail WHERE file = ? ORDER BY seq'),
      forgetText: db.prepare('DELETE FROM log_tail WHERE file = ? AND end_offset <= ?'),
      clearText: db.prepare('DELETE FROM log_tail WHERE file = ?'),
      begin: db.prepare('BEGIN'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
    };
    this.pendingRows = this.countPendingRows();
    this.runInTransaction = db.transaction((fn: () => unknown) => fn());
  }

  /** Opens (creating if needed) the state file and takes it for this process alone until close(). */
  static open(path: string, options: SqliteJoinStoreOptions = {}): SqliteJoinStore {
    const opts = { ...DEFAULT_OPTS, ...options };
    const db = new Database(path, { timeout: opts.lockTimeoutMs });
    try {
      // EXCLUSIVE before WAL: the lock is held for the connection's life (a second service on the
      // same logs dir fails here instead of interleaving rows), and the WAL index stays in memory.
      db.pragma('locking_mode = EXCLUSIVE');
      const wal = db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
      // NORMAL: a COMMIT writes the WAL without syncing it, so it never blocks the event loop on the disk;
      // what an ack depends on is made durable by `syncWal`, on libuv's threads, before the ack.
      db.pragma(wal ? 'synchronous = NORMAL' : 'synchronous = FULL');
      db.pragma(`cache_size = ${-Math.max(1024, Math.floor(opts.cacheKiB))}`);
      db.pragma('mmap_size = 0');
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      db.exec(SCHEMA);
      const version = db.prepare('SELECT v FROM meta WHERE k = ?').get('schema_version') as
        { v: number } | undefined;
      if (version && version.v > SCHEMA_VERSION) {
        throw new MetricStoreError(
          'STATE_TOO_NEW',
          `${path} has schema version ${version.v}, newer than this predstream understands (${SCHEMA_VERSION}): upgrade predstream, or move the file away to start with an empty join state`,
        );
      }
      // A write now takes the exclusive lock at once rather than at the first batch.
      db.transaction(() => {
        if (version?.v === 1) migrateFromVersion1(db);
        db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)').run('schema_version', SCHEMA_VERSION);
      })();
      // The last run may have stopped because a sync of the WAL failed, leaving frames in the page cache
      // only, marked clean, so that no later sync would write them. A checkpoint copies every frame into the
      // database file and syncs that (synchronous = NORMAL does), then empties the WAL.
      if (wal) db.pragma('wal_checkpoint(TRUNCATE)');
      // The WAL exists now, and in EXCLUSIVE mode it keeps its inode until close (a checkpoint only cuts it).
      return new SqliteJoinStore(db, wal ? openSync(`${path}-wal`, 'r') : undefined);
    } catch (err) {
      db.close();
      if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
        throw new MetricStoreError(
          'STATE_LOCKED',
          `${path} is in use by another process (is another metric service running on the same logs directory?): stop it, or give this one its own logs directory`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** Runs `fn` in one transaction: all of it is committed or none; durable once `syncWal` resolves. */
  transaction<T>(fn: () => T): T {
    try {
      return this.runInTransaction(fn) as T;
    } catch (err) {
      // The rollback undid rows the in-memory count already included.
      this.pendingRows = this.countPendingRows();
      throw err;
    }
  }

  /**
   * Opens a transaction that stays open across calls (and turns of the event loop) until `commit` or
   * `rollback`; `transaction()` inside it becomes a savepoint of it.
   */
  begin(): void {
    this.stmts.begin.run();
  }

  /** Commits what `begin` opened; durable once `syncWal` resolves. */
  commit(): void {
    this.stmts.commit.run();
  }

  /** Undoes what `begin` opened, if it is still open (SQLite rolls back by itself after some errors). */
  rollback(): void {
    if (this.db.inTransaction) this.stmts.rollback.run();
    this.pendingRows = this.countPendingRows();
  }

  getPending(key: string): PendingHalf | undefined {
    const row = this.stmts.getPending.get(key) as PendingRow | undefined;
    if (!row) return undefined;
    return {
      id: JSON.parse(key) as number | string,
      queue: row.queue,
      value: row.value,
      receivedAt: row.received_at,
    };
  }

  putPending(key: string, half: PendingHalf): void {
    this.stmts.putPending.run(key, half.queue, half.value, half.receivedAt);
    this.pendingRows += 1;
  }

  deletePending(key: string): void {
    this.pendingRows -= this.stmts.deletePending.run(key).changes;
  }

  getDone(key: string): DoneRecord | undefined {
    const row = this.stmts.getDone.get(key) as DoneRow | undefined;
    return row ? { yTrue: row.y_true, yPred: row.y_pred } : undefined;
  }

  markDone(key: string, record: DoneRecord): void {
    this.stmts.markDone.run(key, record.yTrue, record.yPred);
  }

  deletePendingOlderThan(cutoff: number, limit: number): number {
    const sqlLimit = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : -1;
    const removed = this.transaction(() => this.stmts.expire.run(cutoff, sqlLimit).changes);
    this.pendingRows -= removed;
    return removed;
  }

  pendingCount(): number {
    return this.pendingRows;
  }

  /** Marks ids found in an existing CSV as written (idempotent), dropping any half still pending for them. */
  importDone(rows: readonly ImportedRow[]): void {
    this.transaction(() => {
      for (const row of rows) {
        for (const key of row.keys) {
          this.stmts.importDone.run(key, row.yTrue, row.yPred);
          if (this.pendingRows > 0) this.deletePending(key);
        }
      }
    });
  }

  hasDone(): boolean {
    return this.stmts.anyDone.get() !== undefined;
  }

  /** Forgets every written id: used when the CSV they were written to is gone. */
  clearDone(): void {
    this.stmts.clearDone.run();
  }

  /** metric_log.csv as the state knows it; undefined before the state has seen the file. */
  readCheckpoint(): CsvCheckpoint | undefined {
    const offsetAfter = this.meta('csv_offset_after');
    const rows = this.meta('csv_rows');
    if (typeof offsetAfter !== 'number' || typeof rows !== 'number') return undefined;
    const { offsetBefore, text } = this.unsyncedText('csv', offsetAfter);
    return {
      offsetBefore,
      unsyncedText: text,
      offsetAfter,
      rows,
      recordDelimiter: this.meta('record_delimiter') === '\r\n' ? '\r\n' : '\n',
    };
  }

  /** Sets the CSV's checkpoint outright (start-up repair): its text is the only text not yet on disk. */
  writeCheckpoint(checkpoint: CsvCheckpoint): void {
    this.stmts.clearText.run('csv');
    if (checkpoint.unsyncedText !== '') {
      this.stmts.addText.run('csv', checkpoint.offsetBefore, checkpoint.offsetAfter, checkpoint.unsyncedText);
    }
    this.stmts.setMeta.run('csv_offset_after', checkpoint.offsetAfter);
    this.stmts.setMeta.run('csv_rows', checkpoint.rows);
    this.stmts.setMeta.run('record_delimiter', checkpoint.recordDelimiter);
  }

  /** labels_log.txt as the state knows it; undefined before the state has seen the file. */
  readLabelsCheckpoint(): LabelsCheckpoint | undefined {
    const offsetAfter = this.meta('labels_offset_after');
    if (typeof offsetAfter !== 'number') return undefined;
    return { ...this.unsyncedText('labels', offsetAfter), offsetAfter };
  }

  /**
   * Records what a batch appends to the logs, inside the transaction that applies it: the text stays
   * here until `forgetSyncedText` says the files hold it durably.
   */
  addBatchText(batch: BatchText): void {
    if (batch.csv && batch.csv.text !== '') {
      const end = batch.csv.offset + utf8Bytes(batch.csv.text);
      this.stmts.addText.run('csv', batch.csv.offset, end, batch.csv.text);
      this.stmts.setMeta.run('csv_offset_after', end);
      this.stmts.setMeta.run('csv_rows', batch.csv.rows);
    }
    if (batch.labels.text !== '') {
      const end = batch.labels.offset + utf8Bytes(batch.labels.text);
      this.stmts.addText.run('labels', batch.labels.offset, end, batch.labels.text);
      this.stmts.setMeta.run('labels_offset_after', end);
    }
  }

  /** Drops the text of `file` that ends at or before `syncedTo`: the file holds it durably now. */
  forgetSyncedText(file: LogFileName, syncedTo: number): void {
    this.stmts.forgetText.run(file, syncedTo);
  }

  /** Both files are durable as they are: no text is kept, and labels_log.txt ends at `labelsSize`. */
  markLogsSynced(labelsSize: number): void {
    this.stmts.clearText.run('csv');
    this.stmts.clearText.run('labels');
    this.stmts.setMeta.run('labels_offset_after', labelsSize);
  }

  /**
   * Makes every transaction committed so far durable (fdatasync of the WAL, on libuv's threads). Call it
   * after a COMMIT and wait for it before acking what the transaction took in.
   */
  async syncWal(): Promise<void> {
    if (this.walFd !== undefined) await fdatasyncAsync(this.walFd);
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }

  private meta(k: string): unknown {
    return (this.stmts.getMeta.get(k) as { v: unknown } | undefined)?.v;
  }

  /** The text kept for `file`, which must run without a gap up to `offsetAfter`. */
  private unsyncedText(file: LogFileName, offsetAfter: number): { offsetBefore: number; text: string } {
    const pieces = this.stmts.readText.all(file) as { offset: number; end_offset: number; text: string }[];
    if (pieces.length === 0) return { offsetBefore: offsetAfter, text: '' };
    let at = pieces[0]!.offset;
    for (const p of pieces) {
      if (p.offset !== at) break;
      at = p.end_offset;
    }
    if (at !== offsetAfter) {
      throw new MetricStoreError(
        'STATE_CORRUPT',
        `the text kept for the ${file} log in the join state does not run up to where the state says it ends (${at} vs ${offsetAfter}): move metric_state.sqlite away and restart (its ids are then read back from metric_log.csv)`,
      );
    }
    return { offsetBefore: pieces[0]!.offset, text: pieces.map((p) => p.text).join('') };
  }

  private countPendingRows(): number {
    return (this.stmts.countPending.get() as { n: number }).n;
  }
}
