// `predstream up` on a terminal paints a status block; without one it logs plain status lines.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupPrefix, uniquePrefix } from '../support/broker.js';
import { CLI, REPO_ROOT, assertBuilt, startCli, stopCli } from '../support/processes.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

/** The mean absolute error of the last `n` rows, from the CSV itself. */
function maeOfLast(csv: string, n: number): number {
  const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Array<{ absolute_error: string }>;
  const last = rows.slice(-n).map((r) => Number(r.absolute_error));
  return last.reduce((a, b) => a + b, 0) / last.length;
}

/** Runs a shell command on a pseudo-terminal (util-linux `script`) and returns all it wrote. */
function onTerminal(command: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_FORMAT: 'auto', TERM: 'xterm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/* eslint-disable no-control-regex -- terminal escape codes are what this test reads */
const ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;
const CURSOR_UP = /\x1b\[\d+A/;
const PIECE_END = /\n|\x1b\[\d*A|\x1b\[J/;
/* eslint-enable no-control-regex */

// Colour and cursor codes out, so what is left reads like the screen's text.
const plain = (text: string) => text.replace(ESCAPE, '').replace(/\r/g, '');

describe('predstream up status', () => {
  const prefixes: string[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await cleanupPrefix(p);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.skipIf(!hasScript)(
    'paints the block on a terminal and leaves the final one on screen',
    async () => {
      assertBuilt();
      const prefix = uniquePrefix('upstatus');
      const logs = mkdtempSync(path.join(tmpdir(), 'predstream-upstatus-'));
      prefixes.push(prefix);
      dirs.push(logs);
      const rows = 300;
      const cmd =
        `stty cols 120 rows 40; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} up ` +
        `--queue-prefix ${prefix} --logs ${JSON.stringify(logs)} --rate 100 --count ${rows} --http-port 0`;
      const { code, output } = await onTerminal(cmd, 90_000);
      expect(code, plain(output)).toBe(0);

      // Painted: erase-down and cursor-up codes, not just colour.
      expect(output).toContain('\x1b[J');
      expect(output).toMatch(CURSOR_UP);
      const text = plain(output);
      // While it ran, every service was seen running with a pid, and the queues with their depth.
      for (const name of ['features', 'model', 'metric', 'plot'])
        expect(text).toMatch(new RegExp(`^${name} +running +\\d+ `, 'm'));
      expect(text).toMatch(/^model +running .* features \d+ \(dead 0\)$/m);
      expect(text).toMatch(/^metric +running .* y_true \d+ \(dead 0\) +y_pred \d+ \(dead 0\)$/m);

      // After the last erase only plain lines follow: the final block, then the last log line.
      const final = plain(output.slice(output.lastIndexOf('\x1b[J'))).split('\n');
      expect(final[0]).toMatch(/^-- predstream up -- \d+s -- stopping \(\d+ rows written\) -+$/);
      // features finished its rows; it may still have been exiting when `up` began to stop it.
      expect(final.find((l) => l.startsWith('features'))).toMatch(/^features +(finished|stopped) +\d+ /);
      for (const name of ['model', 'metric', 'plot'])
        expect(final.find((l) => l.startsWith(name))).toMatch(new RegExp(`^${name} +stopped +\\d+ `));
      const summary = final.find((l) => l.startsWith('rows '));
      const mae = maeOfLast(path.join(logs, 'metric_log.csv'), rows);
      expect(summary).toContain(`rows ${rows} of ${rows} `);
      expect(summary).toContain(`MAE ${mae.toPrecision(4)} (last ${rows} rows)`);
      expect(summary).toMatch(/latency p50 [\d.]+ m?s p99 [\d.]+ m?s/);
      expect(final.at(-2)).toMatch(
        new RegExp(`stopped; ${rows} rows written to .*metric_log\\.csv in this run$`),
      );
      // Every block line fitted the terminal, so none wrapped (a block line ends at LF, cursor-up or erase).
      const blockLines = output
        .split(PIECE_END)
        .map(plain)
        .filter((l) =>
          /^(-- predstream up|service |(features|model|metric|plot) +[a-z]+ +(\d+|-) |rows )/.test(l),
        );
      expect(blockLines.length).toBeGreaterThan(10);
      for (const line of blockLines) expect(line.length, line).toBeLessThan(120);
    },
    120_000,
  );

  it('logs plain status lines, no terminal codes, when stdout is not a terminal', async () => {
    const prefix = uniquePrefix('upstatus');
    const logs = mkdtempSync(path.join(tmpdir(), 'predstream-upstatus-'));
    prefixes.push(prefix);
    dirs.push(logs);
    // Over 5 s of rows, so at least one periodic status line is due.
    const up = startCli(
      'up',
      ['up', '--queue-prefix', prefix, '--logs', logs, '--rate', '60', '--count', '420', '--http-port', '0'],
      { LOG_FORMAT: 'auto' },
    );
    const timer = setTimeout(() => void stopCli(up), 90_000);
    const { code } = await up.exited;
    clearTimeout(timer);
    expect(code, up.output()).toBe(0);
    expect(up.output()).not.toContain('\x1b[');
    const statusLines = up
      .output()
      .split('\n')
      .filter((l) => /INFO: rows \d+ of 420, /.test(l));
    expect(statusLines.length, up.output()).toBeGreaterThan(0);
    const state = '[a-z]+(?: \\(\\d+\\))?';
    const depth = (q: string) => `${q} (\\d+|-) \\(dead (\\d+|-)\\)`;
    // The first line may come before the first row (a slow start): then its figures are dashes.
    expect(statusLines[0]).toMatch(
      new RegExp(
        'rows \\d+ of 420, ([\\d.]+|-) rows/s, MAE ([\\d.]+ \\(last \\d+ rows\\)|-), ' +
          'latency (p50 [\\d.]+ m?s p99 [\\d.]+ m?s|-), pending (\\d+|-); ' +
          `queues ${depth('features')}, ${depth('y_true')}, ${depth('y_pred')}; ` +
          `features ${state}, model ${state}, metric ${state}, plot ${state}$`,
      ),
    );
    const lastLine = statusLines.at(-1)!;
    expect(lastLine).toMatch(/ MAE [\d.]+ \(last \d+ rows\), latency p50 /);
  }, 120_000);
});
