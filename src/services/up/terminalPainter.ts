// Keeps a block of status lines at the bottom of a terminal while log lines scroll above it.
/** Erase from the cursor to the end of the screen. */
const ERASE_DOWN = '\x1b[J';

export interface PainterOutput {
  write(text: string): unknown;
  /** Terminal rows; the block is cut to fit. */
  rows?: number;
}

/**
 * The cursor is parked at the first line of the block between paints, so a paint never needs to know
 * how tall the old block was (or how a resize reflowed it): erase from the cursor down, write the
 * waiting log lines, write the block, move back up to its first line. A line written around the
 * painter lands on the block's first line, which the view leaves empty for that reason.
 */
export class TerminalPainter {
  private block: string[] = [];
  private pending = '';
  private flushQueued = false;
  private open = true;
  private readonly onExit = () => this.abandon();

  constructor(private readonly out: PainterOutput) {
    // process.exit (a second Ctrl-C, a crash) skips close(): at least leave no half block behind.
    process.on('exit', this.onExit);
  }

  /** Log text to show above the block (one or more lines); written within the same tick, in bulk. */
  log(text: string): void {
    if (!this.open) {
      this.out.write(text.endsWith('\n') ? text : `${text}\n`);
      return;
    }
    this.pending += text.endsWith('\n') ? text : `${text}\n`;
    if (this.flushQueued) return;
    this.flushQueued = true;
    // Many lines in one burst cost one repaint, not one each.
    setImmediate(() => this.flush());
  }

  /** Replaces the block (lines already fitted to the width) and repaints now. */
  show(lines: string[]): void {
    if (!this.open) return;
    this.block = lines;
    this.flush();
  }

  private flush(): void {
    this.flushQueued = false;
    if (!this.open) return;
    const rows = this.out.rows || 24; // 0 from a pseudo-terminal nobody sized
    const block = this.block.length >= rows ? this.block.slice(this.block.length - (rows - 1)) : this.block;
    this.out.write(ERASE_DOWN + this.pending + paintBlock(block));
    this.pending = '';
  }

  /**
   * Takes the block off the screen until the next `show`, for a moment when someone else is about to
   * write (the shutdown's "SIGINT received" line): a line longer than the terminal would otherwise
   * wrap from the block's empty first line into the next one and leave a torn line behind.
   */
  erase(): void {
    if (!this.open) return;
    this.out.write(ERASE_DOWN + this.pending);
    this.pending = '';
  }

  /** Erases the block, writes what is waiting, and leaves `final` (e.g. the last block) as plain lines. */
  close(final: string[] = []): void {
    if (!this.open) return;
    this.open = false;
    process.off('exit', this.onExit);
    this.out.write(ERASE_DOWN + this.pending + final.map((l) => `${l}\n`).join(''));
    this.pending = '';
  }

  private abandon(): void {
    if (!this.open) return;
    this.open = false;
    try {
      // A terminal's stdout writes synchronously, so this gets out before the process ends.
      this.out.write(ERASE_DOWN + this.pending);
    } catch {
      // the terminal is gone
    }
  }
}

/** The block's lines, then the cursor back to the start of its first line. */
export function paintBlock(lines: readonly string[]): string {
  if (lines.length === 0) return '';
  const up = lines.length - 1;
  return lines.join('\n') + '\r' + (up > 0 ? `\x1b[${up}A` : '');
}
