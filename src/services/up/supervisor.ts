// Runs the four services as child processes: prefixes their output, restarts crashes, stops them together.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../../util/logger.js';
import { SERVICE_NODE_FLAGS } from '../../util/nodeFlags.js';

export interface ChildSpec {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** A clean exit (code 0) is expected, e.g. features after --count rows: do not restart it. */
  mayFinish: boolean;
}

export interface SupervisorEvents {
  /** A child exited in a way that makes running on pointless (bad config, broker unreachable). */
  onFatal(name: string, code: number): void;
}

/** Where a child is in its life, as the supervisor sees it (readiness is the status block's business). */
export type ChildPhase = 'running' | 'restarting' | 'finished' | 'stopped';

export interface ChildStatus {
  name: string;
  /** Pid of the current (or last) process. */
  pid: number | undefined;
  phase: ChildPhase;
  /** Restarts after a crash since `up` started. */
  restarts: number;
}

interface Running {
  spec: ChildSpec;
  child?: ChildProcess;
  exited: Promise<void>;
  /** Restart times within the last minute, for the crash-loop limit. */
  restarts: number[];
  restartCount: number;
  phase: ChildPhase;
}

const FATAL_CODES = new Set([2, 3]);
const MAX_RESTARTS_PER_MINUTE = 5;

export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private readonly width: number;

  constructor(
    private readonly specs: ChildSpec[],
    private readonly log: Logger,
    private readonly events: SupervisorEvents,
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {
    this.width = Math.max(...specs.map((s) => s.name.length));
  }

  start(): void {
    for (const spec of this.specs) {
      const entry: Running = {
        spec,
        exited: Promise.resolve(),
        restarts: [],
        restartCount: 0,
        phase: 'running',
      };
      this.running.set(spec.name, entry);
      this.launch(entry);
    }
  }

  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.running].map(([name, r]) => [name, r.child?.pid]));
  }

  /** Every child in start order, for the status view. */
  status(): ChildStatus[] {
    return [...this.running.values()].map((r) => ({
      name: r.spec.name,
      pid: r.child?.pid,
      phase: r.phase,
      restarts: r.restartCount,
    }));
  }

  private launch(entry: Running): void {
    const { spec } = entry;
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...spec.args], {
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    entry.child = child;
    entry.phase = 'running';
    const prefix = `${spec.name.padEnd(this.width)} |`;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.write(`${prefix} ${line}`));
    }
    entry.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        this.onExit(entry, code, signal);
      });
    });
  }

  private onExit(entry: Running, code: number | null, signal: NodeJS.Signals | null): void {
    const { name } = entry.spec;
    if (this.stopping) {
      entry.phase = 'stopped';
      return;
    }
    if (code === 0 && entry.spec.mayFinish) {
      entry.phase = 'finished';
      this.log.info(`${name} finished`);
      return;
    }
    if (code !== null && FATAL_CODES.has(code)) {
      entry.phase = 'stopped';
      this.log.error(`${name} exited with code ${code}; stopping the pipeline (see its message above)`);
      this.events.onFatal(name, code);
      return;
    }
    const now = Date.now();
    entry.restarts = entry.restarts.filter((t) => now - t < 60_000);
    if (entry.restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      entry.phase = 'stopped';
      this.log.error(
        `${name} crashed ${MAX_RESTARTS_PER_MINUTE} times within a minute; stopping the pipeline`,
      );
      this.events.onFatal(name, 1);
      return;
    }
    entry.restarts.push(now);
    entry.restartCount += 1;
    entry.phase = 'restarting';
    const delay = 500 * 2 ** (entry.restarts.length - 1);
    this.log.warn(`${name} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
    setTimeout(() => {
      if (!this.stopping) this.launch(entry);
    }, delay).unref();
  }

  /** Sends SIGTERM to every child in the given order, each after the previous one exited. */
  async stop(order: string[]): Promise<void> {
    this.stopping = true;
    for (const name of order) {
      const entry = this.running.get(name);
      const child = entry?.child;
      if (!entry) continue;
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        if (entry.phase === 'restarting') entry.phase = 'stopped';
        continue;
      }
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      await entry.exited;
      clearTimeout(killer);
    }
  }
}
