import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../../../../test/support/logger.js';
import { METRIC_STATUS_FILE, type MetricStatus } from '../../../contract/status.js';
import { PACKAGE_ROOT } from '../../../util/paths.js';
import { findBundledFontFiles } from '../chartFonts.js';
import { ErrorStats } from '../errorStats.js';
import type { PlotState } from '../service.js';
import type { SnapshotMessage, UpdateMessage } from './dashboardFeed.js';
import { startDashboard, type Dashboard, type DashboardOptions } from './server.js';
import { SseTestClient } from './sseTestClient.js';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

// A request with the path exactly as given (fetch would normalise `..` away before sending).
function raw(
  port: number,
  target: string,
  method = 'GET',
  headers: http.OutgoingHttpHeaders = {},
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: target, method, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const logsDir = mkdtempSync(path.join(tmpdir(), 'predstream-dashboard-'));
afterAll(() => rmSync(logsDir, { recursive: true, force: true }));

const open: Array<Dashboard | SseTestClient> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) {
    if (item instanceof SseTestClient) item.close();
    else await item.close();
  }
});

function makeState(windowSize = 1000): PlotState & { add(errors: number[]): void } {
  const stats = new ErrorStats({ windowSize });
  const events = new EventEmitter();
  let id = 0;
  return {
    stats,
    events,
    csvPath: path.join(logsDir, 'metric_log.csv'),
    add(errors: number[]) {
      stats.addRows(
        errors.map((absoluteError) => ({ id: String(id++), yTrue: 0, yPred: absoluteError, absoluteError })),
        Date.now(),
      );
      events.emit('rows', errors.length);
    },
  };
}

async function start(overrides: Partial<DashboardOptions> = {}) {
  const state = (overrides.state as ReturnType<typeof makeState> | undefined) ?? makeState();
  const capture = captureLogger();
  const dashboard = await startDashboard({
    host: '127.0.0.1',
    port: 0,
    state,
    alertMae: undefined,
    logsDir,
    log: capture.log,
    statusPollMs: 100,
    ...overrides,
  });
  open.push(dashboard);
  return { dashboard, state, lines: capture.lines };
}

async function stream(dashboard: Dashboard) {
  const client = await SseTestClient.connect(`${dashboard.url}events`);
  open.push(client);
  return client;
}

const parse = <T>(m: { data: string }) => JSON.parse(m.data) as T;

describe('dashboard server: files', () => {
  it('serves the page with a content security policy, and everything it loads is served locally', async () => {
    const { dashboard } = await start();
    expect(dashboard.url).toBe(`http://127.0.0.1:${dashboard.port}/`);
    const page = await raw(dashboard.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    const html = page.body.toString();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toEqual(
      expect.arrayContaining([
        '/vendor/vega.min.js',
        '/vendor/vega-lite.min.js',
        '/vendor/vega-embed.min.js',
      ]),
    );
    for (const ref of refs) {
      expect(ref, 'no CDN: the machine may have no internet').toMatch(/^\//);
      expect((await raw(dashboard.port, ref)).status, ref).toBe(200);
    }
    const css = (await raw(dashboard.port, '/dashboard.css')).body.toString();
    for (const url of css.matchAll(/url\('([^']+)'\)/g))
      expect((await raw(dashboard.port, url[1]!)).status).toBe(200);
  });

  it('serves the fonts the PNG is drawn with, byte for byte', async () => {
    const { dashboard } = await start();
    const fonts = findBundledFontFiles();
    expect(fonts.length).toBeGreaterThan(0);
    for (const file of fonts) {
      const res = await raw(dashboard.port, `/fonts/${path.basename(file)}`);
      expect(res.headers['content-type']).toBe('font/ttf');
      expect(res.body.equals(readFileSync(file))).toBe(true);
    }
  });

  it('answers HEAD without a body and a matching If-None-Match with 304', async () => {
    const { dashboard } = await start();
    const head = await raw(dashboard.port, '/dashboard.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(
      readFileSync(path.join(PACKAGE_ROOT, 'static', 'dashboard', 'dashboard.js')).length,
    );
    expect(head.body.length).toBe(0);
    const again = await raw(dashboard.port, '/dashboard.js', 'GET', {
      'if-none-match': String(head.headers.etag),
    });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('answers 404 to unknown paths and to every way of stepping out of the folder', async () => {
    const { dashboard } = await start();
    const secret = readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8').slice(0, 40);
    for (const target of [
      '/nope',
      '/../package.json',
      '/../../package.json',
      '/%2e%2e/package.json',
      '/%2e%2e%2fpackage.json',
      '/vendor/../../package.json',
      '/vendor/..%2f..%2fpackage.json',
      '/fonts/../../../package.json',
      '/static/dashboard/index.html',
      '//etc/passwd',
      '/..\\package.json',
      '/index.html%00',
    ]) {
      const res = await raw(dashboard.port, target);
      expect(res.status, target).toBe(404);
      expect(res.body.toString()).not.toContain(secret);
    }
  });

  it('refuses methods other than GET and HEAD', async () => {
    const { dashboard } = await start();
    const res = await raw(dashboard.port, '/', 'POST');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('names the option to change when the port is taken', async () => {
    const { dashboard } = await start();
    await expect(start({ port: dashboard.port })).rejects.toThrow(/already in use: pass another --http-port/);
  });
});

describe('dashboard server: event stream', () => {
  it('starts every connection with a reconnect delay and the full state', async () => {
    const { dashboard, state } = await start();
    state.add([1, 2, 3]);
    const client = await stream(dashboard);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toContain('no-cache');
    const first = await client.next();
    expect(first.event).toBe('snapshot');
    expect(client.retry).toBe(1000);
    const snapshot = parse<SnapshotMessage>(first);
    expect(snapshot.figures.rows).toBe(3);
    expect(snapshot.figures.total?.mean).toBe(2);
    expect(snapshot.source).toBe(state.csvPath);
  });

  it('pushes new rows within a second, with the chart', async () => {
    const { dashboard, state } = await start();
    const client = await stream(dashboard);
    await client.next((m) => m.event === 'snapshot');
    const t0 = Date.now();
    state.add([4, 6]);
    // An update for something else (the status file, the clock) may come first: wait for the one with rows.
    const update = parse<UpdateMessage>(
      await client.next((m) => m.event === 'update' && parse<UpdateMessage>(m).figures.rows > 0, 1000),
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(update.figures.rows).toBe(2);
    expect(update.figures.total?.mean).toBe(5);
    expect(JSON.stringify(update.chart)).toContain('n = 2');
  });

  it('coalesces a burst into at most one push per 250 ms, the last one complete', async () => {
    const { dashboard, state } = await start();
    const client = await stream(dashboard);
    await client.next();
    const t0 = Date.now();
    for (let i = 0; i < 40; i++) {
      state.add([1]);
      await new Promise((r) => setTimeout(r, 25));
    }
    const elapsed = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 400));
    const updates = client.messages.filter((m) => m.event === 'update').map((m) => parse<UpdateMessage>(m));
    expect(updates.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 2);
    expect(updates.length).toBeGreaterThanOrEqual(2);
    expect(updates.at(-1)?.figures.rows).toBe(40);
  });

  it('reads metric_status.json from the logs folder and pushes what it says', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'predstream-dashboard-status-'));
    try {
      const { dashboard } = await start({ logsDir: dir });
      const client = await stream(dashboard);
      expect(parse<SnapshotMessage>(await client.next()).figures.metric).toBeNull();
      const status: MetricStatus = {
        updatedAt: Date.now(),
        rowsWritten: 9,
        pending: 4,
        expired: 1,
        duplicates: 0,
        deadLetters: { features: 0, y_true: 2, y_pred: 1 },
        latencyMs: { p50: 3, p90: 5, p99: 8, max: 9, samples: 9 },
      };
      writeFileSync(path.join(dir, METRIC_STATUS_FILE), JSON.stringify(status));
      // An update for something else (the clock) may come first: wait for the one with the status.
      const withStatus = await client.next(
        (m) => m.event === 'update' && parse<UpdateMessage>(m).figures.metric != null,
        2000,
      );
      const update = parse<UpdateMessage>(withStatus);
      expect(update.figures.metric).toMatchObject({
        pending: 4,
        deadLettersTotal: 3,
        latencyMs: { p50: 3, p99: 8 },
      });
      // A half-written file keeps the last good status on the page.
      writeFileSync(path.join(dir, METRIC_STATUS_FILE), '{"updatedAt": 1, "rows');
      await new Promise((r) => setTimeout(r, 300));
      const later = client.messages
        .slice(client.messages.indexOf(withStatus) + 1)
        .filter((m) => m.event === 'update')
        .map((m) => parse<UpdateMessage>(m));
      expect(later.every((u) => u.figures.metric?.pending === 4)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('raises the alert (warning logged, page marked) above --alert-mae and clears it (info logged) below', async () => {
    const state = makeState(5);
    const { dashboard, lines } = await start({ state, alertMae: 10 });
    const client = await stream(dashboard);
    await client.next();
    state.add([20, 20, 20]);
    const raised = await client.next(
      (m) => m.event === 'update' && parse<UpdateMessage>(m).figures.alert.active,
    );
    expect(parse<UpdateMessage>(raised).figures.alert).toMatchObject({
      threshold: 10,
      active: true,
      value: 20,
    });
    const warnings = lines().filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toBe('alert: rolling MAE 20 over the last 3 rows is above --alert-mae 10');
    const seen = client.messages.length;
    state.add([1, 1, 1, 1, 1]); // window (5 rows) mean 1
    const cleared = await client.next(
      (m) => m.event === 'update' && !parse<UpdateMessage>(m).figures.alert.active,
      3000,
      seen,
    );
    expect(parse<UpdateMessage>(cleared).figures.alert).toMatchObject({
      active: false,
      since: null,
      value: 1,
    });
    const info = lines().filter((l) => l.level === 30 && String(l.msg).startsWith('alert cleared'));
    expect(info.map((l) => l.msg)).toEqual([
      'alert cleared: rolling MAE 1 over the last 5 rows is back at or below --alert-mae 10',
    ]);
    expect(lines().filter((l) => l.level === 40)).toHaveLength(1);
  });

  it('sends the full state to every page again after the metric log was reset', async () => {
    const { dashboard, state } = await start();
    state.add([5, 5]);
    const client = await stream(dashboard);
    await client.next();
    state.stats.reset();
    state.events.emit('reset');
    const again = await client.next((m) => m.event === 'snapshot', 2000, 1);
    expect(parse<SnapshotMessage>(again).figures.rows).toBe(0);
  });

  it('ends the streams on close; a server started again on the port sends the full state first', async () => {
    const first = await start();
    first.state.add([1]);
    const client = await stream(first.dashboard);
    await client.next();
    const port = first.dashboard.port;
    await first.dashboard.close();
    await client.ended;
    const restarted = makeState();
    restarted.add([7, 9]);
    const second = await start({ port, state: restarted });
    const reconnected = await stream(second.dashboard);
    const message = await reconnected.next();
    expect(message.event).toBe('snapshot');
    const snapshot = parse<SnapshotMessage>(message);
    expect(snapshot.figures.rows).toBe(2);
    expect(snapshot.startedAt).toBeGreaterThan(0);
  });

  it('stops listening to the plot state once closed', async () => {
    const { dashboard, state } = await start();
    expect(state.events.listenerCount('rows')).toBe(1);
    await dashboard.close();
    expect(state.events.listenerCount('rows')).toBe(0);
    expect(state.events.listenerCount('reset')).toBe(0);
  });
});
