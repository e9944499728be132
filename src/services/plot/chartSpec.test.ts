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
    const spec = buildErrorChartSpec(summary) as unknown as { layer: Layer[]; title: { text: string } };
    expect(spec.title.text).toBe('Distribution of absolute errors');
    const bars = spec.layer.filter((l) => l.mark.type === 'bar');
    expect(bars).toHaveLength(1);
    expect(bars[0]!.data!.values).toEqual(summary.bins);
    const ruleValues = spec.layer.filter((l) => l.mark.type === 'rule').map((l) => l.data!.values[0]!.value);
    expect(ruleValues.sort()).toEqual([summary.mean, summary.median].sort());
    const labels = spec.layer.filter((l) => l.mark.type === 'text').map((l) => l.data!.values[0]!.label);
    expect(labels).toContain(`mean ${formatStat(summary.mean)}`);
    expect(labels).toContain(`median ${formatStat(summary.median)}`);
    expect(JSON.stringify(spec)).toContain('"title":"absolute_error"');
    expect(JSON.stringify(spec)).toContain('"title":"Count"');
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
