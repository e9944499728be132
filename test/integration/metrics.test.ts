// The services' metrics ports on a real run: Prometheus text with true counters, /healthz, and /readyz following RabbitMQ.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupPrefix, uniquePrefix } from '../support/broker.js';
import { csvRowCount, startCli, stopCli, waitFor, type RunningCli } from '../support/processes.js';
import { freePort } from '../support/ports.js';

const ROWS = 300;
const run = promisify(execFile);

async function get(port: number, route: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${route}`, { signal: AbortSignal.timeout(3_000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  try {
    await run('rabbitmqctl', args, { timeout: 60_000, killSignal: 'SIGKILL' });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `rabbitmqctl ${args.join(' ')} failed: ${(e.stderr?.trim() || e.message).split('\n')[0]}`,
    );
  }
}

// The text format, checked line by line independently of any client library:
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const HELP_LINE = new RegExp(`^# HELP (${METRIC_NAME}) .*$`);
const TYPE_LINE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(
  `^(${METRIC_NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? ` +
    // NaN in any case: prom-client 15 writes "Nan", which Prometheus reads (Go's ParseFloat ignores case).
    `((?:[Nn][Aa][Nn])|[+-]Inf|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)(?: -?\\d+)?$`,
);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample; fails the test on a line that breaks the format or a sample outside a declared family. */
function strictParse(text: string, service: string): Sample[] {
  expect(text.endsWith('\n'), 'the body ends with a newline').toBe(true);
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = HELP_LINE.exec(line);
    if (help) {
      helped.add(help[1]!);
      continue;
    }
    const type = TYPE_LINE.exec(line);
    if (type) {
      expect(types.has(type[1]!), `one TYPE line for ${type[1]}`).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = SAMPLE_LINE.exec(line);
    expect(sample, `a sample line: ${line}`).not.toBeNull();
    const [, name, labelText, value] = sample!;
    const family = [name!, name!.replace(/_(bucket|sum|count)$/, '')].find((f) => types.has(f));
    expect(family, `${name} belongs to a family with a # TYPE line before it`).toBeDefined();
    const labels: Record<string, string> = {};
    for (const m of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    if (types.get(family!) === 'histogram' && name!.endsWith('_bucket'))
      expect(labels.le, `${line} has an le label`).toBeDefined();
    const v = value!.toLowerCase() === 'nan' ? NaN : Number(value!.replace(/^\+?Inf$/, 'Infinity'));
    samples.push({ name: name!, labels, value: v });
  }
  for (const family of types.keys()) expect(helped.has(family), `# HELP for ${family}`).toBe(true);
  for (const s of samples) expect(s.labels.service, `${s.name} carries service="${service}"`).toBe(service);
  return samples;
}

function counter(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const matching = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(matching.length, `a sample ${name}${JSON.stringify(labels)}`).toBeGreaterThan(0);
  return matching.reduce((sum, s) => sum + s.value, 0);
}

async function scrape(port: number, service: string): Promise<Sample[]> {
  const res = await get(port, '/metrics');
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
  return strictParse(res.body, service);
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function exitsWithin(p: RunningCli, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const exited = await Promise.race([
    p.exited.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]);
  clearTimeout(timer);
  return exited;
}

const okLines = (journal: string) =>
  existsSync(journal)
    ? readFileSync(journal, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('ok ')).length
    : 0;

describe('metrics ports of features, model and metric on a real run', () => {
  const prefix = uniquePrefix('metrics');
  const logs = mkdtempSync(path.join(tmpdir(), 'predstream-metrics-'));
  const children: RunningCli[] = [];
  afterAll(async () => {
    await Promise.all(children.map((c) => stopCli(c)));
    await cleanupPrefix(prefix);
    rmSync(logs, { recursive: true, force: true });
  });

  const ports = { features: 0, model: 0, metric: 0 };

  it(`counts ${ROWS} rows exactly in valid Prometheus text, and answers /healthz`, async () => {
    for (const name of ['features', 'model', 'metric'] as const) ports[name] = await freePort();
    const common = ['--queue-prefix', prefix, '--connect-timeout', '20'];
    const metric = startCli('metric', [
      'metric',
      ...common,
      '--logs',
      logs,
      '--metrics-port',
      `${ports.metric}`,
    ]);
    const model = startCli('model', ['model', ...common, '--metrics-port', `${ports.model}`]);
    children.push(metric, model);
    await eventually(
      'model and metric to be ready',
      async () => {
        const answers = await Promise.all([get(ports.model, '/readyz'), get(ports.metric, '/readyz')]);
        return answers.every((a) => a.status === 200);
      },
      30_000,
    );

    const journal = path.join(logs, 'published.log');
    const features = startCli('features', [
      'features',
      ...common,
      '--count',
      `${ROWS}`,
      '--rate',
      'max',
      '--published-log',
      journal,
      '--metrics-port',
      `${ports.features}`,
    ]);
    children.push(features);

    // features exits as soon as its rows are confirmed, taking its port with it, so it is checked while
    // it runs: its counters are raised in the same tick as the journal's `ok` line, so a scrape lies
    // between the journal counted just before and just after it.
    let scrapes = 0;
    let last = 0;
    while (features.child.exitCode === null) {
      const before = okLines(journal);
      let res;
      try {
        res = await get(ports.features, '/metrics');
      } catch (err) {
        // Not listening yet, or closing as it exits; anything else is a failure.
        if (scrapes > 0 && !(await exitsWithin(features, 5_000))) throw err;
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const after = okLines(journal);
      expect(res.status).toBe(200);
      const samples = strictParse(res.body, 'features');
      const yTrue = samples.some((s) => s.name === 'predstream_messages_published_total')
        ? counter(samples, 'predstream_messages_published_total', { queue: 'y_true' })
        : 0;
      const feat =
        yTrue === 0 ? 0 : counter(samples, 'predstream_messages_published_total', { queue: 'features' });
      expect(yTrue).toBeGreaterThanOrEqual(before);
      expect(yTrue).toBeLessThanOrEqual(after);
      expect(feat).toBe(yTrue);
      expect(yTrue).toBeGreaterThanOrEqual(last);
      last = yTrue;
      if (scrapes++ === 0) expect((await get(ports.features, '/healthz')).status).toBe(200);
    }
    const { code } = await features.exited;
    expect(code, features.output()).toBe(0);
    expect(scrapes, 'features answered /metrics while it ran').toBeGreaterThan(0);
    expect(okLines(journal)).toBe(ROWS);
    expect(features.output()).toContain(`done: ${ROWS} rows published and confirmed`);

    const csv = path.join(logs, 'metric_log.csv');
    await waitFor(`${ROWS} rows in metric_log.csv`, () => csvRowCount(csv) >= ROWS, 60_000);
    // A counter moves just after its effect (the row on disk, the confirm from RabbitMQ): wait, bounded.
    await eventually(
      'the counters to catch up with the CSV',
      async () =>
        counter(await scrape(ports.metric, 'metric'), 'predstream_rows_written_total') === ROWS &&
        counter(await scrape(ports.model, 'model'), 'predstream_messages_published_total', {
          queue: 'y_pred',
        }) === ROWS,
      10_000,
    );
    const m = await scrape(ports.metric, 'metric');
    expect(counter(m, 'predstream_rows_written_total')).toBe(ROWS);
    expect(counter(m, 'predstream_messages_consumed_total', { queue: 'y_true' })).toBeGreaterThanOrEqual(
      ROWS,
    );
    expect(counter(m, 'predstream_messages_consumed_total', { queue: 'y_pred' })).toBeGreaterThanOrEqual(
      ROWS,
    );
    expect(counter(m, 'predstream_end_to_end_seconds_count')).toBe(ROWS);
    expect(counter(m, 'predstream_csv_bytes')).toBe(readFileSync(csv).length);
    const mo = await scrape(ports.model, 'model');
    expect(counter(mo, 'predstream_messages_published_total', { queue: 'y_pred' })).toBe(ROWS);
    expect(counter(mo, 'predstream_messages_consumed_total', { queue: 'features' })).toBeGreaterThanOrEqual(
      ROWS,
    );
    expect(counter(mo, 'predstream_model_inference_seconds_count')).toBeGreaterThanOrEqual(ROWS);
    expect(csvRowCount(csv)).toBe(ROWS);
    for (const port of [ports.model, ports.metric]) {
      const health = await get(port, '/healthz');
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
      expect((await get(port, '/nope')).status).toBe(404);
    }
  }, 120_000);

  it('/readyz answers 503 while RabbitMQ is stopped and 200 again once it is back', async () => {
    const readiness = async () => Promise.all([get(ports.model, '/readyz'), get(ports.metric, '/readyz')]);
    expect((await readiness()).map((r) => r.status)).toEqual([200, 200]);
    try {
      await rabbitmqctl('stop_app');
      await eventually(
        'model and metric to turn unready',
        async () => (await readiness()).every((r) => r.status === 503),
        30_000,
      );
      for (const r of await readiness()) expect(JSON.parse(r.body)).toMatchObject({ status: 'not ready' });
      // Alive all the same: an orchestrator must not restart them for a broker outage.
      expect((await get(ports.metric, '/healthz')).status).toBe(200);
    } finally {
      await rabbitmqctl('start_app');
      await rabbitmqctl('await_startup', '--timeout', '60');
    }
    await eventually(
      'model and metric to be ready again',
      async () => (await readiness()).every((r) => r.status === 200),
      60_000,
    );
    for (const r of await readiness()) expect(JSON.parse(r.body)).toEqual({ status: 'ready' });
  }, 180_000);
});
