// Follows a growing text file and hands over each complete new line with the time it was first seen.
import { closeSync, fstatSync, openSync, readSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { wallClockNow } from '../src/util/wallClock.js';

export interface FollowOptions {
  /** Complete lines (without LF) read in one pass, and when that pass ran. */
  onLines(lines: string[], seenAtMs: number): void;
  /** Fallback poll interval; reads also run on every inotify event for the file when `watch`. */
  pollMs: number;
  /** React to file-system events at once (for latency), instead of only polling (for counting). */
  watch: boolean;
}

/**
 * Reads only the bytes appended since the last pass, synchronously so a line is timestamped as soon
 * as the event loop learns of it. The file may not exist yet.
 */
export class LineFollower {
  private fd: number | undefined;
  private offset = 0;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  private readonly buffer = Buffer.allocUnsafe(1 << 20);
  private readonly timer: NodeJS.Timeout;
  private watcher: FSWatcher | undefined;

  constructor(
    readonly file: string,
    private readonly opts: FollowOptions,
  ) {
    this.timer = setInterval(() => this.pass(), opts.pollMs);
    if (opts.watch) this.watchFile();
    this.pass();
  }

  /**
   * Watches the file itself, so only its own writes wake the bench: watching the folder woke it for every
   * write of the state's WAL, labels_log.txt and the status file too, which made the bench a noticeable CPU
   * load beside the pipeline it measures. Until the file exists, the folder is watched for it to appear.
   */
  private watchFile(): void {
    const watchItself = (): boolean => {
      try {
        this.watcher = watch(this.file, () => this.pass());
        return true;
      } catch {
        return false; // not there yet
      }
    };
    if (watchItself()) return;
    const name = path.basename(this.file);
    const folder = watch(path.dirname(this.file), (_event, changed) => {
      if ((changed !== null && changed !== name) || !watchItself()) return;
      folder.close();
      this.pass();
    });
    this.watcher = folder;
  }

  /** Reads what is new now. */
  pass(): void {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.file, 'r');
      } catch {
        return;
      }
    }
    const seenAt = wallClockNow();
    const size = fstatSync(this.fd).size;
    let lines: string[] = [];
    while (this.offset < size) {
      const n = readSync(
        this.fd,
        this.buffer,
        0,
        Math.min(this.buffer.length, size - this.offset),
        this.offset,
      );
      if (n <= 0) break;
      this.offset += n;
      const parts = (this.partial + this.decoder.write(this.buffer.subarray(0, n))).split('\n');
      this.partial = parts.pop() ?? '';
      lines = lines.length === 0 ? parts : lines.concat(parts);
    }
    if (lines.length > 0) this.opts.onLines(lines, seenAt);
  }

  close(): void {
    clearInterval(this.timer);
    this.watcher?.close();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
