// The dashboard's two small time-series charts (rows per second, rolling MAE) as Vega-Lite specs.
import type { TopLevelSpec } from 'vega-lite';

/** Name of the dataset the page streams the per-second points into. */
export const SERIES_DATA = 'series';
/** Name of the signal holding the right edge of the time axis (ms since epoch), moved by the page. */
export const SERIES_END_SIGNAL = 'tEnd';
/** Name of the signal holding the left edge; the page moves it in to the first row while there is little history. */
export const SERIES_START_SIGNAL = 'tStart';
/** Most time shown on the x axis. */
export const SERIES_SPAN_MS = 2 * 60 * 1000;

export interface SeriesChartOptions {
  /** Initial right edge of the time axis; the page moves it with the clock. */
  nowMs: number;
  height?: number;
  fontFamily?: string;
}

export interface RollingMaeChartOptions extends SeriesChartOptions {
  windowSize: number;
  /** Drawn as a dashed red line when set (--alert-mae). */
  alertMae?: number | undefined;
}

// The histogram's palette and font (chartSpec.ts), so the three charts read as one family.
const COLORS = {
  bar: '#4f79c7',
  line: '#1f2937',
  alert: '#dc2626',
  text: '#111827',
  muted: '#6b7280',
  grid: '#eef0f3',
  axis: '#9ca3af',
};
const FONT = 'DejaVu Sans, Helvetica Neue, Arial, sans-serif';
const HEIGHT = 150;

function base(opts: SeriesChartOptions) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 'container' as const,
    height: opts.height ?? HEIGHT,
    autosize: { type: 'fit-x' as const, contains: 'padding' as const },
    padding: { left: 2, right: 10, top: 8, bottom: 2 },
    background: 'white',
    params: [
      { name: SERIES_END_SIGNAL, value: opts.nowMs },
      { name: SERIES_START_SIGNAL, value: opts.nowMs - SERIES_SPAN_MS },
    ],
    data: { name: SERIES_DATA },
    config: {
      font: opts.fontFamily ?? FONT,
      view: { stroke: null },
      axis: {
        labelColor: COLORS.muted,
        labelFontSize: 10,
        titleColor: COLORS.muted,
        titleFontSize: 11,
        titleFontWeight: 'normal' as const,
        domainColor: COLORS.axis,
        tickColor: COLORS.axis,
        gridColor: COLORS.grid,
      },
    },
  };
}

// The axis follows the clock (not the data), so an idle pipeline visibly scrolls away from its last row.
const timeAxis = {
  field: 't',
  type: 'temporal' as const,
  scale: {
    domainMin: { expr: SERIES_START_SIGNAL },
    domainMax: { expr: SERIES_END_SIGNAL },
  },
  axis: { title: null, format: '%H:%M:%S', tickCount: 5, grid: false, labelFlush: true },
};

/** Rows per second: one bar per second that had rows. */
export function buildThroughputChartSpec(opts: SeriesChartOptions): TopLevelSpec {
  return {
    ...base(opts),
    description: 'Rows added to metric_log.csv per second, up to the last two minutes.',
    transform: [{ calculate: 'datum.t + 1000', as: 'tNext' }],
    mark: { type: 'bar', color: COLORS.bar, stroke: 'white', strokeWidth: 0.5, clip: true },
    encoding: {
      x: timeAxis,
      x2: { field: 'tNext' },
      y: {
        field: 'rows',
        type: 'quantitative',
        title: 'rows/s',
        // unionWith gives the axis 0..1 before the first row, instead of NaN.
        scale: { domain: { unionWith: [0, 1] }, zero: true, nice: true },
        axis: { tickCount: 4, format: '~s', domain: false, ticks: false },
      },
      // With x2 given, Vega-Lite reads x/x2/y as a ranged bar of fixed height: y2 anchors the bars at the
      // bottom edge (a pixel position, so it does not touch the domain).
      y2: { value: { expr: 'height' } },
      tooltip: [
        { field: 't', type: 'temporal', title: 'second', format: '%H:%M:%S' },
        { field: 'rows', type: 'quantitative', title: 'rows', format: ',d' },
      ],
    },
  } as TopLevelSpec;
}

/** Rolling MAE over the last `windowSize` rows, as of each second; the alert threshold as a rule. */
export function buildRollingMaeChartSpec(opts: RollingMaeChartOptions): TopLevelSpec {
  const line = {
    mark: {
      type: 'line' as const,
      color: COLORS.line,
      strokeWidth: 2,
      interpolate: 'monotone' as const,
      clip: true,
      point: false,
    },
    encoding: {
      x: timeAxis,
      y: {
        field: 'rollingMae',
        type: 'quantitative' as const,
        title: 'rolling MAE',
        scale: { domain: { unionWith: [0] }, zero: true, nice: true },
        axis: { tickCount: 4, format: '~s', domain: false, ticks: false },
      },
      tooltip: [
        { field: 't', type: 'temporal' as const, title: 'second', format: '%H:%M:%S' },
        {
          field: 'rollingMae',
          type: 'quantitative' as const,
          title: `MAE, last ${opts.windowSize} rows`,
          format: '.3~r',
        },
        { field: 'mae', type: 'quantitative' as const, title: 'MAE of this second', format: '.3~r' },
      ],
    },
  };
  const layers: object[] = [line];
  if (opts.alertMae !== undefined) {
    layers.push(
      {
        data: { values: [{ alert: opts.alertMae }] },
        mark: { type: 'rule', color: COLORS.alert, strokeDash: [5, 4], strokeWidth: 1.5 },
        encoding: { y: { field: 'alert', type: 'quantitative' } },
      },
      {
        data: { values: [{ alert: opts.alertMae, label: `alert > ${opts.alertMae}` }] },
        mark: {
          type: 'text',
          color: COLORS.alert,
          align: 'left',
          baseline: 'bottom',
          dy: -3,
          x: 4,
          fontSize: 10,
        },
        encoding: { y: { field: 'alert', type: 'quantitative' }, text: { field: 'label', type: 'nominal' } },
      },
    );
  }
  return {
    ...base(opts),
    description: `Rolling MAE over the last ${opts.windowSize} rows, per second, up to the last two minutes.`,
    layer: layers,
  } as TopLevelSpec;
}
