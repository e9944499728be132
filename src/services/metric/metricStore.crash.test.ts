// SIGKILLs a real process applying batches at random moments, restarts it from the first unacked
// message (as RabbitMQ redelivers), and checks metric_log.csv ends with exactly one right row per id.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.resolve(HERE, '..', '..');
const REPO = path.resolve(SRC, '..');

const IDS = 1500;
const BATCH = 40;

// The worker replays a fixed, shuffled list of halves from argv[3] on, printing "acked <n>" after
// each group is durable; ids mix numbers, plain strings and formula-like strings.
const WORKER = `
import { MetricStore } from './out/services/metric/metricStore.js';
const [logsDir, startArg] = process.argv.slice(2);
const IDS = ${IDS}, BATCH = ${BATCH};
export const idOf = (i) => (i % 3 === 0 ? 's-' + i : i % 5 === 0 ? '=f' + i : i * 1.5);
const halves = [];
for (let i = 0; i < IDS; i++) {
  halves.push({ queue: 'y_true', id: idOf(i), value: i + 0.1 });
  halves.push({ queue: 'y_pred', id: idOf(i), value: i / 7 });
}
let seed = 12345;
for (let i = halves.length - 1; i > 0; i--) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  const j = seed % (i + 1);
  [halves[i], halves[j]] = [halves[j], halves[i]];
}
const store = await MetricStore.open(logsDir, { lockTimeoutMs: 10000 });
process.stdout.write('recovery ' + store.recovery.action + ' ' + store.recovery.cutBytes + '\\n');
for (let i = Number(startArg); i < halves.length; i += BATCH) {
  const end = Math.min(i + BATCH, halves.length);
  // As the service does: each half joined as it comes (a row is written when its pair completes), turns
  // of the event loop between them, then one commit for the group; acked once that is durable.
  for (let j = i; j < end; j++) {
    store.join({ ...halves[j], receivedAt: Date.now() });
    if (j % 8 === 7) await new Promise((r) => setImmediate(r));
  }
  await store.commit();
  process.stdout.write('acked ' + end + '\\n');
}
await store.close();
process.stdout.write('done\\n');
`;

/** Transpiles metricStore.ts and the modules it imports (relatively) to plain ESM a child process can run. */
async function buildWorker(root: string): Promise<void> {
  const queue = [path.join(HERE, 'metricStore.ts')];
  const seen = new Set<string>();
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const [, spec] of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
      queue.push(path.resolve(path.dirname(file), `${spec}.ts`));
    }
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
      fileName: file,
    });
    const out = path.join(root, 'out', path.relative(SRC, file)).replace(/\.ts$/, '.js');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  await writeFile(path.join(root, 'package.json'), '{"type":"module"}');
  await symlink(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  await writeFile(path.join(root, 'worker.js'), WORKER);
}

interface Run {
  lines: string[];
  killed: boolean;
}

/** Kills the worker `kill.ms` after it starts, or after it has opened the store (mid-batches). */
function runWorker(
  root: string,
  logsDir: string,
  start: number,
  kill: { ms: number; from: 'spawn' | 'open' } | undefined,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'worker.js'), logsDir, String(start)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      if (kill && !timer) timer = setTimeout(() => child.kill('SIGKILL'), kill.ms);
    };
    if (kill?.from === 'spawn') arm();
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('recovery ')) arm();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return resolve({ lines: out.split('\n'), killed: true });
      if (code !== 0) return reject(new Error(`worker exited with ${code}: ${err}`));
      resolve({ lines: out.split('\n'), killed: false });
    });
  });
}

describe('MetricStore under SIGKILL', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'predstream-crash-'));
    await buildWorker(root);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('writes every id exactly once, with its values, whatever moment the process dies', async () => {
    const logsDir = path.join(root, 'logs');
    let acked = 0;
    let kills = 0;
    const recoveries: string[] = [];
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let attempt = 0; attempt < 40; attempt++) {
      // Mostly mid-batches, sometimes during start-up and its repair; the last round runs to the end.
      const kill =
        attempt >= 15
          ? undefined
          : attempt % 4 === 3
            ? { ms: 50 + random(400), from: 'spawn' as const }
            : { ms: random(60), from: 'open' as const };
      const run = await runWorker(root, logsDir, acked, kill);
      for (const line of run.lines) {
        const [word, value, extra] = line.split(' ');
        if (word === 'acked') acked = Math.max(acked, Number(value));
        if (word === 'recovery') recoveries.push(`${value} ${extra}`);
      }
      if (run.killed) kills += 1;
      else break;
    }
    expect(acked).toBe(IDS * 2);
    expect(kills).toBeGreaterThan(0);
    console.info(`metric crash test: ${kills} kills; recoveries: ${recoveries.join(', ')}`);

    const text = await readFile(path.join(logsDir, 'metric_log.csv'), 'utf8');
    const [header, ...rows] = parse(text) as string[][];
    expect(header).toEqual(['id', 'y_true', 'y_pred', 'absolute_error']);
    const expected = new Map<string, string[]>();
    for (let i = 0; i < IDS; i++) {
      const field = i % 3 === 0 ? `s-${i}` : i % 5 === 0 ? `'=f${i}` : String(i * 1.5);
      const yTrue = i + 0.1;
      const yPred = i / 7;
      expected.set(field, [field, String(yTrue), String(yPred), String(Math.abs(yTrue - yPred))]);
    }
    const seen = new Set<string>();
    for (const row of rows) {
      expect(seen.has(row[0]!), `id ${row[0]} written twice`).toBe(false);
      seen.add(row[0]!);
      expect(row).toEqual(expected.get(row[0]!));
    }
    expect(seen.size).toBe(IDS);
  });
});
