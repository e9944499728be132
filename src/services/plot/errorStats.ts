// All in-memory statistics of the plot service, fed row by row; the single source the charts are built from.
import type { MetricRow } from './csvTail.js';
import { ErrorHistogram, type HistogramSummary } from './errorHistogram.js';
import { ErrorTimeSeries, type SeriesPoint } from './errorTimeSeries.js';
import { RecentWindow, type WindowStats } from './recentWindow.js';

export interface ErrorStatsOptions {
  /** Fine bins of the all-time histogram (power of two). */
  fineBins?: number;
  /** Rows in the recent window. */
  windowSize?: number;
  /** Seconds kept in the time series. */
  seriesPoints?: number;
  /** Target number of bars in the display histogram. */
  displayBins?: number;
}

const DEFAULT_OPTIONS: Required<ErrorStatsOptions> = {
  fineBins: 2048,
  windowSize: 1000,
  seriesPoints: 600,
  displayBins: 30,
};

/** A consistent picture of the statistics at one moment; plain data, safe to serialise. */
export interface ErrorStatsSnapshot {
  /** All rows since start (or since the last reset); undefined before the first row. */
  total: HistogramSummary | undefined;
  /** The last `windowSize` rows, exact; undefined before the first row. */
  recent: WindowStats | undefined;
  series: SeriesPoint[];
}

/** Adding a row is O(1) amortised; `snapshot` is O(fineBins + windowSize log windowSize), per redraw. */
export class ErrorStats {
  readonly histogram: ErrorHistogram;
  readonly window: RecentWindow;
  readonly series: ErrorTimeSeries;
  private readonly displayBins: number;

  constructor(options: ErrorStatsOptions = {}) {
    const opts = { ...DEFAULT_OPTIONS, ...options };
    this.histogram = new ErrorHistogram({ fineBins: opts.fineBins });
    this.window = new RecentWindow(opts.windowSize);
    this.series = new ErrorTimeSeries(opts.seriesPoints);
    this.displayBins = opts.displayBins;
  }

  get count(): number {
    return this.histogram.count;
  }

  add(row: MetricRow, nowMs: number): void {
    this.histogram.add(row.absoluteError);
    this.window.add(row.absoluteError);
    this.series.add(nowMs, row.absoluteError, this.window.mean);
  }

  addRows(rows: readonly MetricRow[], nowMs: number): void {
    for (const row of rows) this.add(row, nowMs);
  }

  /** Forget everything (the metric log was truncated or replaced and will be read again from 0). */
  reset(): void {
    this.histogram.reset();
    this.window.reset();
    this.series.reset();
  }

  snapshot(): ErrorStatsSnapshot {
    return {
      total: this.histogram.summary(this.displayBins),
      recent: this.window.stats(),
      series: this.series.points(),
    };
  }
}
