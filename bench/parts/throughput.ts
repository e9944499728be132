// Parts 1, 2 and 4: rows/s of the ceiling and of the real pipeline at max rate, and what each process costs.
import { queueStatus } from '../broker.js';
import {
  assertAlive,
  costs,
  openScope,
  sleep,
  snapshot,
  type BenchContext,
  type CpuSnapshot,
  type ProcessCost,
} from '../context.js';
import { LineFollower } from '../follow.js';
import { wallClockNow } from '../../src/util/wallClock.js';
import path from 'node:path';
import { startCeiling, startPipeline } from '../pipeline.js';
import { stopAll, type Child } from '../processes.js';

export interface ThroughputRun {
  kind: 'ceiling' | 'pipeline';
  rowsPerSecond: number;
  rowsInWindow: number;
  windowSeconds: number;
  /** Ready messages left in each queue at the end of the window: a growing backlog means the producer outran the rest. */
  backlog: { features: number; y_true: number; y_pred: number };
  processes: Record<string, ProcessCost>;
  /** CPU seconds of RabbitMQ's VM (beam.smp) during the window; null when it is not visible. */
  brokerCpuSecondsWindow: number | null;
  benchCpuSecondsWindow: number;
}

interface Window {
  rows: number;
  seconds: number;
  from: CpuSnapshot;
  to: CpuSnapshot;
  backlog: ThroughputRun['backlog'];
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  alive: () => void,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    alive();
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

function summarise(kind: ThroughputRun['kind'], children: Child[], w: Window): ThroughputRun {
  return {
    kind,
    rowsPerSecond: w.rows / w.seconds,
    rowsInWindow: w.rows,
    windowSeconds: w.seconds,
    backlog: w.backlog,
    processes: costs(children, w.from, w.to),
    brokerCpuSecondsWindow:
      w.from.broker === undefined || w.to.broker === undefined ? null : w.to.broker - w.from.broker,
    benchCpuSecondsWindow: w.to.bench - w.from.bench,
  };
}

async function backlogOf(ctx: BenchContext, prefix: string): Promise<ThroughputRun['backlog']> {
  const s = await queueStatus(ctx.conn, prefix);
  return { features: s.features.messages, y_true: s.y_true.messages, y_pred: s.y_pred.messages };
}

/** Part 1: producer, forwarder and joiner on the broker adapter, producer at max rate. */
export async function ceilingThroughput(ctx: BenchContext, index: number): Promise<ThroughputRun> {
  const { warmupSeconds, windowSeconds, maxInFlight } = ctx.settings.throughput;
  const scope = openScope(ctx, `ceil${index}`);
  const children: Child[] = [];
  try {
    const ceiling = await startCeiling(scope);
    ctx.note(`ceiling ${index}: joiner and forwarder consuming`);
    children.push(ceiling.joiner.child, ceiling.forwarder.child);
    const producer = ceiling.startProducer(['--rate', 'max', '--max-in-flight', String(maxInFlight)]);
    children.unshift(producer.child);
    await producer.when('ready', 30_000);
    await waitUntil(
      'the first matched row',
      async () => (await ceiling.joiner.stats()).count > 0,
      30_000,
      () => assertAlive(children),
    );
    ctx.note(`ceiling ${index}: first row matched`);
    await sleep(warmupSeconds * 1000);
    const from = snapshot(children, ctx.brokerPid);
    const a = await ceiling.joiner.stats();
    await sleep(windowSeconds * 1000);
    const b = await ceiling.joiner.stats();
    const to = snapshot(children, ctx.brokerPid);
    assertAlive(children);
    const backlog = await backlogOf(ctx, scope.prefix);
    await stopAll(children);
    ctx.note(`ceiling ${index}: stopped`);
    return summarise('ceiling', children, {
      rows: b.count - a.count,
      seconds: (b.atMs - a.atMs) / 1000,
      from,
      to,
      backlog,
    });
  } finally {
    await stopAll(children);
    await scope.release();
  }
}

/** Part 2: the four services as separate processes, features at --rate max. */
export async function pipelineThroughput(
  ctx: BenchContext,
  index: number,
): Promise<ThroughputRun & { plotIncluded: boolean }> {
  const { warmupSeconds, windowSeconds, maxInFlight } = ctx.settings.throughput;
  const scope = openScope(ctx, `pipe${index}`);
  const children: Child[] = [];
  let rows = 0;
  const follower = new LineFollower(path.join(scope.dir, 'metric_log.csv'), {
    pollMs: 50,
    watch: false,
    onLines: (lines) => {
      rows += lines.length;
    },
  });
  const rowCount = () => {
    follower.pass();
    return { rows: rows - 1, atMs: wallClockNow() }; // minus the header
  };
  try {
    const pipeline = await startPipeline(ctx, scope, { withPlot: true });
    ctx.note(`pipeline ${index}: metric and model consuming`);
    children.push(...pipeline.consumers);
    const features = pipeline.startFeatures(['--rate', 'max', '--max-in-flight', String(maxInFlight)]);
    children.unshift(features);
    await waitUntil(
      'the first row in metric_log.csv',
      () => rowCount().rows > 0,
      30_000,
      () => assertAlive(children),
    );
    ctx.note(`pipeline ${index}: first row in metric_log.csv`);
    await sleep(warmupSeconds * 1000);
    const from = snapshot(children, ctx.brokerPid);
    const a = rowCount();
    await sleep(windowSeconds * 1000);
    const b = rowCount();
    const to = snapshot(children, ctx.brokerPid);
    assertAlive(children);
    const backlog = await backlogOf(ctx, scope.prefix);
    await stopAll(children);
    ctx.note(`pipeline ${index}: stopped`);
    return {
      ...summarise('pipeline', children, {
        rows: b.rows - a.rows,
        seconds: (b.atMs - a.atMs) / 1000,
        from,
        to,
        backlog,
      }),
      plotIncluded: pipeline.plotIncluded,
    };
  } finally {
    follower.close();
    await stopAll(children);
    await scope.release();
  }
}
