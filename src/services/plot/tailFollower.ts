// Follows a growing file by path, reading only the bytes appended since the last read, and splits them into lines.
import type { Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { CsvLineSplitter, type LineSplitterOptions } from './csvTail.js';

/** Why the follower started over from byte 0. */
export type ResetReason = 'truncated' | 'replaced';

export interface TailFollowerOptions extends LineSplitterOptions {
  /** Complete lines, in file order. Called before the next read; may be called many times per poll. */
  onLines: (lines: string[]) => void;
  /** The file shrank or is a new file: everything delivered so far is void, lines restart from byte 0. */
  onReset?: (reason: ResetReason) => void;
  /** A failure to stat, open or read the file, or a callback that threw; polling goes on. */
  onError?: (err: Error) => void;
  /** How often to look for new bytes. */
  pollIntervalMs?: number;
  /** Largest single read; a big backlog is read in several, yielding to the event loop between them. */
  readChunkBytes?: number;
}

const DEFAULT_OPTIONS = {
  pollIntervalMs: 200,
  readChunkBytes: 1024 * 1024,
};

interface OpenFile {
  handle: FileHandle;
  dev: number;
  ino: number;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Follows `filePath` like `tail -F`: waits for it to exist, then on each poll reads from the last offset
 * to the current size with `FileHandle.read` (old bytes are never read again). A file that shrinks or
 * whose inode changes (rotated, deleted and recreated) is read again from 0, after `onReset`.
 * A truncation followed by regrowth past the old offset between two polls cannot be seen by size alone
 * and is not detected.
 */
export class TailFollower {
  readonly filePath: string;
  private readonly onLines: TailFollowerOptions['onLines'];
  private readonly onReset: NonNullable<TailFollowerOptions['onReset']>;
  private readonly onError: NonNullable<TailFollowerOptions['onError']>;
  private readonly pollIntervalMs: number;
  private readonly readBuffer: Buffer;
  private readonly splitter: CsvLineSplitter;
  private file: OpenFile | undefined;
  private hasOpenedBefore = false;
  private position = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private lastErrorMessage: string | undefined;

  constructor(filePath: string, options: TailFollowerOptions) {
    const opts = { ...DEFAULT_OPTIONS, ...options };
    this.filePath = filePath;
    this.onLines = opts.onLines;
    this.onReset = opts.onReset ?? (() => undefined);
    this.onError = opts.onError ?? (() => undefined);
    this.pollIntervalMs = opts.pollIntervalMs;
    this.readBuffer = Buffer.allocUnsafe(opts.readChunkBytes);
    this.splitter = new CsvLineSplitter(
      opts.maxLineBytes === undefined ? {} : { maxLineBytes: opts.maxLineBytes },
    );
  }

  /** Bytes of the file consumed so far (including a held-back partial line). */
  get offset(): number {
    return this.position;
  }

  /** Lines dropped for exceeding `maxLineBytes`. */
  get droppedLines(): number {
    return this.splitter.droppedLines;
  }

  /** Starts polling (the first poll runs at once). The timer does not keep the process alive. */
  start(): this {
    if (this.closed) throw new Error(`TailFollower for ${this.filePath} is closed: create a new one`);
    if (!this.started) void this.tick();
    this.started = true;
    return this;
  }

  /** Reads whatever is new now. Concurrent calls share one pass. */
  poll(): Promise<void> {
    this.running ??= this.readNew().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops polling, waits for a read in progress and closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.closeFile();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    await this.poll();
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick(), this.pollIntervalMs);
    this.timer.unref();
  }

  private async readNew(): Promise<void> {
    try {
      await this.syncWithPath();
      const file = this.file;
      if (!file) return;
      const { size } = await file.handle.stat();
      if (size < this.position) this.restart('truncated');
      while (this.position < size && !this.closed) {
        const want = Math.min(size - this.position, this.readBuffer.length);
        const { bytesRead } = await file.handle.read(this.readBuffer, 0, want, this.position);
        if (bytesRead === 0) break;
        this.position += bytesRead;
        const lines = this.splitter.push(this.readBuffer.subarray(0, bytesRead));
        if (lines.length > 0) this.deliver(lines);
      }
      this.lastErrorMessage = undefined;
    } catch (err) {
      this.report(err as Error);
    }
  }

  // Opens the file when it appears, and reopens it when the path now names another file.
  private async syncWithPath(): Promise<void> {
    let current: Stats;
    try {
      current = await stat(this.filePath);
    } catch (err) {
      if (!isMissing(err)) throw this.describe(err, 'stat');
      // Gone (being rotated, or not written yet): keep what was read, pick up the new file when it comes.
      await this.closeFile();
      return;
    }
    if (this.file && this.file.dev === current.dev && this.file.ino === current.ino) return;
    await this.closeFile();
    let handle: FileHandle;
    try {
      handle = await open(this.filePath, 'r');
    } catch (err) {
      if (isMissing(err)) return;
      throw this.describe(err, 'open');
    }
    const opened = await handle.stat();
    this.file = { handle, dev: opened.dev, ino: opened.ino };
    if (this.hasOpenedBefore) this.restart('replaced');
    this.hasOpenedBefore = true;
  }

  private restart(reason: ResetReason): void {
    this.position = 0;
    this.splitter.reset();
    try {
      this.onReset(reason);
    } catch (err) {
      this.report(err as Error);
    }
  }

  private deliver(lines: string[]): void {
    try {
      this.onLines(lines);
    } catch (err) {
      this.report(err as Error);
    }
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.handle.close().catch(() => undefined);
  }

  private describe(err: unknown, action: string): Error {
    const cause = err as NodeJS.ErrnoException;
    return new Error(
      `cannot ${action} ${this.filePath} (${cause.code ?? cause.message}): check that the plot service may read it`,
      { cause },
    );
  }

  // The same failure on every poll would flood the log: report it once until a poll succeeds.
  private report(err: Error): void {
    if (err.message === this.lastErrorMessage) return;
    this.lastErrorMessage = err.message;
    this.onError(err);
  }
}
