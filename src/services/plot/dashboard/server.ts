// The live dashboard's HTTP server: the page, its scripts and fonts, and a Server-Sent Events stream of the statistics.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { MetricStatus } from '../../../contract/status.js';
import { METRIC_STATUS_FILE } from '../../../contract/status.js';
import type { Logger } from '../../../util/logger.js';
import { PACKAGE_ROOT } from '../../../util/paths.js';
import { findBundledFontFiles } from '../chartFonts.js';
import type { PlotState } from '../service.js';
import { DashboardFeed, type FeedInput } from './dashboardFeed.js';
import { buildFigures } from './figures.js';
import { alertMessage, MaeAlert } from './maeAlert.js';
import { readMetricStatus } from './metricStatus.js';
import { SseClients } from './sseClients.js';
import { sseComment, sseEvent, sseRetry } from './sse.js';
import { buildStaticRoutes, findVendorBundles, lookupStatic, type StaticFile } from './staticRoutes.js';
import { UsageError } from '../../../util/usageError.js';

export interface DashboardOptions {
  host: string;
  /** 0 picks a free port (tests); the CLI treats --http-port 0 as "no dashboard" and never passes it. */
  port: number;
  state: PlotState;
  /** --alert-mae: warn when the rolling MAE exceeds it. */
  alertMae: number | undefined;
  /** Where metric_status.json is (the metric service's --logs). */
  logsDir: string;
  log: Logger;
  /** Folder of index.html and its files; defaults to the package's static/dashboard. */
  pageDir?: string;
  /** Fonts for @font-face; default: the ones the PNG renderer uses (assets/fonts). */
  fontFiles?: string[];
  /** Pushes are at least this far apart; rows arriving in between are coalesced into one push. */
  minPushIntervalMs?: number;
  /** How often metric_status.json is read (and rows per second and the alert re-checked). */
  statusPollMs?: number;
  /** A comment is sent this often so idle connections and proxies stay open. */
  heartbeatMs?: number;
}

export interface Dashboard {
  /** Where to open the page, e.g. http://127.0.0.1:8080/. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const DEFAULTS = { minPushIntervalMs: 250, statusPollMs: 1000, heartbeatMs: 15_000 };
/** What the page's EventSource waits before reconnecting. */
const RECONNECT_MS = 1000;

// The page runs Vega, which compiles expressions with `new Function`, and vega-embed adds inline styles.
const PAGE_SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') {
    return new UsageError(
      `dashboard port ${port} is already in use: pass another --http-port (0 = no dashboard)`,
    );
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
    return new UsageError(
      `cannot bind the dashboard to --http-host ${host}: not an address of this machine (try 127.0.0.1)`,
    );
  }
  if (err.code === 'EACCES') {
    return new UsageError(`not allowed to bind dashboard port ${port}: use a port above 1023 (--http-port)`);
  }
  return err;
}

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: http.OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

async function sendFile(req: IncomingMessage, res: ServerResponse, entry: StaticFile): Promise<void> {
  const info = await stat(entry.file);
  const etag = `"${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
  const headers: http.OutgoingHttpHeaders = {
    'content-type': entry.contentType,
    'cache-control': 'no-cache',
    etag,
    'x-content-type-options': 'nosniff',
    ...(entry.contentType.startsWith('text/html') ? PAGE_SECURITY_HEADERS : {}),
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': info.size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(entry.file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** Starts the dashboard; resolves once it listens. Owns its timers and connections until `close`. */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const { state, log } = opts;
  const settings = { ...DEFAULTS, ...definedOnly(opts) };
  const routes = buildStaticRoutes({
    pageDir: opts.pageDir ?? path.join(PACKAGE_ROOT, 'static', 'dashboard'),
    fontFiles: opts.fontFiles ?? findBundledFontFiles(),
    vendor: findVendorBundles(),
  });
  const windowSize = state.stats.window.capacity;
  const alert = new MaeAlert(opts.alertMae);
  const feed = new DashboardFeed({
    source: state.csvPath,
    windowSize,
    alertMae: opts.alertMae,
    startedAt: Date.now(),
  });
  const clients = new SseClients();
  const statusPath = path.join(opts.logsDir, METRIC_STATUS_FILE);
  let status: MetricStatus | undefined;
  let statusProblem: string | undefined;
  let lastRowAt: number | undefined;
  let closed = false;

  const checkAlert = (now: number) => {
    const change = alert.observe(state.stats.window.mean, now);
    if (!change) return;
    const current = alert.status;
    const windowRows = state.stats.window.size;
    const fields = { rollingMae: current.value, alertMae: current.threshold, windowRows };
    if (change === 'raised') log.warn(fields, alertMessage(change, current, windowRows));
    else log.info(fields, alertMessage(change, current, windowRows));
  };

  // Everything here is bounded by the chart's bins, the window and the series length: never by the row count.
  const feedInput = (now: number): FeedInput => {
    const snapshot = state.stats.snapshot();
    const figures = buildFigures({
      total: snapshot.total,
      recent: snapshot.recent,
      series: snapshot.series,
      windowSize,
      status,
      alert: alert.status,
      lastRowAt,
      nowMs: now,
    });
    return { snapshot, figures, nowMs: now };
  };

  let pushTimer: NodeJS.Timeout | undefined;
  let lastPushAt = 0;
  let resendAll = false;
  const push = () => {
    pushTimer = undefined;
    if (closed) return;
    const now = Date.now();
    lastPushAt = now;
    checkAlert(now);
    if (clients.size === 0) {
      resendAll = false; // a page that connects gets the full state anyway
      return;
    }
    const input = feedInput(now);
    if (resendAll) {
      resendAll = false;
      clients.broadcast(sseEvent('snapshot', JSON.stringify(feed.snapshot(input, true))));
      return;
    }
    const update = feed.next(input);
    if (update) clients.broadcast(sseEvent('update', JSON.stringify(update)));
  };
  // At most one push per interval: the first row after a quiet spell goes out at once, a burst is coalesced.
  const schedulePush = () => {
    if (pushTimer || closed) return;
    pushTimer = setTimeout(push, Math.max(0, lastPushAt + settings.minPushIntervalMs - Date.now()));
    pushTimer.unref();
  };

  const onRows = () => {
    lastRowAt = Date.now();
    schedulePush();
  };
  const onReset = () => {
    lastRowAt = undefined;
    resendAll = true;
    schedulePush();
  };
  state.events.on('rows', onRows);
  state.events.on('reset', onReset);

  let polling = false;
  const pollStatus = async () => {
    if (polling || closed) return;
    polling = true;
    try {
      const read = await readMetricStatus(statusPath);
      if (read.kind === 'ok') {
        status = read.status;
        statusProblem = undefined;
      } else if (read.kind === 'missing') {
        status = undefined;
      } else if (read.reason !== statusProblem) {
        // Keep the last good status: one bad read should not blank the page.
        statusProblem = read.reason;
        log.debug(`ignoring ${statusPath}: ${read.reason}`);
      }
    } finally {
      polling = false;
    }
    // Rows per second decays and the status ages even when no row arrives: re-check each poll.
    schedulePush();
  };
  const statusTimer = setInterval(() => void pollStatus(), settings.statusPollMs);
  statusTimer.unref();
  const heartbeatTimer = setInterval(() => clients.broadcast(sseComment('keep-alive')), settings.heartbeatMs);
  heartbeatTimer.unref();
  await pollStatus();

  const openStream = (req: IncomingMessage, res: ServerResponse) => {
    if (clients.full) {
      sendText(res, 503, 'too many dashboard connections; close some tabs\n', { 'retry-after': '5' });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Tells a reverse proxy (nginx) not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    req.socket.setNoDelay(true);
    // The full state first, on every connection: a page reconnecting to a restarted server starts over.
    const first =
      sseRetry(RECONNECT_MS) + sseEvent('snapshot', JSON.stringify(feed.snapshot(feedInput(Date.now()))));
    clients.add(res, first);
    log.debug({ clients: clients.size }, 'dashboard page connected');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'only GET and HEAD\n', { allow: 'GET, HEAD' });
      return;
    }
    const target = req.url ?? '/';
    const pathname = target.split(/[?#]/, 1)[0];
    if (pathname === '/events') {
      openStream(req, res);
      return;
    }
    if (pathname === '/state.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(feed.snapshot(feedInput(Date.now()))));
      return;
    }
    const entry = lookupStatic(routes, target);
    if (!entry) {
      sendText(res, 404, `not found: ${pathname ?? target}\n`);
      return;
    }
    await sendFile(req, res, entry);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.warn(`dashboard request ${req.url ?? ''} failed: ${String(err)}`);
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, opts.host, opts.port)));
      server.listen(opts.port, opts.host, () => resolve());
    });
  } catch (err) {
    closed = true;
    clearInterval(statusTimer);
    clearInterval(heartbeatTimer);
    state.events.off('rows', onRows);
    state.events.off('reset', onReset);
    throw err;
  }
  server.on('error', (err) => log.warn(`dashboard server error: ${err.message}`));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${urlHost(opts.host)}:${port}/`,
    port,
    close: async () => {
      if (closed) return;
      closed = true;
      clearTimeout(pushTimer);
      clearInterval(statusTimer);
      clearInterval(heartbeatTimer);
      state.events.off('rows', onRows);
      state.events.off('reset', onReset);
      clients.closeAll();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
    },
  };
}

// Options given as undefined keep their defaults.
function definedOnly(opts: DashboardOptions): Partial<typeof DEFAULTS> {
  const out: Partial<typeof DEFAULTS> = {};
  for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    const value = opts[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
