import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Supervisor, type ChildSpec } from './supervisor.js';

const silent = () => ({ log: pino({ level: 'silent' }) });
const dir = mkdtempSync(path.join(tmpdir(), 'predstream-supervisor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const node = (code: string, mayFinish = false): Omit<ChildSpec, 'name'> => ({
  args: ['-e', code],
  env: process.env,
  mayFinish,
});

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Supervisor.status', () => {
  it('reports running, finished, restarting (with the count) and stopped, with pids', async () => {
    const { log } = silent();
    const lines: string[] = [];
    const fatal: string[] = [];
    const sup = new Supervisor(
      [
        { name: 'worker', ...node('console.log("hello"); setInterval(() => {}, 1000)') },
        { name: 'once', ...node('process.exit(0)', true) },
        // Crashes the first time only (it leaves a mark), so its second process stays up.
        {
          name: 'crashy',
          ...node(
            `const fs = require('node:fs'); const mark = ${JSON.stringify(path.join(dir, 'crashed'))};` +
              `if (!fs.existsSync(mark)) { fs.writeFileSync(mark, ''); process.exit(1); }` +
              `setInterval(() => {}, 1000)`,
          ),
        },
      ],
      log,
      { onFatal: (name) => fatal.push(name) },
      (line) => lines.push(line),
    );
    sup.start();
    const byName = () => Object.fromEntries(sup.status().map((s) => [s.name, s]));
    const first = byName();
    expect(Object.keys(first)).toEqual(['worker', 'once', 'crashy']);
    expect(first.worker).toMatchObject({ phase: 'running', restarts: 0 });
    expect(first.worker?.pid).toBeGreaterThan(0);

    await until('once to finish', () => (byName().once?.phase === 'finished' ? true : undefined));
    const firstCrashyPid = first.crashy?.pid;
    await until('crashy to wait for its restart', () =>
      byName().crashy?.phase === 'restarting' ? true : undefined,
    );
    expect(byName().crashy?.restarts).toBe(1);
    await until('crashy to run again', () => (byName().crashy?.phase === 'running' ? true : undefined));
    expect(byName().crashy?.pid).not.toBe(firstCrashyPid);
    expect(byName().crashy?.restarts).toBe(1);
    await until('the worker line', () => (lines.length > 0 ? true : undefined));
    expect(lines).toContain('worker | hello');

    await sup.stop(['worker', 'once', 'crashy']);
    const last = byName();
    expect(last.worker?.phase).toBe('stopped');
    expect(last.once?.phase).toBe('finished');
    expect(last.crashy?.phase).toBe('stopped');
    expect(fatal).toEqual([]);
  });

  it('reports a child that exits with a fatal code as stopped and says so', async () => {
    const { log } = silent();
    const fatal: Array<[string, number]> = [];
    const sup = new Supervisor(
      [{ name: 'bad', ...node('process.exit(3)') }],
      log,
      {
        onFatal: (name, code) => fatal.push([name, code]),
      },
      () => undefined,
    );
    sup.start();
    await until('the fatal exit', () => (fatal.length > 0 ? true : undefined));
    expect(fatal).toEqual([['bad', 3]]);
    expect(sup.status()[0]).toMatchObject({ name: 'bad', phase: 'stopped', restarts: 0 });
    await sup.stop(['bad']);
  });
});
