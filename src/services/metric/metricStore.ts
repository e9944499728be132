// The metric service's durable core: joins batches of halves and writes each joined id's row exactly once.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createCoalescedSync, type CoalescedSync } from './coalescedSync.js';
import { AppendFile, PositionalFile, syncDirectory } from './csvLog.js';
import { MetricStoreError } from './errors.js';
import { applyMessage, expire, type JoinOutcome, type LabelMessage, type MetricRow } from './join.js';
import { formatLabelLine, formatRow, formatRowLabelLine, type RecordDelimiter } from './metricCsv.js';
import { recoverLabelsLog, recoverMetricLog, type RecoveryLog, type RecoveryReport } from './recovery.js';
import { SqliteJoinStore, STATE_FILE_NAME, type SqliteJoinStoreOptions } from './sqliteJoinStore.js';

export const METRIC_LOG_FILE_NAME = 'metric_log.csv';
export const LABELS_LOG_FILE_NAME = 'labels_log.txt';

const closedError = (): MetricStoreError =>
  new MetricStoreError('CLOSED', 'the metric store is closed: open it again to join halves');

export interface MetricStoreOptions extends SqliteJoinStoreOptions {
  /** Receives what start-up repaired; silent by default. */
  log?: RecoveryLog;
  /** The logs' text may wait this long (ms) for its file sync; the state holds it meanwhile. */
  fileSyncMs?: number;
  /** ...or until this many bytes wait, whichever comes first. */
  fileSyncBytes?: number;
  /**
   * Least time (ms) between the starts of two syncs of the state's WAL (0, the default: back to back).
   * Groups committed meanwhile share the next sync: fewer syncs, each acking more.
   */
  walSyncIntervalMs?: number;
}

export interface BatchResult {
  /** One per message, in the order given. Conflicts must be dead-lettered (with `reason`), the rest acked. */
  outcomes: JoinOutcome[];
  /** Rows this batch added to metric_log.csv. */
  rows: MetricRow[];
  counts: Record<JoinOutcome['kind'], number>;
}

const SILENT_LOG: RecoveryLog = { info: () => undefined, warn: () => undefined };
const FILE_SYNC_MS = 100;
const FILE_SYNC_BYTES = 256 * 1024;

/** Where a log file ends (all text written to it) and up to where that text is durably on disk. */
interface FileEnds {
  end: number;
  synced: number;
}

/** The halves joined since the last commit, inside the state's open transaction. */
interface OpenGroup {
  /** Where the group's rows start in metric_log.csv. */
  csvAt: number;
  /** Its rows, as written there. */
  csvText: string;
  rows: number;
  /** A line per message, then (`rowLabelText`) a line per row: appended to labels_log.txt at commit. */
  labelText: string;
  rowLabelText: string;
}

/**
 * The halves joined since the last commit form a group: one SQLite transaction, open from the group's first
 * half until `commit`. A half that completes a pair has its row written into metric_log.csv at once
 * (a synchronous write into the page cache, a few microseconds), so a reader sees the row as soon as its
 * later half arrives. `commit` adds the group's text (its rows, and a line per message and per row for
 * labels_log.txt) to the state, COMMITs, appends the label lines, and resolves once the state's WAL is
 * synced: only then may the group's messages be acked. That sync is one fdatasync, shared by every group
 * committed before it began (createCoalescedSync; with `walSyncIntervalMs`, syncs start at most that
 * often), so the next group can be joined and committed while earlier ones wait for the disk.
 *
 * Rows written before their group's COMMIT are safe: if the process dies first, start-up (recovery.ts)
 * finds them past the state's checkpoint and takes their ids as written (`import-tail`), so their halves,
 * never acked, come again and add nothing. For the same reason a failed statement, COMMIT or write
 * fails the store instead of being undone in place: the service restarts, and start-up repairs.
 *
 * The two files are synced lazily (every `fileSyncMs`); until a file is synced past a group's text, the
 * state keeps that text, and start-up writes again whatever a crash kept from the disk. Written ids are
 * remembered for good (table `done`), so a redelivery after a crash adds no row.
 *
 * A failed disk sync fails the store too: what was written since may be lost without a trace in this
 * process (Linux may drop the pages). A failed store (`failed` resolves) refuses everything, acks
 * nothing more, and must be closed; the service then exits.
 */
export class MetricStore {
  private closed = false;
  private failure: MetricStoreError | undefined;
  private reportFailure!: (err: MetricStoreError) => void;
  /** Resolves with the error once a disk sync has failed; the store then refuses every batch. */
  readonly failed = new Promise<MetricStoreError>((r) => (this.reportFailure = r));
  private readonly walSync: CoalescedSync;
  private group: OpenGroup | undefined;
  /** Resolves once the last group committed (and every one before it) is durable. */
  private lastCommit: Promise<void> = Promise.resolve();
  // A file sync finished: the next transaction drops the text it covers from the state.
  private forgetDue = false;
  private fileSync: Promise<void> | undefined;
  private fileSyncTimer: NodeJS.Timeout | undefined;
  private lastFileSyncAt = Date.now();
  private readonly fileSyncMs: number;
  private readonly fileSyncBytes: number;

  private constructor(
    private readonly state: SqliteJoinStore,
    private readonly csv: PositionalFile,
    private readonly labels: AppendFile,
    private readonly csvEnds: FileEnds,
    private readonly labelsEnds: FileEnds,
    private rows: number,
    private readonly recordDelimiter: RecordDelimiter,
    /** What start-up found and repaired. */
    readonly recovery: RecoveryReport,
    options: MetricStoreOptions,
  ) {
    this.walSync = createCoalescedSync(() => this.state.syncWal(), {
      minIntervalMs: options.walSyncIntervalMs ?? 0,
    });
    this.fileSyncMs = options.fileSyncMs ?? FILE_SYNC_MS;
    this.fileSyncBytes = options.fileSyncBytes ?? FILE_SYNC_BYTES;
  }

  /** Opens (creating) `<logsDir>/metric_state.sqlite`, metric_log.csv and labels_log.txt, and repairs them. */
  static async open(logsDir: string, options: MetricStoreOptions = {}): Promise<MetricStore> {
    const {
      log = SILENT_LOG,
      fileSyncMs: _ms,
      fileSyncBytes: _bytes,
      walSyncIntervalMs: _walMs,
      ...stateOptions
    } = options;
    await fs.mkdir(logsDir, { recursive: true });
    const state = SqliteJoinStore.open(path.join(logsDir, STATE_FILE_NAME), stateOptions);
    const opened: { close(): Promise<void> }[] = [];
    try {
      const csv = await PositionalFile.open(path.join(logsDir, METRIC_LOG_FILE_NAME));
      opened.push(csv);
      const recovery = await recoverMetricLog({ state, csv, log });
      const labelsPath = path.join(logsDir, LABELS_LOG_FILE_NAME);
      const labelsRepair = await PositionalFile.open(labelsPath);
      try {
        await recoverLabelsLog({ state, labels: labelsRepair, log });
      } finally {
        await labelsRepair.close();
      }
      const { file: labels, cutBytes, size: labelsSize } = await AppendFile.open(labelsPath);
      opened.push(labels);
      if (cutBytes > 0) log.warn(`${labels.path}: removed an unterminated last line (${cutBytes} bytes)`);
      // Both files are durable now, so the state need not keep any of their text. Their names too: files
      // created above must not vanish in a power cut once rows in them are acked.
      await Promise.all([csv.datasync(), labels.datasync(), syncDirectory(logsDir)]);
      state.transaction(() => state.markLogsSynced(labelsSize));
      await state.syncWal();
      const cp = recovery.checkpoint;
      return new MetricStore(
        state,
        csv,
        labels,
        { end: cp.offsetAfter, synced: cp.offsetAfter },
        { end: labelsSize, synced: labelsSize },
        cp.rows,
        cp.recordDelimiter,
        recovery,
        options,
      );
    } catch (err) {
      await Promise.allSettled(opened.map((f) => f.close()));
      state.close();
      throw err;
    }
  }

  /**
   * Joins one half into the open group (opening one if needed) and says what happened. If it completes a
   * pair, its row is in metric_log.csv when this returns. Nothing is durable, so nothing may be acked,
   * until a `commit` called after this resolves. Throws if the store is closed or failed; a failed
   * statement fails the store (restart: start-up repairs).
   */
  join(message: LabelMessage): JoinOutcome {
    if (this.closed) throw closedError();
    if (this.failure) throw this.failure;
    const group = this.group ?? this.openGroup();
    let outcome: JoinOutcome;
    try {
      outcome = applyMessage(this.state, message);
    } catch (err) {
      throw this.fail('state', err);
    }
    group.labelText += formatLabelLine(message);
    if (outcome.kind === 'matched') this.writeRow(group, outcome.row);
    return outcome;
  }

  /**
   * Commits the open group, appends its label lines, and resolves once it and every group before it are
   * durable: then the caller acks every message joined before this call, except the conflicts, which it
   * dead-letters. If it rejects, ack none of them: redelivered, they are recognised and their rows still
   * written exactly once.
   */
  commit(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const group = this.group;
    // Every half joined so far went into a group committed already (by a call made after it was joined).
    if (!group) return this.lastCommit;
    this.group = undefined;
    const labelsAt = this.labelsEnds.end;
    const labelsText = group.labelText + group.rowLabelText;
    const forget = this.forgetDue;
    try {
      if (forget) {
        this.state.forgetSyncedText('csv', this.csvEnds.synced);
        this.state.forgetSyncedText('labels', this.labelsEnds.synced);
      }
      this.state.addBatchText({
        csv: group.rows > 0 ? { offset: group.csvAt, text: group.csvText, rows: this.rows } : undefined,
        labels: { offset: labelsAt, text: labelsText },
      });
      this.state.commit();
    } catch (err) {
      return Promise.reject(this.fail('state', err));
    }
    if (forget) this.forgetDue = false;
    // Durable once this sync lands, whatever happens to the files: the state holds the group's text.
    // Unless an earlier sync failed: Linux may have dropped the pages it did not write, and SQLite's
    // recovery stops at the first bad WAL frame, so a later sync proves nothing; a failed store acks
    // nothing more.
    this.lastCommit = this.walSync.afterCommit().then(
      () => {
        if (this.failure) throw this.failure;
      },
      (err: unknown) => {
        throw this.fail('sync', err, `${STATE_FILE_NAME}-wal`);
      },
    );
    // Its callers see a failure; this only keeps it from counting as unhandled when there are none.
    this.lastCommit.catch(() => undefined);

    // Committed: the state says labels_log.txt goes on with this text, so write it there.
    const labelsBytes = Buffer.from(labelsText, 'utf8');
    try {
      this.labels.appendSync(labelsBytes);
    } catch (err) {
      return Promise.reject(this.fail('write', err, LABELS_LOG_FILE_NAME));
    }
    this.labelsEnds.end += labelsBytes.length;
    this.scheduleFileSync();
    return this.lastCommit;
  }

  /**
   * Joins the batch (its rows are in the file when this returns) and commits it: `join` for each message,
   * then `commit`. The caller acks as `commit` says.
   */
  applyBatch(messages: readonly LabelMessage[]): Promise<BatchResult> {
    try {
      if (this.closed) throw closedError();
      if (this.failure) throw this.failure;
      const counts: BatchResult['counts'] = { pending: 0, matched: 0, duplicate: 0, conflict: 0 };
      if (messages.length === 0) return Promise.resolve({ outcomes: [], rows: [], counts });
      const outcomes = messages.map((m) => this.join(m));
      const rows = outcomes.flatMap((o) => (o.kind === 'matched' ? [o.row] : []));
      for (const o of outcomes) counts[o.kind] += 1;
      return this.commit().then(() => ({ outcomes, rows, counts }));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Drops halves older than `ttlMs` (at most `limit` per call); returns how many. */
  expire(now: number, ttlMs: number, limit?: number): number {
    if (this.closed || this.failure) return 0;
    try {
      return expire(this.state, now, ttlMs, limit);
    } catch (err) {
      if (err instanceof RangeError) throw err; // a bad argument, not the state's trouble
      throw this.fail('state', err);
    }
  }

  pendingCount(): number {
    return this.state.pendingCount();
  }

  /** Data rows in metric_log.csv, counting batches not yet durable. */
  rowsWritten(): number {
    return this.rows;
  }

  /** Size of metric_log.csv in bytes, counting batches not yet durable. */
  csvBytes(): number {
    return this.csvEnds.end;
  }

  /**
   * Syncs both files now and drops the text the state kept for them: after this, start-up finds nothing
   * to repair. `close` does it; the batches applied so far must be durable first (it waits for them).
   */
  async syncFiles(): Promise<void> {
    try {
      if (this.group && !this.failure) await this.commit();
    } finally {
      // Even if that commit failed: no sync may still be running on the files when they are closed.
      clearTimeout(this.fileSyncTimer);
      this.fileSyncTimer = undefined;
      await this.walSync.idle();
      await this.fileSync;
    }
    if (this.failure) return;
    await this.syncBothFiles();
    this.state.transaction(() => {
      this.state.forgetSyncedText('csv', this.csvEnds.synced);
      this.state.forgetSyncedText('labels', this.labelsEnds.synced);
    });
    await this.state.syncWal();
  }

  /** Waits for the batches applied so far to be durable, syncs the files, then closes everything. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.syncFiles();
    } catch {
      // The state still holds the text: the next start writes it again where needed.
    }
    await Promise.allSettled([this.csv.close(), this.labels.close()]);
    // A failed store may have a group open: its halves were never acked, and its rows are repaired at start.
    this.group = undefined;
    try {
      this.state.rollback();
    } catch {
      // closing rolls it back anyway
    }
    this.state.close();
  }

  /** Begins the state's transaction for a new group. */
  private openGroup(): OpenGroup {
    try {
      this.state.begin();
    } catch (err) {
      throw this.fail('state', err);
    }
    this.group = {
      csvAt: this.csvEnds.end,
      csvText: '',
      rows: 0,
      labelText: '',
      rowLabelText: '',
    };
    return this.group;
  }

  /** Writes a joined row at the end of metric_log.csv now. */
  private writeRow(group: OpenGroup, row: MetricRow): void {
    const text = formatRow(row, this.recordDelimiter);
    const bytes = Buffer.from(text, 'utf8');
    try {
      this.csv.writeAtSync(bytes, this.csvEnds.end);
    } catch (err) {
      // Part of it may be in: start-up cuts that line, and takes the group's rows before it as written.
      throw this.fail('write', err, METRIC_LOG_FILE_NAME);
    }
    group.csvText += text;
    group.rows += 1;
    group.rowLabelText += formatRowLabelLine(row);
    this.csvEnds.end += bytes.length;
    this.rows += 1;
  }

  private scheduleFileSync(): void {
    if (this.fileSync || this.closed || this.failure) return;
    const waiting = this.csvEnds.end - this.csvEnds.synced + (this.labelsEnds.end - this.labelsEnds.synced);
    if (waiting === 0) return;
    const dueIn = this.lastFileSyncAt + this.fileSyncMs - Date.now();
    if (waiting < this.fileSyncBytes && dueIn > 0) {
      this.fileSyncTimer ??= setTimeout(() => {
        this.fileSyncTimer = undefined;
        this.scheduleFileSync();
      }, dueIn).unref();
      return;
    }
    clearTimeout(this.fileSyncTimer);
    this.fileSyncTimer = undefined;
    this.lastFileSyncAt = Date.now();
    this.fileSync = this.syncBothFiles()
      .then(
        () => {
          this.forgetDue = true;
        },
        (err: unknown) => {
          this.fail('sync', err, `${METRIC_LOG_FILE_NAME} or ${LABELS_LOG_FILE_NAME}`);
        },
      )
      .finally(() => {
        this.fileSync = undefined;
        this.scheduleFileSync();
      });
  }

  /** Syncs both files up to where they end now, then moves up what is known to be on disk. */
  private async syncBothFiles(): Promise<void> {
    const csvTo = this.csvEnds.end;
    const labelsTo = this.labelsEnds.end;
    await Promise.all([this.csv.datasync(), this.labels.datasync()]);
    this.csvEnds.synced = Math.max(this.csvEnds.synced, csvTo);
    this.labelsEnds.synced = Math.max(this.labelsEnds.synced, labelsTo);
  }

  /** Fails the store for good: a statement on the state, or a write or sync of the file `what`, failed. */
  private fail(kind: 'state' | 'write' | 'sync', cause: unknown, what = STATE_FILE_NAME): MetricStoreError {
    const fix = `restart the metric service, which repairs its logs from ${STATE_FILE_NAME} at start`;
    const messages = {
      state: `updating ${what} failed (${String(cause)}): rows written to ${METRIC_LOG_FILE_NAME} since its last commit are not in it; ${fix} and takes those rows as written (if the disk is full, free space first)`,
      write: `writing ${what} failed (${String(cause)}): nothing more is acked; ${fix} (if the disk is full, free space first)`,
      sync: `syncing ${what} to disk failed (${String(cause)}): what was written since may not be on disk; ${fix}`,
    };
    const codes = { state: 'STATE_FAILED', write: 'WRITE_FAILED', sync: 'SYNC_FAILED' } as const;
    this.failure ??= new MetricStoreError(codes[kind], messages[kind], { cause });
    this.reportFailure(this.failure);
    return this.failure;
  }
}
