// `npm run bench`: runs every part of the benchmark, prints the table and writes bench/results.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { maskUrl } from '../src/broker/url.js';
import { AMQP_URL, localBrokerPort, openBenchConnection } from './broker.js';
import type { BenchContext } from './context.js';
import { machineInfo, pressure } from './machine.js';
import { joinMemory } from './parts/joinMemory.js';
import { latencyPart } from './parts/latency.js';
import { plotScaling } from './parts/plotScaling.js';
import { ceilingThroughput, pipelineThroughput, type ThroughputRun } from './parts/throughput.js';
import { CLI, RESULTS_FILE } from './paths.js';
import { findBrokerPid } from './proc.js';
import { checks, formatReport, serviceCosts, type BenchResults } from './report.js';
import { FULL, QUICK } from './settings.js';
import { adjacentRatios, median } from './stats.js';

const PARTS = ['throughput', 'latency', 'plot', 'join'] as const;
type Part = (typeof PARTS)[number];

const USAGE =
  `usage: npm run bench -- [--quick] [--out FILE] [--only ${PARTS.join(',')}] ` +
  '[--join-halves N] [--join-ttl SECONDS] [--max-in-flight N]';

const HELP = `${USAGE}

Measures predstream against the RabbitMQ on 127.0.0.1:5672 (AMQP_URL to change it): the broker-only
ceiling and the real pipeline, interleaved; see "Performance" in README.md for how to read the table.
Every part uses its own queue prefix and temporary folder and deletes them afterwards.

  --quick              a few hundred rows per part (seconds, not minutes): checks that it still works
  --out FILE           where to write the results (default bench/results.json)
  --only PARTS         run only these parts, comma-separated: ${PARTS.join(', ')}
  --join-halves N      y_true halves left pending in the join-memory part (default ${FULL.joinMemory.halves}; the
                       issue's 1,000,000 takes ~7.5 min: --only join --join-halves 1000000 --join-ttl 300)
  --join-ttl SECONDS   the metric's --join-ttl in that part (default ${FULL.joinMemory.ttlSeconds})
  --max-in-flight N    rows in flight at max rate, both sides (default ${FULL.throughput.maxInFlight})
  -h, --help           this text`;

interface Args {
  quick: boolean;
  out: string;
  only: Set<Part>;
  joinHalves?: number;
  joinTtl?: number;
  maxInFlight?: number;
}

function positive(flag: string, text: string | undefined): number {
  const n = Number(text);
  if (!(Number.isFinite(n) && n > 0))
    throw new Error(`${flag} needs a number greater than 0, got '${text}'\n${USAGE}`);
  return n;
}

function parseArgs(argv: string[]): Args {
  let quick = false;
  let out = RESULTS_FILE;
  let only = new Set<Part>(PARTS);
  let joinHalves: number | undefined;
  let joinTtl: number | undefined;
  let maxInFlight: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${HELP}\n`);
      process.exit(0);
    } else if (a === '--quick') quick = true;
    else if (a === '--join-halves') joinHalves = Math.round(positive(a, argv[++i]));
    else if (a === '--join-ttl') joinTtl = positive(a, argv[++i]);
    else if (a === '--max-in-flight') maxInFlight = Math.round(positive(a, argv[++i]));
    else if (a === '--out' && argv[i + 1]) out = path.resolve(argv[++i]!);
    else if (a === '--only' && argv[i + 1]) {
      const names = argv[++i]!.split(',');
      const bad = names.filter((n) => !(PARTS as readonly string[]).includes(n));
      if (bad.length > 0)
        throw new Error(`unknown part ${bad.join(', ')}; parts are ${PARTS.join(', ')}\n${USAGE}`);
      only = new Set(names as Part[]);
    } else throw new Error(`unknown argument '${a}'\n${USAGE}`);
  }
  return { quick, out, only, joinHalves, joinTtl, maxInFlight };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const base = args.quick ? QUICK : FULL;
  const settings = {
    ...base,
    throughput: { ...base.throughput, maxInFlight: args.maxInFlight ?? base.throughput.maxInFlight },
    joinMemory: {
      halves: args.joinHalves ?? base.joinMemory.halves,
      ttlSeconds: args.joinTtl ?? base.joinMemory.ttlSeconds,
    },
  };
  const t0 = Date.now();
  const mono0 = performance.now();
  const note = (m: string) =>
    process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}\n`);
  const machine = await machineInfo();
  const conn = await openBenchConnection();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'predstream-bench-'));
  const brokerPort = localBrokerPort();
  const brokerPid = brokerPort === undefined ? undefined : findBrokerPid(brokerPort);
  if (brokerPid === undefined)
    note(`cannot tell which process is RabbitMQ at ${maskUrl(AMQP_URL)}: its CPU is not measured`);
  const ctx: BenchContext = { settings, conn, workDir, brokerPid, note, prefixes: [] };
  let reconnects = 0;
  conn.on('connection', () => {
    reconnects += 1;
    note('WARNING: the connection to RabbitMQ was lost and made again; figures taken across it are suspect');
  });
  const results: Omit<BenchResults, 'checks'> = {
    mode: settings.mode,
    startedAt: new Date(t0).toISOString(),
    durationSeconds: 0,
    machine,
    settings,
    servicesCli: CLI,
    skipped: PARTS.filter((p) => !args.only.has(p)).map((p) => `${p} (--only)`),
    cleanup: { queuePrefixes: ctx.prefixes, workDir },
    brokerReconnects: 0,
    pressureAtEnd: { cpu: Number.NaN, io: Number.NaN },
    wallClockDriftMs: 0,
  };
  try {
    if (args.only.has('throughput')) {
      const runs: ThroughputRun[] = [];
      let plotIncluded = true;
      for (let i = 1; i <= settings.throughput.pairs; i++) {
        const a = await ceilingThroughput(ctx, i);
        note(`ceiling run ${i}: ${a.rowsPerSecond.toFixed(0)} rows/s`);
        const b = await pipelineThroughput(ctx, i);
        note(
          `pipeline run ${i}: ${b.rowsPerSecond.toFixed(0)} rows/s${b.plotIncluded ? '' : ' (without plot)'}`,
        );
        plotIncluded &&= b.plotIncluded;
        runs.push(a, b);
      }
      const ceiling = runs.filter((r) => r.kind === 'ceiling').map((r) => r.rowsPerSecond);
      const pipeline = runs.filter((r) => r.kind === 'pipeline').map((r) => r.rowsPerSecond);
      const ratios = adjacentRatios(ceiling, pipeline);
      results.throughput = {
        runs,
        ceilingRowsPerSecond: ceiling,
        pipelineRowsPerSecond: pipeline,
        ratios,
        medianRatio: median(ratios),
        plotIncluded,
      };
      results.cost = serviceCosts(runs.filter((r) => r.kind === 'pipeline'));
    }
    if (args.only.has('latency')) {
      results.latency = await latencyPart(ctx);
    }
    if (args.only.has('plot')) {
      results.plotScaling = await plotScaling(ctx);
      note(
        `plot update: ${results.plotScaling.small.medianSeconds.toFixed(3)} s vs ${results.plotScaling.large.medianSeconds.toFixed(3)} s`,
      );
    }
    if (args.only.has('join')) {
      results.joinMemory = await joinMemory(ctx);
      note(`join memory: ${results.joinMemory.peakRssMb.toFixed(0)} MB peak`);
    }
  } finally {
    await conn.close().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
  results.durationSeconds = (Date.now() - t0) / 1000;
  results.wallClockDriftMs = Date.now() - t0 - (performance.now() - mono0);
  results.brokerReconnects = reconnects;
  results.pressureAtEnd = { cpu: pressure('cpu'), io: pressure('io') };
  const final: BenchResults = { ...results, checks: checks(results) };
  writeFileSync(args.out, `${JSON.stringify(final, null, 2)}\n`);
  process.stdout.write(`${formatReport(final)}\n\nwrote ${args.out}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
