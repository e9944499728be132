// Child processes of the predstream CLI for integration tests: started with a unique prefix, stopped by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

export interface RunningCli {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' (npm test does it first)`);
}

export function startCli(name: string, args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { name, child, output: () => out, exited };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited. */
export async function stopCli(p: RunningCli, graceMs = 12_000) {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  const result = await p.exited;
  clearTimeout(timer);
  return result;
}

/**
 * Runs `predstream up --count <rows> --rate max` into `logs` under `prefix`, with no HTTP ports and a
 * published-rows journal, to its end (stopped after 90 s at most); `extra` adds options.
 */
export async function runUpToEnd(opts: {
  prefix: string;
  logs: string;
  rows: number;
  journal: string;
  extra?: string[];
}): Promise<{ code: number | null; output: string }> {
  const up = startCli('up', [
    'up',
    ...(opts.extra ?? []),
    '--count',
    String(opts.rows),
    '--rate',
    'max',
    '--queue-prefix',
    opts.prefix,
    '--logs',
    opts.logs,
    '--http-port',
    '0',
    '--metrics-port-base',
    '0',
    '--published-log',
    opts.journal,
  ]);
  const timer = setTimeout(() => void stopCli(up), 90_000);
  const { code } = await up.exited;
  clearTimeout(timer);
  return { code, output: up.output() };
}

export function isRunning(p: RunningCli): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/** Data rows (header excluded) in a metric_log.csv; 0 if it does not exist yet. */
export function csvRowCount(file: string): number {
  if (!existsSync(file)) return 0;
  const text = readFileSync(file, 'utf8');
  return Math.max(0, text.split('\n').filter((l) => l.length > 0).length - 1);
}

export async function waitFor(
  what: string,
  check: () => boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
