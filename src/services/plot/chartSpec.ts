// The error-distribution chart, defined once as a Vega-Lite spec: the PNG and the browser draw the same thing.
import type { TopLevelSpec } from 'vega-lite';
import type { HistogramSummary } from './errorHistogram.js';

/** What the chart needs: a histogram summary (structurally), or undefined before the first row. */
export type ErrorChartState = Pick<HistogramSummary, 'count' | 'mean' | 'median' | 'bins'> | undefined;

export interface ErrorChartOptions {
  /** Whole-chart size in pixels, title and axes included (the original's 640x480). */
  width?: number;
  height?: number;
  title?: string;
  /** CSS font-family list; the first is the one the PNG renderer ships (see renderPng.ts). */
  fontFamily?: string;
  /** Shown in the empty chart, e.g. the path being followed. */
  source?: string;
}

const DEFAULT_OPTIONS: Required<ErrorChartOptions> = {
  width: 640,
  height: 480,
  title: 'Distribution of absolute errors',
  fontFamily: 'DejaVu Sans, Helvetica Neue, Arial, sans-serif',
  source: 'logs/metric_log.csv',
};

const COLORS = {
  bar: '#4f79c7',
  mean: '#e4572e',
  median: '#1f2937',
  text: '#111827',
  muted: '#6b7280',
  grid: '#e5e7eb',
  axis: '#9ca3af',
};

const THIN_SPACE_DOT = ' · ';

/** Short human form of a statistic: 3 significant digits, grouped thousands, exponent when tiny. */
export function formatStat(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs === 0) return '0';
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  if (abs < 1e-4) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** The subtitle line: `n = 1,234 · mean 43.2 · median 38.1`. */
export function chartSubtitle(state: NonNullable<ErrorChartState>): string {
  return [
    `n = ${formatCount(state.count)}`,
    `mean ${formatStat(state.mean)}`,
    `median ${formatStat(state.median)}`,
  ].join(THIN_SPACE_DOT);
}

function baseConfig(fontFamily: string): NonNullable<TopLevelSpec['config']> {
  return {
    font: fontFamily,
    view: { stroke: null },
    title: {
      anchor: 'start',
      fontSize: 18,
      fontWeight: 'bold',
      color: COLORS.text,
      subtitleFontSize: 13,
      subtitleColor: COLORS.muted,
      subtitlePadding: 6,
      offset: 14,
    },
    axis: {
      labelColor: COLORS.muted,
      labelFontSize: 11,
      titleColor: COLORS.text,
      titleFontSize: 12,
      titleFontWeight: 'normal',
      titlePadding: 10,
      domainColor: COLORS.axis,
      tickColor: COLORS.axis,
      gridColor: COLORS.grid,
    },
  };
}

// Every layer states the shared x scale in full, so no layer's data can widen it or retitle the axis. Its upper
// end is the parameter `xMax`: a new histogram changes the spec's parameters and data, never its shape, so a
// renderer can keep the compiled chart and only feed it those (renderPng.ts).
const X_AXIS = {
  type: 'quantitative' as const,
  scale: { domainMin: 0, domainMax: { expr: 'xMax' }, nice: false, zero: true },
  axis: { title: 'absolute_error', grid: false, tickCount: 8, labelFlush: true },
};

type Side = 'left' | 'right';
type Statistic = 'mean' | 'median';

/** Where a statistic's label goes: to the left or right of its rule, on the first or second row. */
interface LabelPlace {
  side: Side;
  row: number;
}

/** A statistic's rule and label, drawn from the dataset named after it; the label's place is in parameters. */
function ruleMarks(stat: Statistic, color: string, dash: number[]) {
  const rule = {
    data: { name: stat },
    mark: { type: 'rule' as const, color, strokeWidth: 2, strokeDash: dash },
    encoding: { x: { field: 'value', ...X_AXIS } },
  };
  const text = {
    data: { name: stat },
    mark: {
      type: 'text' as const,
      color,
      fontSize: 12,
      fontWeight: 'bold' as const,
      baseline: 'top' as const,
      align: { expr: `${stat}Align` },
      dx: { expr: `${stat}Dx` },
      y: { expr: `${stat}Y` },
    },
    encoding: {
      x: { field: 'value', ...X_AXIS },
      text: { field: 'label', type: 'nominal' as const },
    },
  };
  return { rule, text };
}

function labelParams(stat: Statistic, place: LabelPlace) {
  return [
    { name: `${stat}Align`, value: place.side === 'left' ? 'right' : 'left' },
    { name: `${stat}Dx`, value: place.side === 'left' ? -6 : 6 },
    { name: `${stat}Y`, value: 4 + place.row * 18 },
  ];
}

interface Labelled {
  value: number;
  label: string;
}

// Rough width of a bold 12 px label: the spec is built before any text is measured.
const LABEL_CHAR_PX = 7.6;
// Axis labels and titles take about this much of the chart's width; the rest is the plot.
const Y_AXIS_PX = 80;

// The labels point away from each other (lower value's label on the left, higher's on the right) so
// they share a row without crossing the other rule; where that would push one off the plot, it flips
// and goes on a second row instead.
function labelPlaces(
  mean: Labelled,
  median: Labelled,
  xMax: number,
  chartWidth: number,
): Record<Statistic, LabelPlace> {
  const meanIsLow = mean.value <= median.value;
  const [low, high] = meanIsLow ? [mean, median] : [median, mean];
  const pxPerUnit = (chartWidth - Y_AXIS_PX) / xMax;
  const fitsLeft = (r: Labelled) => r.value * pxPerUnit > r.label.length * LABEL_CHAR_PX + 8;
  const fitsRight = (r: Labelled) => (xMax - r.value) * pxPerUnit > r.label.length * LABEL_CHAR_PX + 8;
  const lowPlace: LabelPlace = { side: fitsLeft(low) ? 'left' : 'right', row: 0 };
  const highSide: Side = fitsRight(high) ? 'right' : 'left';
  const highPlace: LabelPlace = {
    side: highSide,
    row: lowPlace.side === 'left' && highSide === 'right' ? 0 : 1,
  };
  return meanIsLow ? { mean: lowPlace, median: highPlace } : { mean: highPlace, median: lowPlace };
}

function emptySpec(opts: Required<ErrorChartOptions>): TopLevelSpec {
  const message = (text: string, dy: number, size: number, color: string) => ({
    mark: { type: 'text' as const, text, fontSize: size, color, align: 'center' as const, dy },
    encoding: { x: { value: { expr: 'width / 2' } }, y: { value: { expr: 'height / 2' } } },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: 'Histogram of absolute errors: no rows yet.',
    width: opts.width,
    height: opts.height,
    autosize: { type: 'fit', contains: 'padding', resize: true },
    padding: 20,
    background: 'white',
    title: { text: opts.title, subtitle: `n = 0${THIN_SPACE_DOT}waiting for rows` },
    data: { values: [{}] },
    layer: [
      message('Waiting for rows…', -14, 20, COLORS.text),
      message(`nothing in ${opts.source} yet`, 16, 13, COLORS.muted),
    ],
    config: { ...baseConfig(opts.fontFamily), view: { stroke: COLORS.grid, strokeDash: [4, 4] } },
  };
}

/**
 * The chart as a Vega-Lite spec with its data inline (named datasets) and every number that depends on the
 * data in a parameter, so it renders with no data loading, in Node (renderPng.ts) and in the browser
 * (vega-embed), and two histograms' specs differ only in those datasets and parameter values. `state`
 * undefined or with no rows gives a "waiting for rows" chart.
 */
export function buildErrorChartSpec(state: ErrorChartState, options: ErrorChartOptions = {}): TopLevelSpec {
  const opts = { ...DEFAULT_OPTIONS, ...options };
  if (!state || state.count === 0 || state.bins.length === 0) return emptySpec(opts);
  const lastBin = state.bins[state.bins.length - 1];
  const xMax = lastBin ? lastBin.end : 1;
  const maxCount = Math.max(...state.bins.map((b) => b.count));
  const mean = { value: state.mean, label: `mean ${formatStat(state.mean)}` };
  const median = { value: state.median, label: `median ${formatStat(state.median)}` };
  const places = labelPlaces(mean, median, xMax, opts.width);
  const meanMarks = ruleMarks('mean', COLORS.mean, [7, 4]);
  const medianMarks = ruleMarks('median', COLORS.median, [2, 3]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: 'Histogram of absolute errors, with their mean and median.',
    width: opts.width,
    height: opts.height,
    // resize: lay the chart out again on every update (axis labels change width), not only the first time.
    autosize: { type: 'fit', contains: 'padding', resize: true },
    padding: { left: 16, right: 24, top: 20, bottom: 14 },
    background: 'white',
    // Vega-Lite types a subtitle as text only; Vega takes a signal there, and Vega-Lite passes it on.
    title: { text: opts.title, subtitle: { signal: 'subtitle' } as unknown as string },
    params: [
      { name: 'subtitle', value: chartSubtitle(state) },
      { name: 'xMax', value: xMax },
      // Headroom above the tallest bar keeps the rule labels clear of the bars.
      { name: 'yMax', value: maxCount * 1.15 },
      ...labelParams('mean', places.mean),
      ...labelParams('median', places.median),
    ],
    datasets: { bins: state.bins, mean: [mean], median: [median] },
    layer: [
      {
        data: { name: 'bins' },
        mark: {
          type: 'bar',
          color: COLORS.bar,
          stroke: 'white',
          strokeWidth: 0.75,
          cornerRadiusTopLeft: 2,
          cornerRadiusTopRight: 2,
        },
        encoding: {
          x: { field: 'start', ...X_AXIS },
          x2: { field: 'end' },
          y: {
            field: 'count',
            type: 'quantitative',
            title: 'Count',
            scale: { domainMax: { expr: 'yMax' }, zero: true },
            axis: { format: ',d', tickMinStep: 1, domain: false, ticks: false },
          },
          // With x2 given, Vega-Lite reads x/x2/y as a ranged bar of fixed height: y2 anchors bars at 0.
          y2: { datum: 0 },
          tooltip: [
            { field: 'start', type: 'quantitative', title: 'from' },
            { field: 'end', type: 'quantitative', title: 'to' },
            { field: 'count', type: 'quantitative', title: 'rows', format: ',d' },
          ],
        },
      },
      // Labels after both rules, so a label that crosses the other rule is drawn on top of it.
      meanMarks.rule,
      medianMarks.rule,
      meanMarks.text,
      medianMarks.text,
    ],
    config: baseConfig(opts.fontFamily),
  };
}
