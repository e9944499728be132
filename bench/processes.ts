// Starts, talks to and stops the processes under test, each with its output in its own log file.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CeilingStats, FromCeiling } from './ceiling/protocol.js';
import { sampleProcess, type ProcSample } from './proc.js';
import { SERVICE_NODE_FLAGS } from '../src/util/nodeFlags.js';

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or the signal's name) when the process has exited. */
  exited: Promise<number | string>;
  /** The last /proc sample taken before it exited (stop() takes one). */
  last?: ProcSample;
}

function track(name: string, proc: ChildProcess, logFile: string, fd: number): Child {
  closeSync(fd);
  if (proc.pid === undefined) throw new Error(`could not start ${name}: see ${logFile}`);
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { name, pid: proc.pid, proc, logFile, exited };
}

/** Runs `node <script> ...args` with stdout and stderr going to `<logDir>/<name>.log`. */
export function startNode(name: string, script: string, args: string[], logDir: string): Child {
  const logFile = path.join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const proc = spawn(process.execPath, [...SERVICE_NODE_FLAGS, script, ...args], {
    stdio: ['ignore', fd, fd],
  });
  return track(name, proc, logFile, fd);
}

/** A ceiling process: like startNode, plus the IPC channel it reports on. */
export class CeilingChild {
  readonly child: Child;
  private nextRequest = 1;
  private readonly waiting = new Map<number, (stats: CeilingStats) => void>();
  private readonly seen: FromCeiling[] = [];
  private readonly listeners: Array<(m: FromCeiling) => void> = [];

  constructor(name: string, script: string, args: string[], logDir: string) {
    const logFile = path.join(logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const proc = fork(script, args, { execArgv: [...SERVICE_NODE_FLAGS], stdio: ['ignore', fd, fd, 'ipc'] });
    this.child = track(name, proc, logFile, fd);
    proc.on('message', (raw) => {
      const msg = raw as FromCeiling;
      if (msg.type === 'stats') {
        this.waiting.get(msg.requestId)?.(msg);
        this.waiting.delete(msg.requestId);
        return;
      }
      this.seen.push(msg);
      for (const l of this.listeners) l(msg);
    });
  }

  /** Resolves when the process has sent a message of this type (at once if it already has). */
  when(type: 'ready' | 'done', timeoutMs: number): Promise<FromCeiling> {
    const already = this.seen.find((m) => m.type === type);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.child.name} did not report '${type}' in ${timeoutMs} ms: see ${this.child.logFile}`,
            ),
          ),
        timeoutMs,
      );
      void this.child.exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(`${this.child.name} exited (${code}) before '${type}':\n${tail(this.child.logFile)}`),
        );
      });
      this.listeners.push((m) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  stats(latencyFromSeq?: number, timeoutMs = 10_000): Promise<CeilingStats> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.child.name} did not answer a stats request`)),
        timeoutMs,
      );
      this.waiting.set(requestId, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.child.proc.send({ type: 'stats', requestId, latencyFromSeq });
    });
  }
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/**
 * Samples the process (peak RSS and CPU before it is gone), sends SIGTERM and waits; SIGKILL after
 * `graceMs` (the bench does not need a clean drain: its queues and files are deleted next).
 */
export async function stop(child: Child, graceMs = 3_000): Promise<number | string> {
  sampleChild(child);
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return child.exited;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}

/**
 * Samples a child if it is still running and keeps that sample as its last, so every figure read later is
 * at least as recent as any taken before (a child that exits keeps its last figures); returns its last sample.
 */
export function sampleChild(child: Child): ProcSample | undefined {
  if (child.proc.exitCode === null && child.proc.signalCode === null) {
    child.last = sampleProcess(child.pid) ?? child.last;
  }
  return child.last;
}

/** Samples every child that is still running, so one that exits (or is stopped) keeps its last figures. */
export function sampleChildren(children: readonly Child[]): void {
  for (const c of children) sampleChild(c);
}

/** Samples every child at the same moment, then stops them all at once. */
export async function stopAll(children: readonly Child[]): Promise<void> {
  sampleChildren(children);
  await Promise.all(children.map((c) => stop(c)));
}
