// Durable file writes for the metric logs: positional writes (a redo overwrites), appends. Both files are
// opened O_DSYNC, so a write is on disk when it returns: one syscall on libuv's pool instead of a write and
// an fdatasync that must wait for the JavaScript thread in between (see MetricStore.runBatch).
import { constants as fsConstants, promises as fs } from 'node:fs';

const LF = 0x0a;
const SCAN_CHUNK = 64 * 1024;

async function writeFully(handle: fs.FileHandle, data: Buffer, position: number | null): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(
      data,
      done,
      data.length - done,
      position === null ? null : position + done,
    );
    if (bytesWritten <= 0)
      throw new Error(`write made no progress (${done} of ${data.length} bytes written)`);
    done += bytesWritten;
  }
}

/**
 * A file written at explicit offsets, never with O_APPEND: writing the same text at the same offset
 * again after a crash leaves one copy, not two. Every write is durable when it resolves (O_DSYNC).
 */
export class PositionalFile {
  private constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
  ) {}

  /** Opens for reading and writing, creating an empty file if there is none (never truncating). */
  static async open(path: string): Promise<PositionalFile> {
    const handle = await fs.open(path, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_DSYNC, 0o644);
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

  /** Writes `data` at `position`; resolves once it is on disk. The write is issued before this returns. */
  writeAt(data: string | Buffer, position: number): Promise<void> {
    return writeFully(this.handle, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, position);
  }

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

/** A log only ever appended to; each append is on disk when its promise resolves. */
export class AppendFile {
  private constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
  ) {}

  /** Opens for appending, first cutting an unterminated last line left by a crash. */
  static async open(path: string): Promise<{ file: AppendFile; cutBytes: number }> {
    const repair = await PositionalFile.open(path);
    let cutBytes: number;
    try {
      cutBytes = (await repair.truncateAfterLastNewline()).cutBytes;
    } finally {
      await repair.close();
    }
    const flags = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_DSYNC;
    return { file: new AppendFile(path, await fs.open(path, flags, 0o644)), cutBytes };
  }

  /** Appends `text`; resolves once it is on disk. The write is issued before this returns. */
  append(text: string): Promise<void> {
    return writeFully(this.handle, Buffer.from(text, 'utf8'), null);
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
