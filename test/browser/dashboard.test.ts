// The live dashboard in a real browser (Debian's Chromium): a whole pipeline's rows arriving on the page,
// the figures checked against metric_log.csv, the alert banner, and reconnecting to a restarted server.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStat } from '../../src/services/plot/chartSpec.js';
import { startDashboard, type Dashboard } from '../../src/services/plot/dashboard/server.js';
import { ErrorStats } from '../../src/services/plot/errorStats.js';
import type { PlotState } from '../../src/services/plot/service.js';
import { cleanupPrefix, uniquePrefix } from '../support/broker.js';
import { captureLogger } from '../support/logger.js';
import { CLI, REPO_ROOT, startCli, stopCli, type RunningCli } from '../support/processes.js';
import { freePort } from '../support/ports.js';

// The callbacks given to page.evaluate run in the page, where these are the browser's globals; Node's
// types have no DOM, so they are declared here as far as the callbacks use them.
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}
declare const document: {
  body: PageElement;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
};
declare const window: { marker?: string };

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');
const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing) {
  console.warn(
    `browser dashboard test: skipped, ${CHROMIUM} is missing; install it with 'apt-get install chromium'`,
  );
}

async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

// The pipeline runs from dist/: a build older than the sources would test yesterday's code.
function assertFreshBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first`);
  const srcRoot = path.join(REPO_ROOT, 'src');
  const stack = [srcRoot];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (
        entry.name.endsWith('.ts') &&
        !entry.name.endsWith('.test.ts') &&
        !entry.name.endsWith('.d.ts')
      ) {
        const built = path.join(REPO_ROOT, 'dist', path.relative(srcRoot, full)).replace(/\.ts$/, '.js');
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(full).mtimeMs) {
          throw new Error(`dist/ is older than ${path.relative(REPO_ROOT, full)}: run 'npm run build' first`);
        }
      }
    }
  }
}

/** What the page shows, read in one go so the figures belong together. */
interface Shown {
  rows: number;
  maeText: string;
  maeValue: number;
  state: string;
  bars: number;
}

function readShown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const figure = (name: string) => document.querySelector(`[data-figure="${name}"]`);
    return {
      rows: Number(figure('rows')?.dataset.value ?? 0),
      maeText: figure('mae')?.textContent ?? '',
      maeValue: Number(figure('mae')?.dataset.value ?? NaN),
      state: document.body.dataset.state ?? '',
      bars: document.querySelectorAll('#histogram svg .mark-rect path').length,
    };
  });
}

const rowsAtLeast = (page: Page, n: number, timeout: number) =>
  page.waitForFunction(
    (min) => Number(document.querySelector('[data-figure="rows"]')?.dataset.value ?? 0) >= min,
    n,
    { timeout, polling: 50 },
  );

/** Absolute errors of the first `n` complete rows of metric_log.csv. */
function firstErrors(csvPath: string, n: number): number[] {
  const text = readFileSync(csvPath, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const rows = parseCsv(complete, { columns: true, skip_empty_lines: true }) as Array<{
    absolute_error: string;
  }>;
  expect(rows.length).toBeGreaterThanOrEqual(n);
  return rows.slice(0, n).map((r) => Number(r.absolute_error));
}

describe.skipIf(chromiumMissing)('dashboard in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe('with a whole pipeline (predstream up)', () => {
    const prefix = uniquePrefix('dashboard');
    const logs = mkdtempSync(path.join(tmpdir(), 'predstream-browser-'));
    let up: RunningCli | undefined;

    afterAll(async () => {
      if (up) {
        const exit = await stopCli(up, 15_000);
        // `up` stops its services itself; after a SIGKILL of `up` they would be left, so stop them by pid.
        const started = up
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{') && l.includes('"pids"'))
          .map((l) => JSON.parse(l) as { pids?: Record<string, number | undefined> })
          .flatMap((l) => Object.values(l.pids ?? {}));
        if (exit.signal === 'SIGKILL') {
          for (const pid of started) {
            try {
              if (pid) process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
      }
      await cleanupPrefix(prefix);
      rmSync(logs, { recursive: true, force: true });
    });

    it('shows rows as they land, with the MAE of metric_log.csv, and keeps updating without a reload', async () => {
      assertFreshBuild();
      const port = await freePort();
      up = startCli('up', [
        'up',
        '--queue-prefix',
        prefix,
        '--logs',
        logs,
        '--rate',
        '100',
        '--count',
        // Far more than the test needs: the pipeline must still be running for the screenshot; afterAll stops it.
        '3000',
        '--http-port',
        String(port),
        '--metrics-port-base',
        '0',
        '--log-format',
        'json',
      ]);
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      const url = `http://127.0.0.1:${port}/`;
      for (let attempt = 0; ; attempt++) {
        try {
          await page.goto(url, { timeout: 2000 });
          break;
        } catch (err) {
          if (attempt > 40 || up.child.exitCode !== null) {
            throw new Error(
              `dashboard at ${url} did not come up: ${String(err)}\n${up.output().slice(-3000)}`,
            );
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      }

      await rowsAtLeast(page, 200, 30_000);
      await page.waitForFunction(
        () => document.querySelectorAll('#histogram svg .mark-rect path').length > 0,
        null,
        {
          timeout: 5000,
        },
      );
      const shown = await readShown(page);
      expect(shown.bars).toBeGreaterThan(0);
      // The page's count and MAE come from one snapshot: the first `rows` rows of the file, whatever came since.
      const errors = firstErrors(path.join(logs, 'metric_log.csv'), shown.rows);
      const mae = errors.reduce((a, b) => a + b, 0) / errors.length;
      expect(shown.maeText).toBe(formatStat(mae));
      expect(Number(shown.maeText)).toBe(Number(mae.toPrecision(3)));
      expect(Math.abs(shown.maeValue - mae)).toBeLessThanOrEqual(1e-9 * mae);

      // The metric service's status file reaches the page: latency and pending halves are shown.
      await page.waitForFunction(
        () => document.querySelector('[data-figure="latency-p50"]')?.dataset.value,
        null,
        { timeout: 5000 },
      );
      // No reload: a marker left on the window survives while the count keeps growing.
      await page.evaluate(() => (window.marker = 'still here'));
      const before = (await readShown(page)).rows;
      await rowsAtLeast(page, before + 1, 10_000);
      expect(await page.evaluate(() => window.marker)).toBe('still here');
      expect((await readShown(page)).state).toBe('live');
      // Shot while rows still arrive (--count leaves plenty), after the charts caught up with the figures.
      await page.waitForTimeout(1000);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
      expect(pageErrors).toEqual([]);
      await page.close();
    });
  });

  describe('with a dashboard alone (no broker)', () => {
    const logsDir = mkdtempSync(path.join(tmpdir(), 'predstream-browser-alone-'));
    const open: Dashboard[] = [];
    afterAll(async () => {
      for (const d of open) await d.close();
      rmSync(logsDir, { recursive: true, force: true });
    });

    function makeState(): PlotState & { add(errors: number[]): void } {
      const stats = new ErrorStats({ windowSize: 5 });
      const events = new EventEmitter();
      let id = 0;
      return {
        stats,
        events,
        csvPath: path.join(logsDir, 'metric_log.csv'),
        add(errors) {
          stats.addRows(
            errors.map((absoluteError) => ({
              id: String(id++),
              yTrue: 0,
              yPred: absoluteError,
              absoluteError,
            })),
            Date.now(),
          );
          events.emit('rows', errors.length);
        },
      };
    }

    async function serve(port: number, state: PlotState) {
      const dashboard = await startDashboard({
        host: '127.0.0.1',
        port,
        state,
        alertMae: 10,
        logsDir,
        log: captureLogger().log,
      });
      open.push(dashboard);
      return dashboard;
    }

    it('shows a red banner while the rolling MAE is above --alert-mae, and reconnects to a restarted server', async () => {
      const first = makeState();
      first.add([1, 1, 1]);
      const dashboard = await serve(0, first);
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(dashboard.url);
      await rowsAtLeast(page, 3, 5000);
      expect(await page.isVisible('#alert-banner')).toBe(false);

      first.add([50, 50, 50, 50, 50]);
      await page.waitForSelector('#alert-banner', { state: 'visible', timeout: 3000 });
      expect(await page.textContent('#alert-banner')).toContain('above the alert threshold 10');
      expect((await readShown(page)).state).toBe('alert');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-alert.png'), fullPage: true });

      first.add([2, 2, 2, 2, 2]);
      await page.waitForSelector('#alert-banner', { state: 'hidden', timeout: 3000 });

      // The server goes away: the page says so, then picks up the new server's full state by itself.
      await page.evaluate(() => (window.marker = 'same page'));
      await dashboard.close();
      open.splice(open.indexOf(dashboard), 1);
      await page.waitForFunction(() => document.body.dataset.state === 'offline', null, { timeout: 5000 });
      const second = makeState();
      second.add([7, 9]);
      await serve(dashboard.port, second);
      await page.waitForFunction(
        () => document.querySelector('[data-figure="rows"]')?.dataset.value === '2',
        null,
        { timeout: 10_000 },
      );
      const shown = await readShown(page);
      expect(shown.maeText).toBe('8');
      expect(shown.state).not.toBe('offline');
      expect(await page.evaluate(() => window.marker)).toBe('same page');
      await page.close();
    });
  });
});
