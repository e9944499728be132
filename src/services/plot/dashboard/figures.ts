// The numbers the dashboard shows, gathered from the error statistics, the metric status and the alert.
import type { LatencySummary, MetricStatus } from '../../../contract/status.js';
import type { HistogramSummary } from '../errorHistogram.js';
import type { ErrorSummary } from '../errorSummary.js';
import type { SeriesPoint } from '../errorTimeSeries.js';
import type { WindowStats } from '../recentWindow.js';
import type { AlertStatus } from './maeAlert.js';

/** Statistics of absolute error over a set of rows. */
export interface StatFigures {
  count: number;
  mean: number;
  rmse: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
}

export interface MetricFigures {
  /** When the metric service wrote its status (ms since epoch): the page greys out a stale one. */
  updatedAt: number;
  rowsWritten: number;
  pending: number;
  expired: number;
  duplicates: number;
  deadLetters: Record<string, number>;
  deadLettersTotal: number;
  latencyMs: LatencySummary | null;
}

/** Plain JSON (null, never undefined), so a change shows up as a change of its serialised form. */
export interface DashboardFigures {
  rows: number;
  /** Over all rows; quantiles estimated from the histogram, within `fineBinWidth`. */
  total: StatFigures | null;
  /** Over the last `windowSize` rows, exact. */
  recent: StatFigures | null;
  windowSize: number;
  fineBinWidth: number | null;
  /** Mean rows per second over the last complete seconds; null before the first complete second. */
  rowsPerSecond: number | null;
  /** When the plot service last read a row (ms since epoch). */
  lastRowAt: number | null;
  /** null until metric_status.json has been read. */
  metric: MetricFigures | null;
  alert: AlertStatus;
}

export interface FiguresInput {
  total: HistogramSummary | undefined;
  recent: WindowStats | undefined;
  series: readonly SeriesPoint[];
  windowSize: number;
  status: MetricStatus | undefined;
  alert: AlertStatus;
  lastRowAt: number | undefined;
  nowMs: number;
}

/** Seconds averaged for the rows-per-second figure: long enough to be steady, short enough to follow a change. */
export const RATE_SPAN_SECONDS = 5;

/**
 * Rows per second over the last `spanSeconds` complete seconds before `nowMs` (the current second is
 * still filling). Reads the series from its end, so the cost is O(spanSeconds), not O(history).
 * While the series is younger than the span, averages over the seconds since its first point.
 */
export function rowsPerSecond(
  series: readonly SeriesPoint[],
  nowMs: number,
  spanSeconds = RATE_SPAN_SECONDS,
): number | null {
  const first = series[0];
  if (!first) return null;
  const currentSecond = Math.floor(nowMs / 1000) * 1000;
  const spanStart = currentSecond - spanSeconds * 1000;
  // A pipeline that started inside the span has been running for fewer seconds than the span.
  const seconds = (currentSecond - Math.max(spanStart, first.t)) / 1000;
  if (seconds < 1) return null;
  let rows = 0;
  for (let i = series.length - 1; i >= 0; i--) {
    const point = series[i];
    if (!point || point.t < spanStart) break;
    if (point.t < currentSecond) rows += point.rows;
  }
  return rows / seconds;
}

function statFigures(s: ErrorSummary): StatFigures {
  return { count: s.count, mean: s.mean, rmse: s.rmse, median: s.median, p90: s.p90, p99: s.p99, max: s.max };
}

function fromStatus(s: MetricStatus): MetricFigures {
  const deadLettersTotal = Object.values(s.deadLetters).reduce((a, b) => a + b, 0);
  return {
    updatedAt: s.updatedAt,
    rowsWritten: s.rowsWritten,
    pending: s.pending,
    expired: s.expired,
    duplicates: s.duplicates,
    deadLetters: { ...s.deadLetters },
    deadLettersTotal,
    latencyMs: s.latencyMs ? { ...s.latencyMs } : null,
  };
}

export function buildFigures(input: FiguresInput): DashboardFigures {
  return {
    rows: input.total?.count ?? 0,
    total: input.total ? statFigures(input.total) : null,
    recent: input.recent ? statFigures(input.recent) : null,
    windowSize: input.windowSize,
    fineBinWidth: input.total ? input.total.fineBinWidth : null,
    rowsPerSecond: input.total ? rowsPerSecond(input.series, input.nowMs) : null,
    lastRowAt: input.lastRowAt ?? null,
    metric: input.status ? fromStatus(input.status) : null,
    alert: input.alert,
  };
}
