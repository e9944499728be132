// The metric's two log files: writes are synchronous and land in the page cache (a few microseconds, where
// handing a write to libuv's pool costs tens of them in wake-ups); `datasync` makes them durable. MetricStore
// syncs them lazily: until then the text of each batch is also in the state, whose WAL is synced before acks.
import { constants as fsConstants, promises as fs, writeSync } from 'node:fs';

const LF = 0x0a;
const SCAN_CHUNK = 64 * 1024;

function writeFullySync(fd: number, data: Buffer, position: number | null): void {
  let done = 0;
  while (done < data.length) {
    const written = writeSync(fd, data, done, data.length - done, position === null ? null : position + done);
    if (written <= 0) throw new Error(`write made no progress (${done} of ${data.length} bytes written)`);
    done += written;
  }
}

const bytesOf = (data: string | Buffer): Buffer =>
  typeof data === 'string' ? Buffer.from(data, 'utf8') : data;

/**
 * A file written at explicit offsets, never with O_APPEND: writing the same text at the same offset
 * again after a crash leaves one copy, not two.
 */
export class PositionalFile {
  private constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
  ) {}

  /** Opens for reading and writing, creating an empty file if there is none (never truncating). */
  static async open(path: string): Promise<PositionalFile> {
    const handle = await fs.open(path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    return new PositionalFile(path, handle);
  }

  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  async read(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.handle.read(buffer, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buffer.subarray(0, got);
  }

  /** Where `byte` first occurs in [from, to), or -1. Reads in chunks. */
  async indexOf(byte: number, from: number, to: number): Promise<number> {
    for (let at = from; at < to; at += SCAN_CHUNK) {
      const i = (await this.read(at, Math.min(SCAN_CHUNK, to - at))).indexOf(byte);
      if (i >= 0) return at + i;
    }
    return -1;
  }

  /**
   * Writes [from, to) again with the bytes it holds, so that the next `datasync` writes them to disk even
   * if they are in the page cache only: when a sync fails, Linux may mark the pages it could not write
   * clean, and a later sync in the same boot then succeeds without writing them. Reads in chunks.
   */
  async rewriteInPlace(from: number, to: number): Promise<void> {
    for (let at = from; at < to; at += SCAN_CHUNK) {
      const chunk = await this.read(at, Math.min(SCAN_CHUNK, to - at));
      if (chunk.length === 0) return;
      this.writeAtSync(chunk, at);
    }
  }

  /** Writes `data` at `position` (into the page cache: durable after `datasync`). */
  writeAtSync(data: string | Buffer, position: number): void {
    writeFullySync(this.handle.fd, bytesOf(data), position);
  }

  /** Makes every write so far durable (on libuv's pool). */
  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  /** Cuts the file to `size` bytes, durably. */
  async truncate(size: number): Promise<void> {
    await this.handle.truncate(size);
    await this.handle.datasync();
  }

  /**
   * Cuts an unterminated last line (a write the process died in), never below `floor`, which must be
   * a line start. Reads backwards from the end, so the cost is the length of that line, not the file's.
   */
  async truncateAfterLastNewline(floor = 0): Promise<{ size: number; cutBytes: number }> {
    const size = await this.size();
    let end = size;
    while (end > floor) {
      const start = Math.max(floor, end - SCAN_CHUNK);
      const chunk = await this.read(start, end - start);
      const lf = chunk.lastIndexOf(LF);
      if (lf >= 0) {
        end = start + lf + 1;
        break;
      }
      end = start;
    }
    if (end < size) await this.truncate(end);
    return { size: end, cutBytes: size - end };
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** A log appended to (O_APPEND, so a copy-and-truncate rotation of it keeps working). */
export class AppendFile {
  private constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
  ) {}

  /** Opens for appending, first cutting an unterminated last line left by a crash; `size` is what is left. */
  static async open(path: string): Promise<{ file: AppendFile; cutBytes: number; size: number }> {
    const repair = await PositionalFile.open(path);
    let cut: { size: number; cutBytes: number };
    try {
      cut = await repair.truncateAfterLastNewline();
    } finally {
      await repair.close();
    }
    const flags = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT;
    return { file: new AppendFile(path, await fs.open(path, flags, 0o644)), ...cut };
  }

  /** Appends `data` (into the page cache: durable after `datasync`). */
  appendSync(data: string | Buffer): void {
    writeFullySync(this.handle.fd, bytesOf(data), null);
  }

  /** Makes every append so far durable (on libuv's pool). */
  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Makes a file's creation or removal in `dir` durable (a new file's data can be synced and its name still lost). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
