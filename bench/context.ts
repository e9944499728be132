// What every part of the benchmark shares: settings, the bench's broker connection, a work folder, clean-up.
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from 'rabbitmq-client';
import { benchPrefix, cleanupPrefix } from './broker.js';
import { sampleProcess, type ProcSample } from './proc.js';
import type { Child } from './processes.js';
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
    children: new Map(children.map((c) => [c.name, sampleProcess(c.pid)])),
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

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Throws (with the tail of its log) if any of the children has exited. */
export function assertAlive(children: readonly Child[]): void {
  for (const c of children) {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) {
      throw new Error(`${c.name} exited early (${c.proc.exitCode ?? c.proc.signalCode}); see ${c.logFile}`);
    }
  }
}
