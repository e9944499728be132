// Starts predstream services as child processes with their output in a file, and stops them by pid.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceChild {
  /** e.g. `model#2`: the service and which start of it this is. */
  readonly label: string;
  readonly pid: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  isRunning(): boolean;
}

export interface SpawnServiceOptions {
  cli: string;
  command: string;
  args: readonly string[];
  label: string;
  /** stdout and stderr go here (appended), so the service's own log survives its death and ours. */
  outputFile: string;
}

/** Starts `node <cli> <command> <args...>`; throws if the process could not be started at all. */
export function spawnService(opts: SpawnServiceOptions): ServiceChild {
  const fd = openSync(opts.outputFile, 'a');
  let child;
  try {
    child = spawn(process.execPath, [opts.cli, opts.command, ...opts.args], {
      stdio: ['ignore', fd, fd],
      env: process.env,
    });
  } finally {
    closeSync(fd);
  }
  const { pid } = child;
  if (pid === undefined) throw new Error(`could not start ${opts.label}: node ${opts.cli} ${opts.command}`);
  let running = true;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  child.once('error', () => undefined); // 'exit' follows, or the pid check above already threw
  return { label: opts.label, pid, exited, isRunning: () => running };
}

/** Sends `signal` to the child's pid unless it has exited; true when sent. */
export function signalChild(child: ServiceChild, signal: NodeJS.Signals): boolean {
  if (!child.isRunning()) return false;
  try {
    process.kill(child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits for the child to exit; after `timeoutMs` it is SIGKILLed and `graceful` is false. */
export async function waitForExit(
  child: ServiceChild,
  timeoutMs: number,
): Promise<ExitInfo & { graceful: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  const first = await Promise.race([child.exited, late]);
  clearTimeout(timer);
  if (first !== 'late') return { ...first, graceful: true };
  signalChild(child, 'SIGKILL');
  return { ...(await child.exited), graceful: false };
}

export function describeExit(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}
