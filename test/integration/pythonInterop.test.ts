// Mixes the original Python services (test/python) with ours on a real RabbitMQ: same wire, same results.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idKey, type MessageId } from '../../src/contract/wire.js';
import { parsePublishedLogLine } from '../../src/services/features/publishedLog.js';
import { cleanupPrefix, openTestConnection, uniquePrefix } from '../support/broker.js';
import { assertBuilt } from '../support/processes.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist/cli.js');
const PYTHON = '/usr/bin/python3';
const PY_DIR = join(ROOT, 'test/python');
const ROWS = 50;

// Debian's Python carries pika and scikit-learn; without them the original services cannot run.
const pythonCheck = spawnSync(PYTHON, ['-c', 'import pika, sklearn, numpy'], { encoding: 'utf8' });
const pythonMissing = pythonCheck.status !== 0;
if (pythonMissing) {
  console.warn(
    `pythonInterop: skipped, ${PYTHON} cannot import pika, sklearn and numpy ` +
      `(${(pythonCheck.stderr || String(pythonCheck.error)).trim().split('\n').pop()}); ` +
      `install them with 'apt-get install python3-pika python3-sklearn'`,
  );
}

/** A running `node dist/cli.js <service>`, with its output kept for assertions and failure messages. */
interface Service {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Service[] = [];

function startService(name: string, args: string[]): Service {
  const child = spawn(process.execPath, [CLI, name, ...args, '--metrics-port', '0', '--log-format', 'json'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => res({ code, signal }));
  });
  const service = { name, child, output, exited };
  started.push(service);
  return service;
}

function running(s: Service): boolean {
  return s.child.exitCode === null && s.child.signalCode === null;
}

function tail(s: Service): string {
  return s.output.join('').split('\n').slice(-15).join('\n');
}

/** The service's JSON log lines (pino: level 40 warn, 50 error, 60 fatal). */
function logLines(s: Service): Array<{ level: number; msg: string }> {
  return s.output
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string });
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM by pid and wait; a service that ignores it is killed and reported. */
async function stopService(s: Service): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (running(s) && s.child.pid !== undefined) process.kill(s.child.pid, 'SIGTERM');
  try {
    return await withTimeout(s.exited, 15_000, `${s.name} after SIGTERM`);
  } catch (err) {
    if (running(s) && s.child.pid !== undefined) process.kill(s.child.pid, 'SIGKILL');
    throw err;
  }
}

/** Runs a test/python script to completion; rejects with its stderr on a non-zero exit or a timeout. */
function runPython(script: string, args: string[], stdin = '', timeoutMs = 60_000): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(PYTHON, [join(PY_DIR, script), ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      rej(new Error(`${script} did not finish in ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) res(out);
      else rej(new Error(`${script} exited with ${code}; stderr:\n${err}`));
    });
    child.stdin.end(stdin);
  });
}

function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** What scikit-learn itself says about a load_diabetes row (test/python/sklearn_predict.py). */
interface Expected {
  row: number;
  y_true: number;
  features: number[];
  y_pred: number;
}

async function sklearnExpectations(rows: number[]): Promise<Map<number, Expected>> {
  const out = await runPython('sklearn_predict.py', [], rows.map((r) => `${r}\n`).join(''));
  return new Map(jsonLines<Expected>(out).map((e) => [e.row, e]));
}

interface CsvRow {
  id: string;
  y_true: string;
  y_pred: string;
  absolute_error: string;
}

function readMetricCsv(logs: string): CsvRow[] {
  const file = join(logs, 'metric_log.csv');
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  // Only complete lines: the file may be read between two appends.
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  if (complete === '') return [];
  return parse(complete, { columns: true, skip_empty_lines: true }) as CsvRow[];
}

/** Polls until metric_log.csv has `n` rows, then waits a little more to catch any extra (duplicate) rows. */
async function waitForRows(
  logs: string,
  n: number,
  services: Service[],
  timeoutMs = 45_000,
): Promise<CsvRow[]> {
  const deadline = Date.now() + timeoutMs;
  while (readMetricCsv(logs).length < n) {
    for (const s of services) {
      if (!running(s)) throw new Error(`${s.name} exited early (${s.child.exitCode}):\n${tail(s)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`metric_log.csv has ${readMetricCsv(logs).length} of ${n} rows after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 750));
  return readMetricCsv(logs);
}

function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
}

/** Every y_pred, y_true and absolute_error of the CSV holds to the original's arithmetic. */
function expectRowArithmetic(row: CsvRow): void {
  const yTrue = Number(row.y_true);
  const yPred = Number(row.y_pred);
  expect(Number.isFinite(yTrue) && Number.isFinite(yPred)).toBe(true);
  expect(Number(row.absolute_error)).toBe(Math.abs(yTrue - yPred));
}

async function deadLetterCounts(prefix: string): Promise<Record<string, number>> {
  const conn = await openTestConnection();
  try {
    const counts: Record<string, number> = {};
    for (const q of ['features', 'y_true', 'y_pred']) {
      const name = `${prefix}${q}.dead`;
      counts[name] = (await conn.queueDeclare({ queue: name, passive: true })).messageCount;
    }
    return counts;
  } finally {
    await conn.close();
  }
}

describe.skipIf(pythonMissing)('interop with the original Python services (real RabbitMQ)', () => {
  const prefixes: string[] = [];
  const tempDirs: string[] = [];

  beforeAll(() => {
    assertBuilt(); // `npm test` builds dist/ first (pretest)
  });

  afterAll(async () => {
    for (const s of started) if (running(s)) await stopService(s).catch(() => undefined);
    for (const p of prefixes) await cleanupPrefix(p);
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });

  function scenario(name: string): { prefix: string; dir: string } {
    const prefix = uniquePrefix(name);
    const dir = mkdtempSync(join(tmpdir(), `predstream-${name}-`));
    prefixes.push(prefix);
    tempDirs.push(dir);
    return { prefix, dir };
  }

  it('A: Python features publishes first; our model and metric use its queues as they are', async () => {
    const { prefix, dir } = scenario('pyfeat');
    const logs = join(dir, 'logs');

    interface Sent {
      id: number;
      id_json: string;
      row: number;
      y_true: number;
      features: number[];
    }
    const sent = jsonLines<Sent>(
      await runPython('original_features.py', ['--prefix', prefix, '--count', String(ROWS), '--seed', '3']),
    );
    expect(sent).toHaveLength(ROWS);
    const sentById = new Map(sent.map((s) => [idKey(JSON.parse(s.id_json) as number), s]));
    expect(sentById.size).toBe(ROWS);
    const expected = await sklearnExpectations(sent.map((s) => s.row));

    const model = startService('model', ['--queue-prefix', prefix]);
    const metric = startService('metric', ['--queue-prefix', prefix, '--logs', logs]);
    try {
      const rows = await waitForRows(logs, ROWS, [model, metric]);
      expect(rows).toHaveLength(ROWS);

      const seen = new Set<string>();
      for (const row of rows) {
        // The CSV loses the type; the original's ids are floats, so the field must parse back to the same float.
        const id = Number(row.id);
        expect(Number.isFinite(id)).toBe(true);
        const key = idKey(id);
        const original = sentById.get(key);
        expect(original, `CSV id ${row.id} was not sent by Python`).toBeDefined();
        if (!original) continue;
        expect(id).toBe(original.id);
        seen.add(key);

        const want = expected.get(original.row);
        expect(want).toBeDefined();
        if (!want) continue;
        expect(original.features).toEqual(want.features);
        expect(Number(row.y_true)).toBe(original.y_true);
        expect(relativeError(Number(row.y_pred), want.y_pred)).toBeLessThanOrEqual(1e-9);
        expectRowArithmetic(row);
      }
      expect(seen.size).toBe(ROWS);

      // Our services fell back to the Python-declared queues, said so, and dead-lettered nothing.
      for (const s of [model, metric]) expect(logLines(s).filter((l) => l.level >= 50)).toEqual([]);
      expect(logLines(model).some((l) => l.level === 40 && l.msg.includes(`'${prefix}features'`))).toBe(true);
      expect(logLines(metric).some((l) => l.level === 40 && l.msg.includes(`'${prefix}y_true'`))).toBe(true);
      expect(Object.values(await deadLetterCounts(prefix))).toEqual([0, 0, 0]);

      expect(running(model), `model exited early:\n${tail(model)}`).toBe(true);
      expect(running(metric), `metric exited early:\n${tail(metric)}`).toBe(true);
    } finally {
      const modelExit = await stopService(model);
      const metricExit = await stopService(metric);
      expect(modelExit, tail(model)).toEqual({ code: 0, signal: null });
      expect(metricExit, tail(metric)).toEqual({ code: 0, signal: null });
    }
  }, 120_000);

  it('B: our features (--legacy-queues) feeds the Python model; our metric joins its predictions', async () => {
    const { prefix, dir } = scenario('pymodel');
    const logs = join(dir, 'logs');
    const journal = join(dir, 'published.log');

    const features = startService('features', [
      '--queue-prefix',
      prefix,
      '--legacy-queues',
      '--rate',
      'max',
      '--count',
      String(ROWS),
      '--seed',
      '7',
      '--published-log',
      journal,
    ]);
    const featuresExit = await withTimeout(features.exited, 30_000, 'features --count 50');
    expect(featuresExit, tail(features)).toEqual({ code: 0, signal: null });

    // A `sent` line before each publish, an `ok` line after its confirm.
    const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean);
    const rowById = new Map<string, number>();
    const confirmed = new Set<string>();
    for (const line of lines) {
      const parsed = parsePublishedLogLine(line);
      if (parsed?.kind === 'sent') rowById.set(idKey(JSON.parse(parsed.idJson) as MessageId), parsed.row);
      else if (parsed?.kind === 'ok') confirmed.add(idKey(JSON.parse(parsed.idJson) as MessageId));
      else throw new Error(`unexpected journal line: ${line}`);
    }
    expect(rowById.size).toBe(ROWS);
    expect([...confirmed].sort()).toEqual([...rowById.keys()].sort());
    const expected = await sklearnExpectations([...new Set(rowById.values())]);

    const metric = startService('metric', ['--queue-prefix', prefix, '--legacy-queues', '--logs', logs]);
    try {
      const predicted = jsonLines<{ id: MessageId; y_pred: number }>(
        await runPython('original_model.py', [
          '--prefix',
          prefix,
          '--count',
          String(ROWS),
          '--timeout',
          '45',
        ]),
      );
      expect(predicted).toHaveLength(ROWS);
      const pythonPrediction = new Map(predicted.map((p) => [idKey(p.id), p.y_pred]));

      const rows = await waitForRows(logs, ROWS, [metric]);
      expect(rows).toHaveLength(ROWS);
      const seen = new Set<string>();
      for (const row of rows) {
        // Our ids are strings such as `mi3k9x2a0q7fz-1`; they start with a digit or letter, so no CSV escape.
        const key = idKey(row.id);
        const rowIndex = rowById.get(key);
        expect(rowIndex, `CSV id ${row.id} was not published by our features service`).toBeDefined();
        if (rowIndex === undefined) continue;
        seen.add(key);
        const want = expected.get(rowIndex);
        expect(want).toBeDefined();
        if (!want) continue;
        expect(Number(row.y_true)).toBe(want.y_true);
        // Exactly what Python put on the wire (JSON round trip is lossless) ...
        expect(Number(row.y_pred)).toBe(pythonPrediction.get(key));
        // ... and what scikit-learn predicts for load_diabetes' row, so the features sent were that row.
        expect(relativeError(Number(row.y_pred), want.y_pred)).toBeLessThanOrEqual(1e-9);
        expectRowArithmetic(row);
      }
      expect(seen.size).toBe(ROWS);

      expect(logLines(metric).filter((l) => l.level >= 50)).toEqual([]);
      expect(logLines(features).filter((l) => l.level >= 50)).toEqual([]);
      expect(Object.values(await deadLetterCounts(prefix))).toEqual([0, 0, 0]);
      expect(running(metric), `metric exited early:\n${tail(metric)}`).toBe(true);
    } finally {
      const metricExit = await stopService(metric);
      expect(metricExit, tail(metric)).toEqual({ code: 0, signal: null });
    }
  }, 120_000);
});
