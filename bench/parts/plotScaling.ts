// Part 5: what one plot update costs (absorb N new rows and redraw) with a short and with a long metric_log.csv.
import { appendFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { assertAlive, openScope, sleep, type BenchContext } from '../context.js';
import { LineFollower } from '../follow.js';
import { wallClockNow } from '../../src/util/wallClock.js';
import { metricRows, writeMetricCsv } from '../metricCsvGen.js';
import { CLI, plotServiceBuilt } from '../paths.js';
import { sampleProcess } from '../proc.js';
import { startNode, stop, type Child } from '../processes.js';
import { median } from '../stats.js';

export interface PlotUpdate {
  /** Rows in the file before the append. */
  rowsBefore: number;
  /** From the append to the redraw that includes the new rows (the plot's own log line). */
  seconds: number;
  /** CPU seconds the plot process spent in that time. */
  cpuSeconds: number;
}

export interface PlotScalingCase {
  rows: number;
  /** From start to the first picture with every existing row. */
  startSeconds: number;
  updates: PlotUpdate[];
  medianSeconds: number;
  medianCpuSeconds: number;
  peakRssMb: number;
  /** RSS after the last update, MB: what it keeps, as opposed to its peak while reading the file. */
  rssAfterMb: number;
}

export interface PlotScalingResult {
  method: string;
  appendRows: number;
  intervalSeconds: number;
  small: PlotScalingCase;
  large: PlotScalingCase;
  /** large / small, by wall time and by CPU time. */
  ratioSeconds: number;
  ratioCpu: number;
}

interface Redraw {
  seenAt: number;
  rows: number;
}

async function measureCase(ctx: BenchContext, rows: number): Promise<PlotScalingCase> {
  const { appendRows, intervalSeconds, repeats } = ctx.settings.plotScaling;
  const scope = openScope(ctx, `plot${rows}`);
  const csv = path.join(scope.dir, 'metric_log.csv');
  writeMetricCsv(csv, rows);
  const redraws: Redraw[] = [];
  const logFile = path.join(scope.dir, 'plot.log');
  const log = new LineFollower(logFile, {
    pollMs: 5,
    watch: true,
    onLines(lines, seenAt) {
      for (const line of lines) {
        if (!line.includes('redrew')) continue;
        const entry = JSON.parse(line) as { rows?: unknown; msg?: unknown };
        if (typeof entry.rows === 'number') redraws.push({ seenAt, rows: entry.rows });
      }
    },
  });
  let plot: Child | undefined;
  const waitForDraw = async (atLeast: number, timeoutMs: number): Promise<Redraw> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      log.pass();
      const hit = redraws.find((r) => r.rows >= atLeast);
      if (hit) return hit;
      assertAlive([plot!]);
      if (Date.now() > deadline) {
        throw new Error(
          `the plot service logged no 'redrew' line with rows >= ${atLeast} in ${timeoutMs} ms ` +
            `(the bench reads its debug line {rows, msg: 'redrew ...'}; see ${logFile})`,
        );
      }
      await sleep(2);
    }
  };
  try {
    const started = wallClockNow();
    plot = startNode(
      'plot',
      CLI,
      [
        'plot',
        '--metrics-port',
        '0',
        '--log-format',
        'json',
        '--log-level',
        'debug',
        '--logs',
        scope.dir,
        '--interval',
        String(intervalSeconds),
        '--http-port',
        '0',
      ],
      scope.dir,
    );
    const first = await waitForDraw(rows, 120_000);
    const startSeconds = (first.seenAt - started) / 1000;
    const updates: PlotUpdate[] = [];
    let total = rows;
    for (let i = 0; i < repeats; i++) {
      await sleep(intervalSeconds * 1000 + 300); // let the previous draw and poll settle
      const text = metricRows(total, total + appendRows);
      const cpuBefore = sampleProcess(plot.pid)?.cpuSeconds ?? Number.NaN;
      const pngBefore = statSync(path.join(scope.dir, 'error_distribution.png')).mtimeMs;
      appendFileSync(csv, text);
      const t0 = wallClockNow();
      const drawn = await waitForDraw(total + appendRows, 60_000);
      const cpuAfter = sampleProcess(plot.pid)?.cpuSeconds ?? Number.NaN;
      if (statSync(path.join(scope.dir, 'error_distribution.png')).mtimeMs <= pngBefore) {
        throw new Error('the plot service logged a redraw but error_distribution.png was not rewritten');
      }
      updates.push({
        rowsBefore: total,
        seconds: (drawn.seenAt - t0) / 1000,
        cpuSeconds: cpuAfter - cpuBefore,
      });
      total += appendRows;
    }
    const rssAfterMb = sampleProcess(plot.pid)?.rssMb ?? Number.NaN;
    await stop(plot);
    return {
      rssAfterMb,
      rows,
      startSeconds,
      updates,
      medianSeconds: median(updates.map((u) => u.seconds)),
      medianCpuSeconds: median(updates.map((u) => u.cpuSeconds)),
      peakRssMb: plot.last?.peakRssMb ?? Number.NaN,
    };
  } finally {
    log.close();
    if (plot) await stop(plot);
    await scope.release();
  }
}

export async function plotScaling(ctx: BenchContext): Promise<PlotScalingResult> {
  if (!plotServiceBuilt()) {
    throw new Error('dist/ has no plot service: run npm run build first');
  }
  const { smallRows, largeRows, appendRows, intervalSeconds, repeats } = ctx.settings.plotScaling;
  const small = await measureCase(ctx, smallRows);
  const large = await measureCase(ctx, largeRows);
  return {
    method:
      `the plot service (dist/cli.js plot --interval ${intervalSeconds}) started on a file of N rows; ` +
      `${appendRows} rows appended in one write; timed until its debug log says it redrew with them ` +
      `(and error_distribution.png is newer); median of ${repeats} appends`,
    appendRows,
    intervalSeconds,
    small,
    large,
    ratioSeconds: large.medianSeconds / small.medianSeconds,
    ratioCpu: large.medianCpuSeconds / small.medianCpuSeconds,
  };
}
