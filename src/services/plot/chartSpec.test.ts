import { describe, expect, it } from 'vitest';
import { parse as parseVega } from 'vega';
import { compile } from 'vega-lite';
import { buildErrorChartSpec, chartSubtitle, formatStat } from './chartSpec.js';
import { ErrorHistogram } from './errorHistogram.js';
import { seededRandom } from '../../../test/support/seededRandom.js';

function summaryOf(values: number[]) {
  const h = new ErrorHistogram();
  for (const v of values) h.add(v);
  return h.summary()!;
}

type Layer = { mark: { type: string }; data?: { values: Record<string, unknown>[] } };

describe('buildErrorChartSpec', () => {
  const rand = seededRandom(11);
  const values = Array.from({ length: 1234 }, () => -Math.log(1 - rand()) * 40);
  const summary = summaryOf(values);

  it('compiles with vega-lite and parses with vega', () => {
    const vega = compile(buildErrorChartSpec(summary)).spec;
    expect(() => parseVega(vega)).not.toThrow();
    expect(vega.width).toBe(640);
    expect(vega.height).toBe(480);
  });

  it('carries its data inline: one bar per display bin, rules at the mean and the median', () => {
    type Spec = {
      layer: Layer[];
      title: { text: string };
      datasets: Record<string, Record<string, unknown>[]>;
      params: { name: string; value: unknown }[];
    };
    const spec = buildErrorChartSpec(summary) as unknown as Spec;
    expect(spec.title.text).toBe('Distribution of absolute errors');
    const bars = spec.layer.filter((l) => l.mark.type === 'bar');
    expect(bars).toHaveLength(1);
    expect(spec.datasets.bins).toEqual(summary.bins);
    expect(spec.datasets.mean).toEqual([{ value: summary.mean, label: `mean ${formatStat(summary.mean)}` }]);
    expect(spec.datasets.median).toEqual([
      { value: summary.median, label: `median ${formatStat(summary.median)}` },
    ]);
    expect(spec.layer.filter((l) => l.mark.type === 'rule')).toHaveLength(2);
    const param = (name: string) => spec.params.find((p) => p.name === name)?.value;
    expect(param('subtitle')).toBe(chartSubtitle(summary));
    expect(param('xMax')).toBe(summary.bins[summary.bins.length - 1]!.end);
    expect(JSON.stringify(spec)).toContain('"title":"absolute_error"');
    expect(JSON.stringify(spec)).toContain('"title":"Count"');
  });

  it('differs between two histograms only in its datasets and parameter values', () => {
    const other = summaryOf([1, 2, 3, 250]);
    const shape = (s: unknown) => {
      const { datasets, params, ...rest } = s as { datasets: object; params: { name: string }[] };
      return { ...rest, datasets: Object.keys(datasets), params: params.map((p) => p.name) };
    };
    expect(shape(buildErrorChartSpec(other))).toEqual(shape(buildErrorChartSpec(summary)));
  });

  it("puts the labels apart: the lower value's label left of its rule, the higher's right, flipped near an edge", () => {
    const place = (values: number[]) => {
      const spec = buildErrorChartSpec(summaryOf(values)) as unknown as {
        params: { name: string; value: unknown }[];
      };
      const v = (n: string) => spec.params.find((p) => p.name === n)!.value;
      return { mean: [v('meanAlign'), v('meanY')], median: [v('medianAlign'), v('medianY')] };
    };
    // Skewed right, both mid-chart: the median's label left of its rule, the mean's right of its own, one row.
    expect(place([...Array.from({ length: 100 }, (_, i) => 50 + i), 300, 300, 300])).toEqual({
      mean: ['left', 4],
      median: ['right', 4],
    });
    // Both near the left edge: no room on the left, so the lower label flips right and the other drops a row.
    expect(place([0, 0, 0, 0, 0, 0, 0, 0, 1, 100])).toEqual({ mean: ['left', 22], median: ['left', 4] });
  });

  it('has a "waiting for rows" chart when there are no rows, which compiles too', () => {
    for (const state of [undefined, { count: 0, mean: 0, median: 0, bins: [] }]) {
      const spec = buildErrorChartSpec(state);
      expect(JSON.stringify(spec)).toContain('Waiting for rows');
      expect(() => parseVega(compile(spec).spec)).not.toThrow();
    }
  });

  it('compiles for edge cases: one row, all zeros, mean near the right edge', () => {
    for (const data of [[5], [0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 100]]) {
      expect(() => parseVega(compile(buildErrorChartSpec(summaryOf(data))).spec)).not.toThrow();
    }
  });
});

describe('chartSubtitle and formatStat', () => {
  it('reads like "n = 1,234 · mean 43.2 · median 38.1"', () => {
    expect(chartSubtitle({ count: 1234, mean: 43.21, median: 38.14, bins: [] })).toBe(
      'n = 1,234 · mean 43.2 · median 38.1',
    );
  });

  it.each([
    [0, '0'],
    [43.21, '43.2'],
    [0.012345, '0.0123'],
    [999.94, '1000'],
    [12345.6, '12,346'],
    [0.00001234, '1.23e-5'],
    [0.000770123, '0.00077'],
  ])('formats %s as %s', (x, text) => {
    expect(formatStat(x)).toBe(text);
  });
});
