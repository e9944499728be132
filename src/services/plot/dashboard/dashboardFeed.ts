// What the dashboard pushes: the full state for a new page, then only what changed since the last push.
import type { TopLevelSpec } from 'vega-lite';
import { buildErrorChartSpec } from '../chartSpec.js';
import type { ErrorStatsSnapshot } from '../errorStats.js';
import type { SeriesPoint } from '../errorTimeSeries.js';
import type { DashboardFigures } from './figures.js';
import { buildRollingMaeChartSpec, buildThroughputChartSpec, SERIES_SPAN_MS } from './seriesCharts.js';

/** Sent first on every connection (so a page that reconnects to a restarted server starts over) and after a reset. */
export interface SnapshotMessage {
  /** When this server started: a page that sees it change knows the history it holds is gone. */
  startedAt: number;
  now: number;
  /** The metric log being followed. */
  source: string;
  figures: DashboardFigures;
  /** The histogram: the spec that draws error_distribution.png, data inline. */
  chart: TopLevelSpec;
  seriesCharts: { throughput: TopLevelSpec; rollingMae: TopLevelSpec };
  series: SeriesPoint[];
  seriesSpanMs: number;
}

/** Figures every time; the chart only when it changed; only the seconds of the series that changed. */
export interface UpdateMessage {
  now: number;
  figures: DashboardFigures;
  chart?: TopLevelSpec;
  /** Points to merge by `t` (replace a second the page has, append a newer one). */
  series?: SeriesPoint[];
}

export interface FeedInput {
  snapshot: ErrorStatsSnapshot;
  figures: DashboardFigures;
  nowMs: number;
}

export interface DashboardFeedOptions {
  source: string;
  windowSize: number;
  alertMae: number | undefined;
  startedAt: number;
}

function samePoint(a: SeriesPoint | undefined, b: SeriesPoint | undefined): boolean {
  return !!a && !!b && a.t === b.t && a.rows === b.rows && a.rollingMae === b.rollingMae && a.mae === b.mae;
}

/**
 * Remembers what was last broadcast to every connected page, so each push carries only the difference.
 * Every page gets `snapshot` when it connects, which is newer than the last broadcast, so a difference
 * computed against the broadcast is never missing anything a page needs (merging by `t` is idempotent).
 * The work per call is bounded by the chart's bins and the series' length, not by the number of rows.
 */
export class DashboardFeed {
  private readonly opts: DashboardFeedOptions;
  private lastChart: string | undefined;
  private lastFigures: string | undefined;
  private lastPoint: SeriesPoint | undefined;

  constructor(opts: DashboardFeedOptions) {
    this.opts = opts;
  }

  /** The full state. With `asBroadcast`, it is what every page now has (sent to all after a reset). */
  snapshot(input: FeedInput, asBroadcast = false): SnapshotMessage {
    const chart = this.chart(input.snapshot);
    const series = input.snapshot.series;
    if (asBroadcast) {
      this.lastChart = JSON.stringify(chart);
      this.lastFigures = JSON.stringify(input.figures);
      this.lastPoint = series[series.length - 1];
    }
    return {
      startedAt: this.opts.startedAt,
      now: input.nowMs,
      source: this.opts.source,
      figures: input.figures,
      chart,
      seriesCharts: {
        throughput: buildThroughputChartSpec({ nowMs: input.nowMs }),
        rollingMae: buildRollingMaeChartSpec({
          nowMs: input.nowMs,
          windowSize: this.opts.windowSize,
          alertMae: this.opts.alertMae,
        }),
      },
      series,
      seriesSpanMs: SERIES_SPAN_MS,
    };
  }

  /** The difference from the last broadcast, remembered as the new one; undefined when nothing changed. */
  next(input: FeedInput): UpdateMessage | undefined {
    const chart = this.chart(input.snapshot);
    const chartJson = JSON.stringify(chart);
    const figuresJson = JSON.stringify(input.figures);
    const series = this.newPoints(input.snapshot.series);
    const chartChanged = chartJson !== this.lastChart;
    if (!chartChanged && figuresJson === this.lastFigures && series.length === 0) return undefined;
    this.lastChart = chartJson;
    this.lastFigures = figuresJson;
    if (series.length > 0) this.lastPoint = series[series.length - 1];
    const update: UpdateMessage = { now: input.nowMs, figures: input.figures };
    if (chartChanged) update.chart = chart;
    if (series.length > 0) update.series = series;
    return update;
  }

  private chart(snapshot: ErrorStatsSnapshot): TopLevelSpec {
    return buildErrorChartSpec(snapshot.total, { source: this.opts.source });
  }

  // Seconds at or after the last one broadcast (it may have grown since); scanned from the end.
  private newPoints(series: readonly SeriesPoint[]): SeriesPoint[] {
    const last = this.lastPoint;
    let from = series.length;
    while (from > 0 && (last === undefined || (series[from - 1]?.t ?? -Infinity) >= last.t)) from--;
    const fresh = series.slice(from);
    if (fresh.length === 1 && samePoint(fresh[0], last)) return [];
    return fresh;
  }
}
