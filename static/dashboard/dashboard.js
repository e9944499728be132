// The dashboard page: follows the plot service's event stream and updates figures and charts in place.
// Messages (see src/services/plot/dashboard/dashboardFeed.ts): `snapshot` carries everything and comes
// first on every connection; `update` carries the figures, the histogram spec when it changed, and the
// seconds of the time series that changed.
/* global document, window, performance, EventSource, vega, vegaEmbed */

/** A row counts as "live" traffic for this long after it arrived. */
const LIVE_MS = 5000;
/** metric_status.json is rewritten every second; older than this, the metric service is not reporting. */
const STALE_STATUS_MS = 5000;
/** After the stream is refused outright (EventSource gives up), try again this often. */
const RETRY_MS = 2000;
/** The time axis shows at least this much, and zooms out from the first row to the full span as history grows. */
const MIN_SERIES_SPAN_MS = 30000;

const page = {
  connected: false,
  everConnected: false,
  /** Server clock minus page clock, so times from the server compare with Date.now(). */
  clockOffset: 0,
  startedAt: null,
  figures: null,
  series: [],
  seriesSpanMs: 120000,
  seriesSpecKey: null,
};

// ---- formatting (formatStat mirrors src/services/plot/chartSpec.ts, so the page and the PNG agree) ----

function formatStat(x) {
  if (x === null || x === undefined) return '—';
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs === 0) return '0';
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  if (abs < 1e-4) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}

/** Like the server's maeAlert.formatAgainst: enough digits that a value never prints as its threshold. */
function formatAgainst(value, threshold) {
  let text = formatStat(value);
  for (let digits = 4; digits <= 8 && Number(text) === threshold && value !== threshold; digits++) {
    text = String(Number(value.toPrecision(digits)));
  }
  return text;
}

function formatCount(n) {
  return n === null || n === undefined ? '—' : n.toLocaleString('en-US');
}

function formatMs(ms) {
  if (ms === null || ms === undefined) return '—';
  return ms >= 1000 ? `${formatStat(ms / 1000)} s` : `${formatStat(ms)} ms`;
}

/** Several durations in one unit, chosen by the largest: `11.2 · 18.5 · 41.3 · 77 ms`. */
function formatLatencies(values) {
  const seconds = Math.max(...values) >= 1000;
  return `${values.map((v) => formatStat(seconds ? v / 1000 : v)).join(' · ')} ${seconds ? 's' : 'ms'}`;
}

function formatAgo(ms) {
  const s = Math.max(0, ms) / 1000;
  if (s < 1) return 'just now';
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function formatClock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

const serverNow = () => Date.now() + page.clockOffset;

// ---- figures ----

function setFigure(name, value, text) {
  for (const el of document.querySelectorAll(`[data-figure="${name}"]`)) {
    el.textContent = text;
    if (value === null || value === undefined) el.removeAttribute('data-value');
    else el.dataset.value = String(value);
  }
}

function setText(id, text, level) {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = text;
  if (level) el.dataset.level = level;
  else el.removeAttribute('data-level');
}

const STAT_KEYS = ['count', 'mean', 'rmse', 'median', 'p90', 'p99', 'max'];

function renderStatColumn(prefix, stats) {
  for (const key of STAT_KEYS) {
    const value = stats ? stats[key] : null;
    setFigure(`${prefix}-${key}`, value, key === 'count' ? formatCount(value) : formatStat(value));
  }
}

function renderFigures() {
  const f = page.figures;
  if (!f) return;
  setFigure('rows', f.rows, formatCount(f.rows));
  setFigure('mae', f.total?.mean, formatStat(f.total?.mean));
  setFigure('rmse', f.total?.rmse, formatStat(f.total?.rmse));
  setFigure('rolling-mae', f.recent?.mean, formatStat(f.recent?.mean));
  setFigure('window-rows', f.windowSize, formatCount(f.windowSize));
  setFigure('rate', f.rowsPerSecond, f.rowsPerSecond === null ? '—' : formatStat(f.rowsPerSecond));
  renderStatColumn('total', f.total);
  renderStatColumn('recent', f.recent);
  setText(
    'quantile-note',
    f.fineBinWidth
      ? `All-rows median and percentiles are read from a fine histogram, within ±${formatStat(f.fineBinWidth)}; ` +
          'recent-window figures are exact.'
      : 'Recent-window figures are exact.',
  );
  setText(
    'alert-threshold',
    f.alert.threshold === null ? ' rows' : ` · alert > ${formatStat(f.alert.threshold)}`,
  );
  renderMetric(f.metric);
  renderAlert(f.alert);
  renderClockDependent();
}

function renderMetric(m) {
  const latency = m?.latencyMs ?? null;
  setFigure('latency-p50', latency?.p50, formatMs(latency?.p50));
  setFigure('latency-p99', latency?.p99, formatMs(latency?.p99));
  setFigure('pending', m?.pending, formatCount(m?.pending));
  setFigure('dead-letters', m?.deadLettersTotal, formatCount(m?.deadLettersTotal));
  const dead = document.getElementById('kpi-dead');
  if (dead) dead.dataset.level = m && m.deadLettersTotal > 0 ? 'warn' : 'ok';
  if (!m) {
    setText('dead-sub', 'messages set aside');
    setText('latency-detail', '—');
    setText('dead-detail', '—');
    setText('join-detail', '—');
    return;
  }
  const queues = Object.entries(m.deadLetters);
  setText('dead-sub', m.deadLettersTotal > 0 ? 'in the .dead queues' : 'every message was valid');
  setText(
    'latency-detail',
    latency ? formatLatencies([latency.p50, latency.p90, latency.p99, latency.max]) : 'no rows yet',
  );
  setText(
    'dead-detail',
    queues.length ? queues.map(([q, n]) => `${q} ${formatCount(n)}`).join(' · ') : 'unknown',
    m.deadLettersTotal > 0 ? 'warn' : undefined,
  );
  setText(
    'join-detail',
    `${formatCount(m.expired)} · ${formatCount(m.duplicates)}`,
    m.expired > 0 ? 'warn' : undefined,
  );
}

function renderAlert(alert) {
  const banner = document.getElementById('alert-banner');
  document.body.dataset.alert = alert.active ? 'on' : 'off';
  if (!banner) return;
  banner.hidden = !alert.active;
  if (alert.active) {
    const windowRows = formatCount(page.figures?.recent?.count ?? page.figures?.windowSize);
    setText(
      'alert-text',
      `Rolling MAE ${formatAgainst(alert.value, alert.threshold)} over the last ${windowRows} rows is above the alert threshold ` +
        `${formatStat(alert.threshold)}` +
        (alert.since ? ` (since ${formatClock(alert.since - page.clockOffset)})` : ''),
    );
  }
}

/** The header state and the "ago" texts, which change with the clock as well as with messages. */
function renderClockDependent() {
  const f = page.figures;
  const now = serverNow();
  let state;
  let text;
  if (!page.connected) {
    state = page.everConnected ? 'offline' : 'connecting';
    text = page.everConnected ? 'Plot service unreachable · reconnecting…' : 'Connecting…';
  } else if (f && f.alert.active) {
    state = 'alert';
    text = `Alert · rolling MAE above ${formatStat(f.alert.threshold)}`;
  } else if (!f || f.rows === 0) {
    state = 'waiting';
    text = 'Waiting for rows';
  } else if (f.lastRowAt !== null && now - f.lastRowAt < LIVE_MS) {
    state = 'live';
    text = f.rowsPerSecond ? `Live · ${formatStat(f.rowsPerSecond)} rows/s` : 'Live';
  } else {
    state = 'idle';
    text =
      f.lastRowAt === null
        ? 'Idle · no new rows since the page opened'
        : `Idle · last row ${formatAgo(now - f.lastRowAt)}`;
  }
  document.body.dataset.state = state;
  setText('state-text', text);
  document.title = `${state === 'alert' ? '⚠ ' : ''}predstream · ${f ? formatCount(f.rows) : '—'} rows`;

  if (!f) return;
  setText(
    'last-row',
    f.lastRowAt === null
      ? f.rows
        ? 'rows read at start'
        : 'no rows yet'
      : `last row ${formatAgo(now - f.lastRowAt)}`,
  );
  const m = f.metric;
  const stale = !m || now - m.updatedAt > STALE_STATUS_MS;
  for (const el of document.querySelectorAll('[data-needs="metric"]')) el.dataset.stale = String(stale);
  if (!m) setText('metric-health', 'no status file yet', 'warn');
  else if (stale)
    setText('metric-health', `silent for ${formatAgo(now - m.updatedAt).replace(' ago', '')}`, 'warn');
  else setText('metric-health', `reporting · ${formatCount(m.rowsWritten)} rows written`, 'ok');
}

// ---- charts ----

// Warnings off: a series chart is first drawn before its data is streamed in, which Vega warns about.
const EMBED_OPTIONS = {
  renderer: 'svg',
  actions: false,
  logLevel: typeof vega === 'undefined' ? 0 : vega.Error,
};

/** Longest rest between two draws of one chart, however slow the last draw was. */
const MAX_REST_MS = 1000;

const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));
const untilVisible = () =>
  new Promise((resolve) => document.addEventListener('visibilitychange', resolve, { once: true }));

/**
 * Runs `work` on request, never two at once; requests made meanwhile collapse into one more run. After
 * each run it rests as long as the run took, so one chart takes at most half of the page's time however
 * fast messages arrive (Vega redraws are the costly part); it does nothing while the tab is hidden.
 */
class Throttled {
  constructor(work) {
    this.work = work;
    this.requested = false;
    this.running = null;
    this.restUntil = 0;
  }

  request() {
    this.requested = true;
    this.running ??= this.loop().finally(() => (this.running = null));
    return this.running;
  }

  async loop() {
    while (this.requested) {
      while (document.hidden) await untilVisible();
      const rest = this.restUntil - performance.now();
      if (rest > 0) await sleep(rest);
      this.requested = false;
      const started = performance.now();
      try {
        await this.work();
      } catch (err) {
        console.error('cannot draw chart', err);
      }
      this.restUntil = performance.now() + Math.min(MAX_REST_MS, performance.now() - started);
    }
  }
}

/**
 * One chart container. A new spec is drawn into a fresh frame laid over the old one, which is removed once
 * the new one is drawn, so nothing jumps; specs that arrive while drawing collapse into the latest.
 */
class ChartSlot {
  constructor(container, afterDraw) {
    this.container = container;
    this.afterDraw = afterDraw;
    this.current = null;
    this.spec = null;
    this.task = new Throttled(() => this.draw());
  }

  show(spec) {
    this.spec = spec;
    return this.task.request();
  }

  async draw() {
    const spec = this.spec;
    await fontsReady;
    const frame = document.createElement('div');
    frame.className = 'chart__frame';
    this.container.appendChild(frame);
    try {
      const result = await vegaEmbed(frame, spec, EMBED_OPTIONS);
      if (this.afterDraw) await this.afterDraw(result.view);
      const old = this.current;
      this.current = { frame, result };
      this.container.removeAttribute('data-error');
      if (old) {
        old.result.finalize();
        old.frame.remove();
      }
    } catch (err) {
      frame.remove();
      this.container.dataset.error = String(err);
      throw err;
    }
  }

  get view() {
    return this.current ? this.current.result.view : null;
  }
}

// The histogram's text is measured when it is laid out: wait for the bundled font, or labels shift.
const fontsReady = Promise.all([
  document.fonts.load('12px "DejaVu Sans"'),
  document.fonts.load('bold 12px "DejaVu Sans"'),
]).catch(() => undefined);

/** Moves the time axis to now; a young pipeline's first row sits near the left edge rather than at the far right. */
function moveTimeAxis(view) {
  const end = serverNow();
  const first = page.series[0];
  const full = end - page.seriesSpanMs;
  const start = first ? Math.max(full, Math.min(first.t - 2000, end - MIN_SERIES_SPAN_MS)) : full;
  view.signal('tStart', start).signal('tEnd', end);
}

/** Replaces a view's series with the page's (after drawing a new spec). */
async function feedSeries(view) {
  if (!view) return;
  // Each view gets its own copies: Vega tags the objects it ingests.
  view.data(
    'series',
    page.series.map((p) => ({ ...p })),
  );
  moveTimeAxis(view);
  await view.runAsync();
}

/** Earliest second changed since the series charts were last refreshed; null when none. */
let seriesChangedFrom = null;

// Only the changed seconds go to Vega: replacing every point redraws every bar, which is what costs.
async function updateSeries(view, from) {
  if (!view) return;
  if (from !== null) {
    const oldest = serverNow() - page.seriesSpanMs - 5000;
    const changed = page.series.filter((p) => p.t >= from).map((p) => ({ ...p }));
    view.change(
      'series',
      vega
        .changeset()
        .remove((d) => d.t >= from || d.t < oldest)
        .insert(changed),
    );
  }
  moveTimeAxis(view);
  await view.runAsync();
}

const charts = {
  histogram: new ChartSlot(document.getElementById('histogram')),
  throughput: new ChartSlot(document.getElementById('throughput'), feedSeries),
  rolling: new ChartSlot(document.getElementById('rolling'), feedSeries),
};

/** New points or a moved clock: both series charts, throttled together. */
const seriesRefresh = new Throttled(() => {
  const from = seriesChangedFrom;
  seriesChangedFrom = null;
  return Promise.all([updateSeries(charts.throughput.view, from), updateSeries(charts.rolling.view, from)]);
});

/** Merges points by second (replacing one the page has, appending newer) and forgets the ones off the axis. */
function mergeSeries(points) {
  const series = page.series;
  for (const p of points) {
    let i = series.length - 1;
    while (i >= 0 && series[i].t > p.t) i--;
    if (i >= 0 && series[i].t === p.t) series[i] = p;
    else series.splice(i + 1, 0, p);
  }
  const oldest = serverNow() - page.seriesSpanMs - 5000;
  // Older seconds are off the axis; dropping them keeps each redraw as small as the span.
  let drop = 0;
  while (drop < series.length && series[drop].t < oldest) drop++;
  if (drop) series.splice(0, drop);
}

// ---- the stream ----

function onSnapshot(msg) {
  page.connected = true;
  page.everConnected = true;
  page.clockOffset = msg.now - Date.now();
  page.startedAt = msg.startedAt;
  page.figures = msg.figures;
  page.series = msg.series.slice();
  page.seriesSpanMs = msg.seriesSpanMs;
  setText('source', msg.source);
  setText('server-started', `plot service up since ${formatClock(msg.startedAt - page.clockOffset)}`);
  renderFigures();
  void charts.histogram.show(msg.chart);
  // A restarted server may have another threshold or window: redraw the series charts only if they changed.
  const key = JSON.stringify(msg.seriesCharts, (k, v) => (k === 'value' && typeof v === 'number' ? 0 : v));
  if (key !== page.seriesSpecKey) {
    page.seriesSpecKey = key;
    void charts.throughput.show(msg.seriesCharts.throughput);
    void charts.rolling.show(msg.seriesCharts.rollingMae);
  } else {
    // Same charts, new history: replace their data outright.
    seriesChangedFrom = -Infinity;
    void seriesRefresh.request();
  }
}

function onUpdate(msg) {
  page.clockOffset = msg.now - Date.now();
  page.figures = msg.figures;
  renderFigures();
  if (msg.chart) void charts.histogram.show(msg.chart);
  if (msg.series && msg.series.length > 0) {
    mergeSeries(msg.series);
    const from = msg.series[0].t;
    seriesChangedFrom = seriesChangedFrom === null ? from : Math.min(seriesChangedFrom, from);
    void seriesRefresh.request();
  }
}

function connect() {
  const source = new EventSource('/events');
  source.addEventListener('snapshot', (e) => onSnapshot(JSON.parse(e.data)));
  source.addEventListener('update', (e) => onUpdate(JSON.parse(e.data)));
  source.addEventListener('error', () => {
    page.connected = false;
    renderClockDependent();
    // EventSource retries by itself after a dropped connection, but gives up on a refused one (e.g. 503).
    if (source.readyState === EventSource.CLOSED) window.setTimeout(connect, RETRY_MS);
  });
}

window.setInterval(() => {
  renderClockDependent();
  void seriesRefresh.request();
}, 1000);

if (typeof vega === 'undefined' || typeof vegaEmbed === 'undefined') {
  setText('state-text', 'Chart scripts did not load: reinstall predstream');
} else {
  connect();
}
