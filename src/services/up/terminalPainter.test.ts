import { describe, expect, it } from 'vitest';
import { TerminalPainter } from './terminalPainter.js';

/**
 * Just enough of a VT100 to check what the painter leaves on screen: printable characters, CR, LF (a
 * terminal's output processing turns LF into CR LF), cursor up (CSI n A), erase down (CSI J); colour
 * codes are ignored. Lines scrolled off the top go to the scrollback.
 */
class Screen {
  readonly scrollback: string[] = [];
  private grid: string[][];
  private row = 0;
  private col = 0;

  constructor(
    readonly rows: number,
    readonly columns: number,
  ) {
    this.grid = Array.from({ length: rows }, () => []);
  }

  write(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '\x1b' && text[i + 1] === '[') {
        let j = i + 2;
        while (j < text.length && !/[A-Za-z]/.test(text[j]!)) j++;
        const param = text.slice(i + 2, j);
        const cmd = text[j];
        if (cmd === 'A') this.row = Math.max(0, this.row - Number(param || 1));
        else if (cmd === 'J') {
          if (param !== '' && param !== '0') throw new Error(`unexpected erase mode ${param}`);
          this.grid[this.row] = this.grid[this.row]!.slice(0, this.col);
          for (let r = this.row + 1; r < this.rows; r++) this.grid[r] = [];
        } else if (cmd !== 'm') throw new Error(`unexpected escape ${JSON.stringify(text.slice(i, j + 1))}`);
        i = j;
      } else if (ch === '\r') this.col = 0;
      else if (ch === '\n') this.lineFeed();
      else {
        if (this.col >= this.columns) this.lineFeed();
        this.grid[this.row]![this.col++] = ch;
      }
    }
    return true;
  }

  private lineFeed(): void {
    this.col = 0;
    if (this.row < this.rows - 1) this.row++;
    else {
      this.scrollback.push(this.line(0));
      this.grid = [...this.grid.slice(1), []];
    }
  }

  line(r: number): string {
    return Array.from(this.grid[r]!, (c) => c ?? ' ')
      .join('')
      .trimEnd();
  }

  lines(): string[] {
    return this.grid.map((_, r) => this.line(r));
  }

  cursor(): { row: number; col: number } {
    return { row: this.row, col: this.col };
  }
}

const tick = () => new Promise((r) => setImmediate(r));

function block(n: number): string[] {
  return ['', `-- status ${n} --`, `rows ${n}`];
}

describe('TerminalPainter', () => {
  it('keeps the block under the log lines, which scroll above it into the scrollback', async () => {
    const screen = new Screen(8, 40);
    const painter = new TerminalPainter(screen);
    screen.write('$ predstream up\n');
    painter.show(block(0));
    expect(screen.lines()).toEqual(['$ predstream up', '', '-- status 0 --', 'rows 0', '', '', '', '']);
    for (let i = 1; i <= 12; i++) painter.log(`log ${i}`);
    await tick();
    painter.show(block(1));
    painter.log('log 13\nlog 14\n');
    await tick();
    painter.show(block(2));
    // The last lines of the screen are the block; above it the newest log lines, in order.
    expect(screen.lines()).toEqual([
      'log 10',
      'log 11',
      'log 12',
      'log 13',
      'log 14',
      '',
      '-- status 2 --',
      'rows 2',
    ]);
    // Nothing of a block ever scrolled away: only the log lines, each once.
    expect(screen.scrollback).toEqual([
      '$ predstream up',
      ...Array.from({ length: 9 }, (_, i) => `log ${i + 1}`),
    ]);
    painter.close();
  });

  it('paints a shorter block without leaving the old one behind, and parks the cursor on its first line', async () => {
    const screen = new Screen(10, 40);
    const painter = new TerminalPainter(screen);
    painter.show(['', 'a long first block line', 'second', 'third', 'fourth']);
    painter.show(['', 'short']);
    expect(screen.lines().slice(0, 3)).toEqual(['', 'short', '']);
    expect(screen.lines().join('')).toBe('short');
    expect(screen.cursor()).toEqual({ row: 0, col: 0 });
    painter.close();
  });

  it('survives a line written around it: it lands on the empty first line and stays a log line', async () => {
    const screen = new Screen(8, 60);
    const painter = new TerminalPainter(screen);
    painter.show(block(1));
    screen.write('[12:00:00] INFO: SIGINT received: stopping\n');
    painter.show(block(2));
    expect(screen.lines()).toEqual([
      '[12:00:00] INFO: SIGINT received: stopping',
      '',
      '-- status 2 --',
      'rows 2',
      '',
      '',
      '',
      '',
    ]);
    painter.close();
  });

  it('erases the block before a write from elsewhere that is too long for its empty first line', () => {
    const screen = new Screen(8, 20);
    const painter = new TerminalPainter(screen);
    painter.show(block(1));
    painter.log('waiting line');
    painter.erase();
    screen.write('[12:00:00] INFO: SIGINT received: stopping\n');
    painter.show(block(2));
    expect(screen.lines()).toEqual([
      'waiting line',
      '[12:00:00] INFO: SIG',
      'INT received: stoppi',
      'ng',
      '',
      '-- status 2 --',
      'rows 2',
      '',
    ]);
    painter.close();
  });

  it('cuts a block taller than the terminal to its last lines', () => {
    const screen = new Screen(4, 40);
    const painter = new TerminalPainter(screen);
    painter.show(['', 'l1', 'l2', 'l3', 'l4', 'l5']);
    expect(screen.lines()).toEqual(['l3', 'l4', 'l5', '']);
    expect(screen.scrollback).toEqual([]);
    painter.close();
  });

  it('on close erases the block, writes waiting lines and the final lines, and then writes straight through', async () => {
    const screen = new Screen(8, 40);
    const painter = new TerminalPainter(screen);
    painter.show(block(1));
    painter.log('last log');
    painter.close(['final status']);
    painter.log('after');
    painter.show(block(9));
    await tick();
    expect(screen.lines()).toEqual(['last log', 'final status', 'after', '', '', '', '', '']);
    expect(screen.cursor()).toEqual({ row: 3, col: 0 });
  });
});
