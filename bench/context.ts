// What every part of the benchmark shares: settings, the bench's broker connection, a work folder, clean-up.
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from 'rabbitmq-client';
import { benchPrefix, cleanupPrefix } from './broker.js';
import { sampleProcess, type ProcSample } from './proc.js';
import { sampleChild, type Child } from './processes.js';
import type { BenchSettings } from './settings.js';

export interface BenchContext {
  settings: BenchSettings;
  conn: Connection;
  /** Root of this run's temporary folders. */
  workDir: string;
  brokerPid: number | undefined;
  /** Progress line on stderr. */
  note(message: string): void;
  /** Every queue prefix a part used (all deleted again), for the record. */
  prefixes: string[];
}

/** A queue prefix and temporary folder for one part, both removed by `release`. */
export interface PartScope {
  prefix: string;
  dir: string;
  release(): Promise<void>;
}

export function openScope(ctx: BenchContext, part: string): PartScope {
  const prefix = benchPrefix(part);
  ctx.prefixes.push(prefix);
  const dir = mkdtempSync(path.join(ctx.workDir, `${part}-`));
  return {
    prefix,
    dir,
    async release() {
      await cleanupPrefix(ctx.conn, prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU and memory of one process over a measuring window, and its peak for its whole life. */
export interface ProcessCost {
  /** CPU seconds (user + system) during the window. */
  cpuSecondsWindow: number;
  /** CPU seconds from its start to just before it was stopped. */
  cpuSecondsTotal: number;
  /** VmHWM just before it was stopped, MB. */
  peakRssMb: number;
}

/** CPU snapshot of every process that matters in a window: the children, the broker, the bench. */
export interface CpuSnapshot {
  atMs: number;
  children: Map<string, ProcSample | undefined>;
  broker: number | undefined;
  bench: number;
}

export function snapshot(children: readonly Child[], brokerPid: number | undefined): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    atMs: Date.now(),
    // A child that has exited (features after --count) counts with its last sample; a sample taken here
    // becomes its last, so a later snapshot never reads an older one (that gave a negative CPU window).
    children: new Map(children.map((c) => [c.name, sampleChild(c)])),
    broker: brokerPid === undefined ? undefined : sampleProcess(brokerPid)?.cpuSeconds,
    bench: (usage.user + usage.system) / 1e6,
  };
}

/** Costs of stopped children (their last samples) over the window between two snapshots. */
export function costs(
  children: readonly Child[],
  from: CpuSnapshot,
  to: CpuSnapshot,
): Record<string, ProcessCost> {
  const out: Record<string, ProcessCost> = {};
  for (const c of children) {
    const a = from.children.get(c.name)?.cpuSeconds ?? 0;
    const b = to.children.get(c.name)?.cpuSeconds ?? a;
    out[c.name] = {
      cpuSecondsWindow: b - a,
      cpuSecondsTotal: c.last?.cpuSeconds ?? b,
      peakRssMb: c.last?.peakRssMb ?? Number.NaN,
    };
  }
  return out;
}

/** What the processes of a latency run used between two snapshots (the run's measured rows). */
export interface WindowCost {
  /** Seconds between the snapshots. */
  seconds: number;
  /** Per process: CPU seconds, and seconds its main thread was runnable but waiting for a core. */
  processes: Record<string, { cpuSeconds: number; runQueueWaitSeconds: number }>;
  /** RabbitMQ's CPU seconds; null when its process is not visible here (a broker elsewhere). */
  brokerCpuSeconds: number | null;
}

/** The cost between two snapshots; all NaN when there is no first one (the run never got past its warm-up). */
export function windowCost(
  children: readonly Child[],
  from: CpuSnapshot | undefined,
  to: CpuSnapshot,
): WindowCost {
  const processes: WindowCost['processes'] = {};
  for (const c of children) {
    const a = from?.children.get(c.name);
    const b = to.children.get(c.name);
    processes[c.name] = {
      cpuSeconds: (b?.cpuSeconds ?? Number.NaN) - (a?.cpuSeconds ?? Number.NaN),
      runQueueWaitSeconds: (b?.runQueueWaitSeconds ?? Number.NaN) - (a?.runQueueWaitSeconds ?? Number.NaN),
    };
  }
  return {
    seconds: from ? (to.atMs - from.atMs) / 1000 : Number.NaN,
    processes,
    brokerCpuSeconds: to.broker === undefined ? null : to.broker - (from?.broker ?? Number.NaN),
  };
}

/** Several runs' window costs added up (a process missing from a run counts as NaN). */
export function addWindowCosts(runs: readonly WindowCost[]): WindowCost {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.processes)))];
  const sum = (f: (r: WindowCost) => number) => runs.reduce((n, r) => n + f(r), 0);
  return {
    seconds: sum((r) => r.seconds),
    processes: Object.fromEntries(
      names.map((name) => [
        name,
        {
          cpuSeconds: sum((r) => r.processes[name]?.cpuSeconds ?? Number.NaN),
          runQueueWaitSeconds: sum((r) => r.processes[name]?.runQueueWaitSeconds ?? Number.NaN),
        },
      ]),
    ),
    brokerCpuSeconds: runs.some((r) => r.brokerCpuSeconds === null)
      ? null
      : sum((r) => r.brokerCpuSeconds ?? Number.NaN),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Throws (with the tail of its log) if any of the children has exited. */
export function assertAlive(children: readonly Child[]): void {
  for (const c of children) {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) {
      throw new Error(`${c.name} exited early (${c.proc.exitCode ?? c.proc.signalCode}); see ${c.logFile}`);
    }
  }
}
