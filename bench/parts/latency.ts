// Part 3: publish-to-row latency at a fixed rate, for the real pipeline and for the ceiling.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRowLatencyLine } from '../../src/services/metric/rowLatencyLine.js';
import { seqOf } from '../ceiling/protocol.js';
import {
  addWindowCosts,
  assertAlive,
  openScope,
  sleep,
  snapshot,
  windowCost,
  type BenchContext,
  type CpuSnapshot,
  type WindowCost,
} from '../context.js';
import { LineFollower } from '../follow.js';
import {
  concatStages,
  parseLabelsLog,
  stageSamples,
  summariseStages,
  type StageName,
  type StageSamples,
} from '../latencyStages.js';
import { startCeiling, startPipeline } from '../pipeline.js';
import { sampleChildren, stopAll, type Child } from '../processes.js';
import { freePort, histogramBuckets, scrape } from '../scrape.js';
import {
  addBuckets,
  histogramQuantileUpperBound,
  subtractBuckets,
  summariseLatency,
  type HistogramBucket,
  type LatencySummary,
} from '../stats.js';

export interface LatencyRun extends LatencySummary {
  rowsPerSecond: number;
  /** Rows planned after the warm-up; `rows` is fewer when the run could not keep up and was cut at its deadline. */
  plannedRows: number;
  /** False when rows were still missing at the deadline: the offered rate was above what it could do, and the figures are queueing. */
  sustained: boolean;
  /** Rows sent before the measured ones and left out. */
  warmupRows: number;
  /** How the times were taken. */
  method: string;
  /** CPU of each process and of RabbitMQ, and how long each waited for a core, over the measured rows. */
  cost: WindowCost;
}

export interface PipelineLatencyRun extends LatencyRun {
  /** Cross-check from the metric service's own histogram (rows after the warm-up): the bucket bound holding p99, ms. */
  histogramP99UpperBoundMs: number;
  plotIncluded: boolean;
  /** Where the time goes, from the metric's labels_log.txt: each stage's figures over the measured rows. */
  stages: Record<StageName, LatencySummary>;
}

/** One run's figures, with its samples for pooling across runs. */
interface Measured<R> {
  run: R;
  samplesMs: number[];
}

type Halves<T> = { y_true: T; y_pred: T };

/** A ceiling run also brings, per half, publish -> the joiner has it. */
interface CeilingMeasured extends Measured<LatencyRun> {
  halvesMs: Halves<number[]>;
}

/** The ceiling's pooled figures, with its per-half receipt figures beside the pipeline's first stages. */
export interface CeilingLatency extends LatencyRun {
  halves: Halves<LatencySummary>;
}

/** A pipeline run also brings the metric service's histogram over its measured rows. */
interface PipelineMeasured extends Measured<PipelineLatencyRun> {
  buckets: HistogramBucket[];
  stageSamples: StageSamples;
}

/**
 * Part 3: ceiling and pipeline runs interleaved (C P C P ...), each side's figures pooled over its runs, so
 * a drift of the shared machine's speed between minutes falls on both sides alike.
 */
export interface LatencyResult {
  /** Each run, in the order they ran. */
  runs: (LatencyRun & { kind: 'ceiling' | 'pipeline' })[];
  /** Pooled over the pipeline runs. */
  pipeline: PipelineLatencyRun;
  /** Pooled over the ceiling runs. */
  ceiling: CeilingLatency;
  /** Pooled pipeline p99 / pooled ceiling p99. */
  p99Ratio: number;
}

function pool<R extends LatencyRun>(measured: Measured<R>[]): LatencyRun {
  const first = measured[0]!.run;
  return {
    rowsPerSecond: first.rowsPerSecond,
    warmupRows: first.warmupRows,
    plannedRows: measured.reduce((n, m) => n + m.run.plannedRows, 0),
    sustained: measured.every((m) => m.run.sustained),
    method: first.method,
    cost: addWindowCosts(measured.map((m) => m.run.cost)),
    ...summariseLatency(measured.flatMap((m) => m.samplesMs)),
  };
}

export async function latencyPart(ctx: BenchContext): Promise<LatencyResult> {
  const ceilings: CeilingMeasured[] = [];
  const pipelines: PipelineMeasured[] = [];
  const runs: LatencyResult['runs'] = [];
  for (let i = 1; i <= ctx.settings.latency.pairs; i++) {
    const c = await ceilingLatency(ctx);
    ctx.note(`ceiling latency run ${i}: p50 ${c.run.p50Ms.toFixed(1)} ms, p99 ${c.run.p99Ms.toFixed(1)} ms`);
    const p = await pipelineLatency(ctx);
    ctx.note(`pipeline latency run ${i}: p50 ${p.run.p50Ms.toFixed(1)} ms, p99 ${p.run.p99Ms.toFixed(1)} ms`);
    ceilings.push(c);
    pipelines.push(p);
    runs.push({ kind: 'ceiling', ...c.run }, { kind: 'pipeline', ...p.run });
  }
  const buckets = addBuckets(pipelines.map((p) => p.buckets));
  const pipeline: PipelineLatencyRun = {
    ...pool(pipelines),
    histogramP99UpperBoundMs: histogramQuantileUpperBound(buckets, 0.99) * 1000,
    plotIncluded: pipelines.every((p) => p.run.plotIncluded),
    stages: summariseStages(concatStages(pipelines.map((p) => p.stageSamples))),
  };
  const ceiling: CeilingLatency = {
    ...pool(ceilings),
    halves: {
      y_true: summariseLatency(ceilings.flatMap((c) => c.halvesMs.y_true)),
      y_pred: summariseLatency(ceilings.flatMap((c) => c.halvesMs.y_pred)),
    },
  };
  return { runs, pipeline, ceiling, p99Ratio: pipeline.p99Ms / ceiling.p99Ms };
}

const PIPELINE_METHOD =
  'metric (--row-latency-log): its clock right after its write of the row into metric_log.csv returned, minus ' +
  'the publish time features put in the header (both sub-ms wall clock)';
const CEILING_METHOD =
  'joiner: its clock at the match minus the publish time the producer put in the header (both sub-ms wall clock)';

/** How long a run at `rate` may take beyond its schedule before it is cut (so a slow machine still ends). */
const GRACE_MS = 10_000;

/** Waits (at most `timeoutMs`) until `file` holds at least `lines` complete lines. */
async function waitForLines(file: string, lines: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let n = 0;
    try {
      const text = readFileSync(file, 'utf8');
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n += 1;
    } catch {
      // not created yet
    }
    if (n >= lines || Date.now() > deadline) return;
    await sleep(100);
  }
}

/** By id (as in the CSV): the publish time and the time the row was written, from the metric's --row-latency-log. */
function rowLatencies(file: string): { publishedAt: Map<string, number>; writtenAt: Map<string, number> } {
  const publishedAt = new Map<string, number>();
  const writtenAt = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const parsed = parseRowLatencyLine(line);
    if (!parsed) continue;
    const id = String(JSON.parse(parsed.idJson));
    publishedAt.set(id, parsed.publishedAtMs);
    writtenAt.set(id, parsed.writtenAtMs);
  }
  return { publishedAt, writtenAt };
}

/**
 * The real pipeline at a fixed rate; latency = the metric's clock once a row's write returned - the publish
 * time in the header, as the ceiling's joiner measures its own (measuring from outside, a bench process woken
 * by inotify for every write, cost the pipeline alone a process wake-up per batch and the features service
 * two journal writes per row; NOTES.md, sixth session). The bench polls the CSV only to count its rows.
 */
async function pipelineLatency(ctx: BenchContext): Promise<PipelineMeasured> {
  const { rowsPerSecond, warmupRows, measuredRows } = ctx.settings.latency;
  const total = warmupRows + measuredRows;
  const scope = openScope(ctx, 'lat');
  const children: Child[] = [];
  /** CSV ids in the order the bench saw them. */
  const seen: string[] = [];
  let rows = 0;
  // The metric's histogram as it stood when the warm-up rows were in, so the cross-check covers the same rows.
  let atWarmup: Promise<HistogramBucket[]> | undefined;
  let metricsPort = 0;
  // What every process used over the measured rows: from the warm-up boundary to the last row.
  let fromSnapshot: CpuSnapshot | undefined;
  const latencyLog = path.join(scope.dir, 'row-latency.log');
  const csv = new LineFollower(path.join(scope.dir, 'metric_log.csv'), {
    pollMs: 50,
    watch: false,
    onLines(lines) {
      for (const line of lines) {
        const id = line.slice(0, line.indexOf(','));
        if (id === 'id') continue;
        rows += 1;
        seen.push(id);
        if (rows === warmupRows) fromSnapshot = snapshot(children, ctx.brokerPid);
        if (rows === warmupRows && metricsPort > 0) {
          atWarmup = scrape(metricsPort).then((text) =>
            histogramBuckets(text, 'predstream_end_to_end_seconds'),
          );
        }
      }
    },
  });
  try {
    metricsPort = await freePort();
    const pipeline = await startPipeline(ctx, scope, {
      withPlot: true,
      metricMetricsPort: metricsPort,
      metricArgs: ['--row-latency-log', latencyLog],
    });
    children.push(...pipeline.consumers);
    const features = pipeline.startFeatures(['--rate', String(rowsPerSecond), '--count', String(total)]);
    children.unshift(features);
    const deadline = Date.now() + (total / rowsPerSecond) * 1000 + 30_000;
    while (rows < total) {
      assertAlive(pipeline.consumers);
      if (Date.now() > deadline)
        throw new Error(`only ${rows} of ${total} rows reached metric_log.csv in time`);
      await sleep(50);
      sampleChildren(children);
    }
    const toSnapshot = snapshot(children, ctx.brokerPid);
    const text = await scrape(metricsPort);
    const buckets = subtractBuckets(
      histogramBuckets(text, 'predstream_end_to_end_seconds'),
      (await atWarmup?.catch(() => undefined)) ?? [],
    );
    // The metric appends its row latency lines every 100 ms: wait for them all, so the figures do not hang
    // on a clean shutdown (stop() kills a service that takes over 3 s), then read once it has stopped.
    await waitForLines(latencyLog, rows, 5_000);
    await stopAll(children);
    const { publishedAt, writtenAt } = rowLatencies(latencyLog);
    const samples: number[] = [];
    let unmatched = 0;
    for (const id of seen) {
      const sent = publishedAt.get(id);
      const written = writtenAt.get(id);
      if (sent === undefined || written === undefined) unmatched += 1;
      else if (seqOf(id) > warmupRows) samples.push(written - sent);
    }
    if (unmatched > 0)
      throw new Error(
        `${unmatched} CSV rows had no line in the metric's --row-latency-log: it is not what the bench expects`,
      );
    const stages = stageSamples(
      parseLabelsLog(readFileSync(path.join(scope.dir, 'labels_log.txt'), 'utf8')),
      publishedAt,
      writtenAt,
      (id) => seqOf(id) > warmupRows,
    );
    const run: PipelineLatencyRun = {
      rowsPerSecond,
      warmupRows,
      plannedRows: measuredRows,
      sustained: rows >= total,
      method: PIPELINE_METHOD,
      ...summariseLatency(samples),
      histogramP99UpperBoundMs: histogramQuantileUpperBound(buckets, 0.99) * 1000,
      plotIncluded: pipeline.plotIncluded,
      stages: summariseStages(stages),
      cost: windowCost(children, fromSnapshot, toSnapshot),
    };
    return { run, samplesMs: samples, buckets, stageSamples: stages };
  } finally {
    csv.close();
    await stopAll(children);
    await scope.release();
  }
}

/** The ceiling at the same fixed rate; latency measured in the joiner from the publish time in the header. */
async function ceilingLatency(ctx: BenchContext): Promise<CeilingMeasured> {
  const { rowsPerSecond, warmupRows, measuredRows } = ctx.settings.latency;
  const total = warmupRows + measuredRows;
  const scope = openScope(ctx, 'clat');
  const children: Child[] = [];
  try {
    const ceiling = await startCeiling(scope);
    children.push(ceiling.joiner.child, ceiling.forwarder.child);
    const producer = ceiling.startProducer(['--rate', String(rowsPerSecond), '--count', String(total)]);
    children.unshift(producer.child);
    const deadline = Date.now() + (total / rowsPerSecond) * 1000 + GRACE_MS;
    let matched = 0;
    let fromSnapshot: CpuSnapshot | undefined;
    while (matched < total && Date.now() < deadline) {
      assertAlive([ceiling.joiner.child, ceiling.forwarder.child]);
      await sleep(50);
      matched = (await ceiling.joiner.stats()).count;
      sampleChildren(children);
      if (matched >= warmupRows) fromSnapshot ??= snapshot(children, ctx.brokerPid);
    }
    const toSnapshot = snapshot(children, ctx.brokerPid);
    const stats = await ceiling.joiner.stats(warmupRows);
    await stopAll(children);
    if (!stats.latencyMs || !stats.halvesMs) throw new Error('the joiner sent no latency figures');
    const run: LatencyRun = {
      rowsPerSecond,
      warmupRows,
      plannedRows: measuredRows,
      sustained: stats.count >= total,
      method: CEILING_METHOD,
      ...summariseLatency(stats.latencyMs),
      cost: windowCost(children, fromSnapshot, toSnapshot),
    };
    return { run, samplesMs: stats.latencyMs, halvesMs: stats.halvesMs };
  } finally {
    await stopAll(children);
    await scope.release();
  }
}
