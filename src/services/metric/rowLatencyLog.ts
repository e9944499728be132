// The metric's --row-latency-log file: lines gathered in memory and appended every 100 ms, so that
// measuring costs the hot path one string concatenation per row, not a write per batch.
import { AppendFile } from './csvLog.js';
import { formatRowLatencyLine } from './rowLatencyLine.js';

const FLUSH_EVERY_MS = 100;

export class RowLatencyLog {
  private text = '';
  private readonly timer: NodeJS.Timeout;
  private failed = false;

  private constructor(
    private readonly file: AppendFile,
    private readonly onError: (message: string) => void,
  ) {
    this.timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Opens `path` for appending (creating it); `onError` hears of the first failed write. */
  static async open(path: string, onError: (message: string) => void): Promise<RowLatencyLog> {
    const { file } = await AppendFile.open(path);
    return new RowLatencyLog(file, onError);
  }

  add(idJson: string, publishedAtMs: number, writtenAtMs: number): void {
    this.text += formatRowLatencyLine(idJson, publishedAtMs, writtenAtMs);
  }

  /** Appends what was added since the last flush. A failed write drops those lines and is reported once. */
  flush(): void {
    if (this.text === '') return;
    const text = this.text;
    this.text = '';
    try {
      this.file.appendSync(text);
    } catch (err) {
      if (!this.failed)
        this.onError(`cannot append to ${this.file.path} (${String(err)}); row latency lines are being lost`);
      this.failed = true;
    }
  }

  /** Appends what is left and closes the file. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    await this.file.close();
  }
}
