import { parse as parseVega, View } from 'vega';
import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../errorTimeSeries.js';
import {
  buildRollingMaeChartSpec,
  buildThroughputChartSpec,
  SERIES_DATA,
  SERIES_END_SIGNAL,
  SERIES_SPAN_MS,
} from './seriesCharts.js';

interface SceneItem {
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  datum?: Record<string, unknown>;
}
interface SceneNode {
  marktype?: string;
  role?: string;
  items?: Array<SceneNode & SceneItem>;
}

function marksOf(node: SceneNode, type: string, out: SceneItem[][] = []): SceneItem[][] {
  if (node.marktype === type && node.role === 'mark') out.push(node.items ?? []);
  for (const child of node.items ?? []) marksOf(child, type, out);
  return out;
}

const sceneOf = (view: View) => (view.scenegraph() as unknown as { root: SceneNode }).root;

// Draws the spec headless as the page does: data streamed into the named set, the clock signal set.
async function draw(spec: ReturnType<typeof buildThroughputChartSpec>, points: SeriesPoint[], tEnd: number) {
  const view = new View(parseVega(compile(spec).spec), { renderer: 'none' });
  view.data(SERIES_DATA, points);
  view.signal(SERIES_END_SIGNAL, tEnd);
  view.signal('width', 600);
  await view.runAsync();
  return view;
}

const NOW = 1_800_000_000_000;
const p = (secondsAgo: number, rows: number, rollingMae = 10): SeriesPoint => ({
  t: NOW - secondsAgo * 1000,
  rows,
  mae: rollingMae,
  rollingMae,
});

describe('throughput chart', () => {
  it('draws one bar per second with heights in proportion to the rows', async () => {
    const view = await draw(buildThroughputChartSpec({ nowMs: NOW }), [p(3, 50), p(2, 100), p(1, 25)], NOW);
    const [bars] = marksOf(sceneOf(view), 'rect');
    expect(bars).toHaveLength(3);
    const heights = bars!.map((b) => b.height ?? 0);
    expect(heights[1]! / heights[0]!).toBeCloseTo(2, 6);
    expect(heights[2]! / heights[0]!).toBeCloseTo(0.5, 6);
    view.finalize();
  });

  it('follows the clock: a second older than the span is left of the plot', async () => {
    const old = p(SERIES_SPAN_MS / 1000 + 10, 10);
    const view = await draw(buildThroughputChartSpec({ nowMs: NOW }), [old, p(1, 10)], NOW);
    const [bars] = marksOf(sceneOf(view), 'rect');
    const byAge = [...bars!].sort((a, b) => (a.x ?? 0) - (b.x ?? 0));
    expect((byAge[0]!.x ?? 0) + (byAge[0]!.width ?? 0)).toBeLessThanOrEqual(0);
    expect(byAge[1]!.x).toBeGreaterThan(0);
    view.finalize();
  });

  it('draws before the first row without a NaN axis', async () => {
    const view = await draw(buildThroughputChartSpec({ nowMs: NOW }), [], NOW);
    const svg = await view.toSVG();
    expect(svg).not.toContain('NaN');
    view.finalize();
  });
});

describe('rolling MAE chart', () => {
  it('draws the threshold as a rule at its value when --alert-mae is set', async () => {
    const spec = buildRollingMaeChartSpec({ nowMs: NOW, windowSize: 1000, alertMae: 42 });
    const view = await draw(spec, [p(3, 1, 30), p(2, 1, 35)], NOW);
    const rules = marksOf(sceneOf(view), 'rule').flat();
    expect(rules).toHaveLength(1);
    const y = view.scale('y') as (v: number) => number;
    expect(rules[0]!.y).toBeCloseTo(y(42), 6);
    expect(JSON.stringify(spec)).toContain('alert > 42');
    view.finalize();
  });

  it('has no rule without a threshold, and a line through every second', async () => {
    const spec = buildRollingMaeChartSpec({ nowMs: NOW, windowSize: 1000, alertMae: undefined });
    const view = await draw(spec, [p(3, 1, 30), p(2, 1, 35), p(1, 1, 20)], NOW);
    expect(marksOf(sceneOf(view), 'rule').flat()).toHaveLength(0);
    const [line] = marksOf(sceneOf(view), 'line');
    expect(line!.map((i) => i.datum?.rollingMae)).toEqual([30, 35, 20]);
    view.finalize();
  });
});
