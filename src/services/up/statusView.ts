// The status of `predstream up` as text: the terminal block (width-aware lines) and the plain log line.

export interface QueueCell {
  /** Logical queue name (features, y_true, y_pred). */
  queue: string;
  /** Messages ready in the queue; undefined when unknown (not declared yet, no answer). */
  ready: number | undefined;
  /** Messages in its dead-letter queue, as the metric service last counted them. */
  dead: number | undefined;
}

export interface ServiceView {
  name: string;
  /** starting, running, not ready, restarting (n), finished or stopped. */
  state: string;
  pid: number | undefined;
  /** Messages (or rows, for plot) taken in per second; undefined when not measured. */
  inPerSec: number | undefined;
  /** Messages published (or rows written, for metric) per second. */
  outPerSec: number | undefined;
  /** The queues this service reads. */
  queues: QueueCell[];
}

export interface StatusView {
  elapsedMs: number;
  services: ServiceView[];
  /** True when `up` cannot reach RabbitMQ to read queue depths. */
  brokerDown: boolean;
  /** Rows written to metric_log.csv in this run. */
  rows: number;
  /** --count, when set. */
  targetRows: number | undefined;
  rowsPerSec: number | undefined;
  /** Mean absolute error over the last `rows` rows (at most the window). */
  mae: { value: number; rows: number } | undefined;
  latencyMs: { p50: number; p99: number } | undefined;
  /** Halves waiting for their partner in the metric service. */
  pending: number | undefined;
  dashboardUrl: string | undefined;
  /** Why the pipeline is stopping, once it is. */
  stopping: string | undefined;
}

const MISSING = '-';

export function formatRate(perSec: number | undefined): string {
  if (perSec === undefined || !Number.isFinite(perSec)) return MISSING;
  return perSec < 100 ? perSec.toFixed(1) : String(Math.round(perSec));
}

export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Four significant digits: enough to watch a drift, short enough for one line. */
export function formatError(x: number): string {
  return Number.isFinite(x) && Math.abs(x) < 1e6 ? x.toPrecision(4) : String(x);
}

/** `y_true 3 (dead 0)`, or `y_true 3/0` when the terminal is narrow. */
function formatQueues(service: ServiceView, brokerDown: boolean, compact: boolean): string {
  if (service.queues.length === 0) return '';
  if (brokerDown) return 'broker down';
  return service.queues
    .map((q) =>
      compact
        ? `${q.queue} ${q.ready ?? MISSING}/${q.dead ?? MISSING}`
        : `${q.queue} ${q.ready ?? MISSING} (dead ${q.dead ?? MISSING})`,
    )
    .join(compact ? '  ' : '   ');
}

/** The summary as separate pieces, so the block can wrap between them and the log line join them. */
export function summaryParts(view: StatusView): string[] {
  const parts = [
    `rows ${view.rows}${view.targetRows ? ` of ${view.targetRows}` : ''}`,
    `${formatRate(view.rowsPerSec)} rows/s`,
    view.mae ? `MAE ${formatError(view.mae.value)} (last ${view.mae.rows} rows)` : `MAE ${MISSING}`,
    view.latencyMs
      ? `latency p50 ${formatMs(view.latencyMs.p50)} p99 ${formatMs(view.latencyMs.p99)}`
      : `latency ${MISSING}`,
    `pending ${view.pending ?? MISSING}`,
  ];
  return parts;
}

function fit(line: string, width: number): string {
  return line.length <= width ? line : line.slice(0, Math.max(0, width));
}

/** Packs pieces into lines of at most `width`, a piece only cut when it alone is wider. */
function pack(parts: string[], width: number, gap = '   '): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    if (line !== '' && line.length + gap.length + part.length <= width) line += gap + part;
    else {
      if (line !== '') lines.push(line);
      line = fit(part, width);
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * The status block for a terminal `columns` wide: every line shorter than `columns` (a line that filled
 * the last column would wrap on some terminals and break the painter's line count). Plain ASCII, no
 * escape codes, so the width of a line is its length. The first line is empty on purpose: the painter
 * parks the cursor there, so a line someone else writes lands on it instead of on the table.
 */
export function renderStatusBlock(view: StatusView, columns: number): string[] {
  const width = Math.max(1, columns - 1);
  const title = [
    'predstream up',
    formatElapsed(view.elapsedMs),
    view.stopping ? `stopping (${view.stopping})` : 'Ctrl-C stops',
    ...(view.dashboardUrl && !view.stopping ? [`dashboard ${view.dashboardUrl}`] : []),
  ].join(' -- ');
  const rule = fit(`-- ${title} `.padEnd(width, '-'), width);

  const nameWidth = Math.max(7, ...view.services.map((s) => s.name.length));
  const stateWidth = Math.max(15, ...view.services.map((s) => s.state.length));
  // The widest layout that fits: full queue cells, then compact ones, then without the pid column.
  const layouts = [
    { compact: false, pid: true },
    { compact: true, pid: true },
    { compact: true, pid: false },
  ];
  const tableFor = ({ compact, pid }: { compact: boolean; pid: boolean }) => {
    const row = (cells: [string, string, string, string, string, string]) => {
      const [name, state, pidText, inRate, outRate, queues] = cells;
      return (
        `${name.padEnd(nameWidth)}  ${state.padEnd(stateWidth)}${pid ? ` ${pidText.padStart(7)}` : ''}` +
        ` ${inRate.padStart(8)} ${outRate.padStart(8)}  ${queues}`
      ).trimEnd();
    };
    return [
      row([
        'service',
        'state',
        'pid',
        'in/s',
        'out/s',
        compact ? 'queues: ready/dead' : 'queues read: ready (dead-lettered)',
      ]),
      ...view.services.map((s) =>
        row([
          s.name,
          s.state,
          s.pid === undefined ? MISSING : String(s.pid),
          formatRate(s.inPerSec),
          formatRate(s.outPerSec),
          formatQueues(s, view.brokerDown, compact),
        ]),
      ),
    ];
  };
  let table = tableFor(layouts[0]!);
  for (const layout of layouts) {
    table = tableFor(layout);
    if (table.every((line) => line.length <= width)) break;
  }
  return ['', rule, ...table.map((line) => fit(line, width)), ...pack(summaryParts(view), width)];
}

/** One plain line for logs that are not a terminal (files, CI): the summary and the queue depths. */
export function formatStatusLine(view: StatusView): string {
  const queues = view.brokerDown
    ? 'queues: broker down'
    : `queues ${view.services
        .flatMap((s) => s.queues)
        .map((q) => `${q.queue} ${q.ready ?? MISSING} (dead ${q.dead ?? MISSING})`)
        .join(', ')}`;
  const states = view.services.map((s) => `${s.name} ${s.state}`).join(', ');
  return `${summaryParts(view).join(', ')}; ${queues}; ${states}`;
}
