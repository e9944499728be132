// Counts data rows appended to metric_log.csv since `up` started and hands on their absolute errors.
import { open } from 'node:fs/promises';

/**
 * The absolute_error (last field) of each complete line; lines whose last field is not a number (the
 * header, a foreign row) are skipped. The last field is a number the metric service wrote unquoted,
 * so it follows the last comma even when a quoted id holds commas.
 */
export function absoluteErrorsOf(lines: string): number[] {
  const errors: number[] = [];
  let start = 0;
  while (start < lines.length) {
    let end = lines.indexOf('\n', start);
    if (end < 0) end = lines.length;
    const lineEnd = end > start && lines.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const comma = lines.lastIndexOf(',', lineEnd - 1);
    if (comma >= start) {
      const field = lines.slice(comma + 1, lineEnd).trim();
      const value = field === '' ? NaN : Number(field);
      if (Number.isFinite(value)) errors.push(value);
    }
    start = end + 1;
  }
  return errors;
}

/** Reads only the bytes appended since the last poll: O(new bytes) per poll, however large the file. */
export class CsvRowCounter {
  private offset = -1;
  rows = 0;

  /** `onAbsoluteErrors` gets the absolute_error of every new row, in file order. */
  constructor(
    private readonly file: string,
    private readonly onAbsoluteErrors?: (errors: number[]) => void,
  ) {}

  async poll(): Promise<number> {
    let handle;
    try {
      handle = await open(this.file, 'r');
    } catch {
      if (this.offset < 0) this.offset = 0;
      return this.rows;
    }
    try {
      const { size } = await handle.stat();
      if (this.offset < 0) {
        // First look: rows already there belong to earlier runs.
        this.offset = size;
        return this.rows;
      }
      if (size < this.offset) this.offset = size; // repaired (cut line removed) or replaced
      if (size === this.offset) return this.rows;
      const buf = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
      const lastNewline = buf.lastIndexOf(10, bytesRead - 1);
      if (lastNewline < 0) return this.rows; // only part of a line so far
      let lines = 0;
      for (let i = buf.indexOf(10); i >= 0 && i <= lastNewline; i = buf.indexOf(10, i + 1)) lines += 1;
      const header = this.offset === 0;
      if (header) lines -= 1;
      this.offset += lastNewline + 1;
      this.rows += lines;
      // Complete lines only, so no UTF-8 sequence is cut (LF never occurs inside one).
      if (this.onAbsoluteErrors) {
        const text = buf.toString('utf8', 0, lastNewline + 1);
        this.onAbsoluteErrors(absoluteErrorsOf(header ? text.slice(text.indexOf('\n') + 1) : text));
      }
      return this.rows;
    } finally {
      await handle.close();
    }
  }
}
