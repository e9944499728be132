// The benchmark's results: their shape, the checks against the targets, and the printed table. Pure.
import type { MachineInfo } from './machine.js';
import type { JoinMemoryResult } from './parts/joinMemory.js';
import { STAGE_LABELS, STAGES } from './latencyStages.js';
import type { LatencyResult } from './parts/latency.js';
import type { PlotScalingResult } from './parts/plotScaling.js';
import type { ThroughputRun } from './parts/throughput.js';
import type { BenchSettings } from './settings.js';
import { median } from './stats.js';

export interface ServiceCost {
  /** Highest VmHWM over the max-rate pipeline runs, MB. */
  peakRssMb: number;
  /** CPU seconds from start to stop, highest over the runs. */
  cpuSecondsTotal: number;
  /** CPU seconds during the measuring window, median over the runs. */
  cpuSecondsWindow: number;
  /** CPU milliseconds per row written in the window, median over the runs. */
  cpuMsPerRow: number;
}

export interface Check {
  name: string;
  value: number;
  target: string;
  pass: boolean;
}

export interface BenchResults {
  mode: BenchSettings['mode'];
  startedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  settings: BenchSettings;
  /** The CLI whose services were measured (dist/cli.js unless BENCH_CLI says otherwise). */
  servicesCli: string;
  /** Parts not run (--only), with why. */
  skipped: string[];
  /** What the run created and deleted again: its queue prefixes and its temporary folder. */
  cleanup: { queuePrefixes: string[]; workDir: string };
  /** Times the bench's own connection to RabbitMQ was lost and made again: figures taken across one are suspect. */
  brokerReconnects: number;
  /** PSI avg60 (percent) when the run ended, beside the figures at its start in `machine`. */
  pressureAtEnd: { cpu: number; io: number };
  /**
   * How far the wall clock moved against the monotonic clock over the run, in ms (positive: the wall
   * clock ran fast). A VM whose clock is being corrected shows it; latencies are wall-clock differences
   * between processes (src/util/wallClock.ts), so they stay right, but the figure says the host was busy.
   */
  wallClockDriftMs: number;
  throughput?: {
    /** In the order they ran: ceiling, pipeline, ceiling, pipeline, ... */
    runs: ThroughputRun[];
    ceilingRowsPerSecond: number[];
    pipelineRowsPerSecond: number[];
    /** Each pipeline run over each ceiling run beside it. */
    ratios: number[];
    medianRatio: number;
    plotIncluded: boolean;
  };
  latency?: LatencyResult;
  /** Part 4: each service process in the max-rate pipeline runs. */
  cost?: Record<string, ServiceCost>;
  plotScaling?: PlotScalingResult;
  joinMemory?: JoinMemoryResult;
  checks: Check[];
}

/** Per-service cost over the pipeline runs of part 2. */
export function serviceCosts(runs: readonly ThroughputRun[]): Record<string, ServiceCost> {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.processes)))];
  const out: Record<string, ServiceCost> = {};
  for (const name of names) {
    const of = runs.filter((r) => r.processes[name]).map((r) => ({ run: r, p: r.processes[name]! }));
    out[name] = {
      peakRssMb: Math.max(...of.map((x) => x.p.peakRssMb)),
      cpuSecondsTotal: Math.max(...of.map((x) => x.p.cpuSecondsTotal)),
      cpuSecondsWindow: median(of.map((x) => x.p.cpuSecondsWindow)),
      cpuMsPerRow: median(
        of
          .filter((x) => x.run.rowsInWindow > 0)
          .map((x) => (x.p.cpuSecondsWindow * 1000) / x.run.rowsInWindow),
      ),
    };
  }
  return out;
}

export function checks(r: Omit<BenchResults, 'checks'>): Check[] {
  const out: Check[] = [];
  const add = (name: string, value: number, target: string, pass: boolean) =>
    out.push({ name, value, target, pass });
  if (r.throughput) {
    const x = r.throughput.medianRatio;
    add('pipeline / ceiling rows/s (median ratio)', x, '>= 0.7', x >= 0.7);
  }
  if (r.latency) {
    const { p99Ratio, pipeline } = r.latency;
    add(`latency p99 / ceiling p99 at ${pipeline.rowsPerSecond} rows/s`, p99Ratio, '<= 2', p99Ratio <= 2);
    add(
      `latency p99 at ${pipeline.rowsPerSecond} rows/s (ms)`,
      pipeline.p99Ms,
      '<= 60',
      pipeline.p99Ms <= 60,
    );
  }
  for (const [name, c] of Object.entries(r.cost ?? {})) {
    add(`${name} peak RSS in run 2 (MB)`, c.peakRssMb, '<= 150', c.peakRssMb <= 150);
  }
  const jm = r.joinMemory;
  if (jm) {
    add(`metric RSS with ${jm.maxPending} halves pending (MB)`, jm.peakRssMb, '<= 400', jm.peakRssMb <= 400);
    add('metric RSS after they expired (MB)', jm.rssAfterExpiryMb, '< 150', jm.rssAfterExpiryMb < 150);
  }
  const ps = r.plotScaling;
  if (ps) {
    const ratio = Math.max(ps.ratioSeconds, 1 / ps.ratioSeconds);
    add(
      `plot update at ${ps.large.rows} vs ${ps.small.rows} rows (ratio)`,
      ps.ratioSeconds,
      'within 2x',
      ratio <= 2,
    );
  }
  return out;
}

const f = (x: number, digits = 0) =>
  Number.isNaN(x)
    ? '-'
    : Number.isFinite(x)
      ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
      : String(x);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

/** The human-readable summary printed at the end of a run. */
export function formatReport(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `predstream bench (${r.mode}) ${r.startedAt}: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ` +
      `Node ${m.node}, RabbitMQ ${m.rabbitmq}; ${f(r.durationSeconds, 0)} s`,
    `machine busy at start: load ${f(m.loadAverage1m, 2)}, CPU pressure ${f(m.cpuPressure60s, 0)}%, ` +
      `I/O pressure ${f(m.ioPressure60s, 0)}% (PSI avg60; other work on a shared machine shows here); ` +
      `at the end: CPU ${f(r.pressureAtEnd.cpu, 0)}%, I/O ${f(r.pressureAtEnd.io, 0)}%`,
  );
  if (Math.abs(r.wallClockDriftMs) >= 50)
    out.push(
      `the wall clock moved ${f(r.wallClockDriftMs, 0)} ms against the monotonic clock during the run (the host ` +
        'correcting it); latencies are read on the wall clock in every process, so they are not affected',
    );
  out.push('');
  const tp = r.throughput;
  if (tp)
    out.push(
      table([
        ['throughput (rows/s)', 'rows/s', 'window s', 'backlog f/yt/yp', 'broker CPU s'],
        ...tp.runs.map((run, i) => [
          `${i + 1}. ${run.kind}`,
          f(run.rowsPerSecond),
          f(run.windowSeconds, 1),
          `${run.backlog.features}/${run.backlog.y_true}/${run.backlog.y_pred}`,
          run.brokerCpuSecondsWindow === null ? '-' : f(run.brokerCpuSecondsWindow, 1),
        ]),
      ]),
      `pipeline / ceiling (adjacent pairs): ${tp.ratios.map((x) => f(x, 2)).join(', ')}; median ${f(tp.medianRatio, 2)}` +
        (tp.plotIncluded ? '' : ' (plot service not built: pipeline ran without it)'),
      '',
    );
  const lat = r.latency;
  if (lat)
    out.push(
      table([
        [`latency at ${f(lat.pipeline.rowsPerSecond)} rows/s`, 'rows', 'p50 ms', 'p99 ms', 'max ms'],
        ...lat.runs.map((run, i) => [
          `${i + 1}. ${run.kind}`,
          f(run.rows),
          f(run.p50Ms, 1),
          f(run.p99Ms, 1),
          f(run.maxMs, 1),
        ]),
        [
          'pipeline, pooled (publish -> CSV row)',
          f(lat.pipeline.rows),
          f(lat.pipeline.p50Ms, 1),
          f(lat.pipeline.p99Ms, 1),
          f(lat.pipeline.maxMs, 1),
        ],
        [
          'ceiling, pooled (publish -> joined)',
          f(lat.ceiling.rows),
          f(lat.ceiling.p50Ms, 1),
          f(lat.ceiling.p99Ms, 1),
          f(lat.ceiling.maxMs, 1),
        ],
      ]),
      `p99 ratio ${f(lat.p99Ratio, 2)}; the metric service's own histogram (same rows) puts p99 at <= ${f(lat.pipeline.histogramP99UpperBoundMs)} ms` +
        [lat.pipeline, lat.ceiling]
          .filter((x) => !x.sustained)
          .map(
            (x) =>
              `; ${x === lat.pipeline ? 'pipeline' : 'ceiling'} did not keep up (${f(x.rows)} of ${f(x.plannedRows)} rows in time: its figures are queueing)`,
          )
          .join(''),
      '',
      table([
        [
          "where a pipeline row's time goes (pooled)",
          'p50 ms',
          'p99 ms',
          'max ms',
          'ceiling p50',
          'ceiling p99',
        ],
        ...STAGES.map((stage) => {
          const x = lat.pipeline.stages[stage];
          const half =
            stage === 'yTrueReceived'
              ? lat.ceiling.halves.y_true
              : stage === 'yPredReceived'
                ? lat.ceiling.halves.y_pred
                : undefined;
          return [
            STAGE_LABELS[stage],
            f(x.p50Ms, 1),
            f(x.p99Ms, 1),
            f(x.maxMs, 1),
            half ? f(half.p50Ms, 1) : '-',
            half ? f(half.p99Ms, 1) : '-',
          ];
        }),
      ]),
      "stages from labels_log.txt (whole ms) and the metric's --row-latency-log: each span is a part of every row's latency, and their p99s do not " +
        "add up; the ceiling's columns: publish -> its joiner has that half (the same hops)",
      '',
      table([
        ['CPU over the measured rows (pooled)', 'CPU s', 'cores', 'waited for a core s'],
        ...(['ceiling', 'pipeline'] as const).flatMap((side) => {
          const cost = lat[side].cost;
          const cores = (cpu: number) => f(cpu / cost.seconds, 2);
          return [
            ...Object.entries(cost.processes).map(([name, p]) => [
              `${side} ${name}`,
              f(p.cpuSeconds, 1),
              cores(p.cpuSeconds),
              f(p.runQueueWaitSeconds, 2),
            ]),
            cost.brokerCpuSeconds === null
              ? [`${side} RabbitMQ`, '-', '-', '-']
              : [`${side} RabbitMQ`, f(cost.brokerCpuSeconds, 1), cores(cost.brokerCpuSeconds), '-'],
          ];
        }),
      ]),
      `over ${f(lat.ceiling.cost.seconds, 1)} s (ceiling) and ${f(lat.pipeline.cost.seconds, 1)} s (pipeline); ` +
        "waited: time a process's main thread (its event loop) was ready to run but had no core, from /proc/<pid>/schedstat",
      '',
    );
  if (r.cost)
    out.push(
      table([
        ['cost per service (max rate)', 'peak RSS MB', 'CPU s total', 'CPU s window', 'CPU ms/row'],
        ...Object.entries(r.cost ?? {}).map(([name, c]) => [
          name,
          f(c.peakRssMb),
          f(c.cpuSecondsTotal, 1),
          f(c.cpuSecondsWindow, 1),
          f(c.cpuMsPerRow, 3),
        ]),
      ]),
      '',
    );
  const ps = r.plotScaling;
  if (ps)
    out.push(
      table([
        [`plot: +${f(ps.appendRows)} rows and redraw`, 'start s', 'update s', 'update CPU s', 'peak RSS MB'],
        ...[ps.small, ps.large].map((c) => [
          `at ${f(c.rows)} rows`,
          f(c.startSeconds, 2),
          f(c.medianSeconds, 3),
          f(c.medianCpuSeconds, 3),
          f(c.peakRssMb),
        ]),
      ]),
      `large / small: ${f(ps.ratioSeconds, 2)} (wall), ${f(ps.ratioCpu, 2)} (CPU)`,
      '',
    );
  const jm = r.joinMemory;
  if (jm)
    out.push(
      `join memory: ${f(jm.maxPending)} of ${f(jm.halves)} y_true halves pending after ${f(jm.ingestSeconds, 1)} s; ` +
        `metric RSS idle ${f(jm.rssIdleMb)} MB, with them ${f(jm.rssAtMaxPendingMb)} MB (peak ${f(jm.peakRssMb)} MB), ` +
        `${f(jm.rssAfterExpiryMb)} MB after the ${jm.ttlSeconds} s TTL dropped them (${f(jm.expirySeconds, 1)} s later)`,
      '',
    );
  if (r.brokerReconnects > 0) {
    out.push(
      `WARNING: RabbitMQ went away ${r.brokerReconnects} time(s) during the run (restarted by someone?): the figures are suspect`,
      '',
    );
  }
  if (r.skipped.length > 0) out.push(`not run: ${r.skipped.join('; ')}`, '');
  out.push(
    table([
      ['target', 'value', 'wanted', ''],
      ...r.checks.map((c) => [c.name, f(c.value, 2), c.target, c.pass ? 'ok' : 'MISSED']),
    ]),
  );
  return out.join('\n');
}
