// Part 3: publish-to-row latency at a fixed rate, for the real pipeline and for the ceiling.
import path from 'node:path';
import { seqOf } from '../ceiling/protocol.js';
import { assertAlive, openScope, sleep, type BenchContext } from '../context.js';
import { LineFollower } from '../follow.js';
import { startCeiling, startPipeline } from '../pipeline.js';
import { stopAll, type Child } from '../processes.js';
import { freePort, histogramBuckets, scrape } from '../scrape.js';
import {
  histogramQuantileUpperBound,
  subtractBuckets,
  summariseLatency,
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
}

export interface PipelineLatencyRun extends LatencyRun {
  /** Cross-check from the metric service's own histogram (rows after the warm-up): the bucket bound holding p99, ms. */
  histogramP99UpperBoundMs: number;
  plotIncluded: boolean;
}

const PIPELINE_METHOD =
  'features --published-log: each "sent <id>" line and each metric_log.csv row timestamped by the bench ' +
  'when it first sees it (inotify on the logs folder, 5 ms poll as fallback)';
const CEILING_METHOD = 'joiner: its clock at the match minus the publish time the producer put in the header';

/** How long a run at `rate` may take beyond its schedule before it is cut (so a slow machine still ends). */
const GRACE_MS = 10_000;

/** The real pipeline at a fixed rate; latency = CSV row seen - "sent" line seen, per id. */
export async function pipelineLatency(ctx: BenchContext): Promise<PipelineLatencyRun> {
  const { rowsPerSecond, warmupRows, pipelineRows } = ctx.settings.latency;
  const total = warmupRows + pipelineRows;
  const scope = openScope(ctx, 'lat');
  const children: Child[] = [];
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  let rows = 0;
  let unmatched = 0;
  // The metric's histogram as it stood when the warm-up rows were in, so the cross-check covers the same rows.
  let atWarmup: Promise<{ le: number; count: number }[]> | undefined;
  let metricsPort = 0;
  const publishedLog = path.join(scope.dir, 'published.log');
  const sent = new LineFollower(publishedLog, {
    pollMs: 5,
    watch: true,
    onLines(lines, seenAt) {
      for (const line of lines) {
        if (!line.startsWith('sent ')) continue;
        // `sent <idKey> <row>`: the id as JSON, a string id in quotes.
        const key = line.slice(5, line.lastIndexOf(' '));
        sentAt.set(JSON.parse(key) as string, seenAt);
      }
    },
  });
  const csv = new LineFollower(path.join(scope.dir, 'metric_log.csv'), {
    pollMs: 5,
    watch: true,
    onLines(lines, seenAt) {
      sent.pass(); // a row is never seen before its "sent" line
      for (const line of lines) {
        const id = line.slice(0, line.indexOf(','));
        if (id === 'id') continue;
        rows += 1;
        const at = sentAt.get(id);
        if (at === undefined) {
          unmatched += 1;
          continue;
        }
        sentAt.delete(id);
        if (seqOf(id) > warmupRows) samples.push(seenAt - at);
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
    const pipeline = await startPipeline(ctx, scope, { withPlot: true, metricMetricsPort: metricsPort });
    children.push(...pipeline.consumers);
    const features = pipeline.startFeatures([
      '--rate',
      String(rowsPerSecond),
      '--count',
      String(total),
      '--published-log',
      publishedLog,
    ]);
    children.unshift(features);
    const deadline = Date.now() + (total / rowsPerSecond) * 1000 + 30_000;
    while (rows < total) {
      assertAlive(pipeline.consumers);
      if (Date.now() > deadline)
        throw new Error(`only ${rows} of ${total} rows reached metric_log.csv in time`);
      await sleep(50);
    }
    if (unmatched > 0)
      throw new Error(
        `${unmatched} CSV rows had no "sent" line: the published log is not what the bench expects`,
      );
    const text = await scrape(metricsPort);
    const buckets = subtractBuckets(
      histogramBuckets(text, 'predstream_end_to_end_seconds'),
      (await atWarmup?.catch(() => undefined)) ?? [],
    );
    await stopAll(children);
    return {
      rowsPerSecond,
      warmupRows,
      plannedRows: pipelineRows,
      sustained: rows >= total,
      method: PIPELINE_METHOD,
      ...summariseLatency(samples),
      histogramP99UpperBoundMs: histogramQuantileUpperBound(buckets, 0.99) * 1000,
      plotIncluded: pipeline.plotIncluded,
    };
  } finally {
    sent.close();
    csv.close();
    await stopAll(children);
    await scope.release();
  }
}

/** The ceiling at the same fixed rate; latency measured in the joiner from the publish time in the header. */
export async function ceilingLatency(ctx: BenchContext): Promise<LatencyRun> {
  const { rowsPerSecond, warmupRows, ceilingRows } = ctx.settings.latency;
  const total = warmupRows + ceilingRows;
  const scope = openScope(ctx, 'clat');
  const children: Child[] = [];
  try {
    const ceiling = await startCeiling(scope);
    children.push(ceiling.joiner.child, ceiling.forwarder.child);
    const producer = ceiling.startProducer(['--rate', String(rowsPerSecond), '--count', String(total)]);
    children.unshift(producer.child);
    const deadline = Date.now() + (total / rowsPerSecond) * 1000 + GRACE_MS;
    let matched = 0;
    while (matched < total && Date.now() < deadline) {
      assertAlive([ceiling.joiner.child, ceiling.forwarder.child]);
      await sleep(50);
      matched = (await ceiling.joiner.stats()).count;
    }
    const stats = await ceiling.joiner.stats(warmupRows);
    await stopAll(children);
    if (!stats.latency) throw new Error('the joiner sent no latency figures');
    return {
      rowsPerSecond,
      warmupRows,
      plannedRows: ceilingRows,
      sustained: stats.count >= total,
      method: CEILING_METHOD,
      ...stats.latency,
    };
  } finally {
    await stopAll(children);
    await scope.release();
  }
}
