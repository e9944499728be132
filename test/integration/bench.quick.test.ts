// Runs the benchmark in --quick mode against the real RabbitMQ and checks it produced every figure and cleaned up.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/report.js';
import { QUEUES, queueName } from '../../src/contract/wire.js';
import { openTestConnection } from '../support/broker.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function expectFigure(value: unknown, what: string): void {
  expect(typeof value, what).toBe('number');
  expect(Number.isFinite(value as number), `${what} = ${String(value)}`).toBe(true);
}

describe('npm run bench -- --quick', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'predstream-bench-test-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it(
    'measures every part, writes every figure and leaves no queue or folder behind',
    { timeout: 300_000 },
    async () => {
      if (!existsSync(path.join(ROOT, 'dist', 'cli.js')))
        throw new Error('dist/cli.js is missing: run npm run build first');
      await run('npx', ['tsc', '-p', 'bench/tsconfig.json'], { cwd: ROOT });
      const out = path.join(tmp, 'results.json');
      const { stdout } = await run(process.execPath, ['bench/out/bench/run.js', '--quick', '--out', out], {
        cwd: ROOT,
        timeout: 240_000,
      });
      expect(stdout).toContain('target');
      const r = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;

      expect(r.mode).toBe('quick');
      expect(r.skipped).toEqual([]);
      expect(r.machine.cores).toBeGreaterThan(0);
      expect(r.machine.node).toBe(process.version);
      expect(r.machine.rabbitmq).toMatch(/^\d+\.\d+/);

      const tp = r.throughput!;
      const pairs = r.settings.throughput.pairs;
      expect(tp.runs.map((x) => x.kind)).toEqual(
        Array.from({ length: pairs }, () => ['ceiling', 'pipeline']).flat(),
      );
      for (const [i, x] of tp.runs.entries()) {
        expectFigure(x.rowsPerSecond, `run ${i + 1} rows/s`);
        expect(x.rowsInWindow, `run ${i + 1} rows in window`).toBeGreaterThanOrEqual(0);
      }
      expect(tp.ratios).toHaveLength(2 * pairs - 1);
      expect(typeof tp.medianRatio).toBe('number');

      const { measuredRows, pairs: latencyPairs } = r.settings.latency;
      expect(r.latency!.runs.map((x) => [x.kind, x.rows])).toEqual(
        Array.from({ length: latencyPairs }, () => [
          ['ceiling', measuredRows],
          ['pipeline', measuredRows],
        ]).flat(),
      );
      expect(r.latency!.pipeline.rows).toBe(latencyPairs * measuredRows);
      expect(r.latency!.ceiling.rows).toBe(latencyPairs * measuredRows);
      for (const lat of [r.latency!.pipeline, r.latency!.ceiling]) {
        for (const k of ['p50Ms', 'p99Ms', 'maxMs'] as const) expectFigure(lat[k], `latency ${k}`);
        expect(lat.p50Ms).toBeLessThanOrEqual(lat.p99Ms);
        expect(lat.p99Ms).toBeLessThanOrEqual(lat.maxMs);
      }
      expectFigure(r.latency!.p99Ratio, 'p99 ratio');
      for (const half of ['y_true', 'y_pred'] as const) {
        expect(r.latency!.ceiling.halves[half].rows, `ceiling ${half} rows`).toBe(
          latencyPairs * measuredRows,
        );
        expectFigure(r.latency!.ceiling.halves[half].p99Ms, `ceiling ${half} p99`);
      }
      // Every measured row's latency split into stages from labels_log.txt.
      for (const [stage, x] of Object.entries(r.latency!.pipeline.stages)) {
        expect(x.rows, `stage ${stage} rows`).toBe(latencyPairs * measuredRows);
        expectFigure(x.p50Ms, `stage ${stage} p50`);
        expect(x.p50Ms, `stage ${stage} p50`).toBeGreaterThanOrEqual(-1); // whole-ms log times: +-1 ms
      }

      // What each process used over the measured rows, and how long its event loop waited for a core.
      const sides = {
        ceiling: ['forwarder', 'joiner', 'producer'],
        pipeline: ['features', 'metric', 'model'],
      };
      const producers = new Set(['producer', 'features']);
      for (const [side, names] of Object.entries(sides) as [keyof typeof sides, string[]][]) {
        const cost = r.latency![side].cost;
        expect(cost.seconds, `${side} window`).toBeGreaterThan(0);
        for (const name of names) {
          const p = cost.processes[name];
          expect(p, `${side} ${name}`).toBeDefined();
          expectFigure(p!.cpuSeconds, `${side} ${name} CPU`);
          expectFigure(p!.runQueueWaitSeconds, `${side} ${name} run-queue wait`);
          // The consumers handle every measured row inside the window. The publisher may be done before it
          // opens: in --quick mode it sends its 350 rows in 0.35 s, while a cold pipeline can take longer to
          // bring the 50 warm-up rows through (then its window is 0, never below).
          if (producers.has(name)) expect(p!.cpuSeconds, `${side} ${name} CPU`).toBeGreaterThanOrEqual(0);
          else expect(p!.cpuSeconds, `${side} ${name} CPU`).toBeGreaterThan(0);
          expect(p!.runQueueWaitSeconds, `${side} ${name} run-queue wait`).toBeGreaterThanOrEqual(0);
        }
        // Like the throughput part's broker column: measured when RabbitMQ runs on this machine (it does in CI).
        if (tp.runs[0]!.brokerCpuSecondsWindow === null) expect(cost.brokerCpuSeconds).toBeNull();
        else expectFigure(cost.brokerCpuSeconds, `${side} broker CPU`);
      }

      const services = r.throughput!.runs.find((x) => x.kind === 'pipeline')!;
      const expected = ['features', 'metric', 'model', ...(tp.plotIncluded ? ['plot'] : [])];
      expect(Object.keys(r.cost!).sort()).toEqual(expected.sort());
      expect(Object.keys(services.processes).sort()).toEqual(expected.sort());
      for (const [name, c] of Object.entries(r.cost!)) {
        expectFigure(c.peakRssMb, `${name} peak RSS`);
        expectFigure(c.cpuSecondsTotal, `${name} CPU`);
        expect(c.peakRssMb, `${name} peak RSS`).toBeGreaterThan(10);
      }

      const ps = r.plotScaling!;
      for (const c of [ps.small, ps.large]) {
        expect(c.updates).toHaveLength(r.settings.plotScaling.repeats);
        expectFigure(c.medianSeconds, `plot update at ${c.rows} rows`);
        expectFigure(c.medianCpuSeconds, `plot update CPU at ${c.rows} rows`);
      }
      expect(ps.large.rows).toBe(r.settings.plotScaling.largeRows);
      expectFigure(ps.ratioSeconds, 'plot ratio');

      const jm = r.joinMemory!;
      expect(jm.maxPending).toBe(r.settings.joinMemory.halves);
      for (const k of [
        'rssIdleMb',
        'rssAtMaxPendingMb',
        'peakRssMb',
        'rssAfterExpiryMb',
        'expirySeconds',
      ] as const) {
        expectFigure(jm[k], `join memory ${k}`);
      }

      expect(r.checks.length).toBeGreaterThanOrEqual(7);
      for (const c of r.checks) expect(typeof c.pass).toBe('boolean');

      // Clean-up: the temporary folder is gone, and so is every queue the run declared.
      expect(existsSync(r.cleanup.workDir)).toBe(false);
      expect(r.cleanup.queuePrefixes.length).toBe(2 * pairs + 2 + 2 + 1);
      const conn = await openTestConnection();
      try {
        for (const prefix of r.cleanup.queuePrefixes) {
          for (const q of QUEUES) {
            await expect(
              conn.queueDeclare({ queue: queueName(prefix, q), passive: true }),
              `${prefix}${q}`,
            ).rejects.toThrow(/NOT_FOUND/);
          }
        }
      } finally {
        await conn.close();
      }
    },
  );
});
