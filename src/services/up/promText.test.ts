import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { parsePrometheusText, sumSamples } from './promText.js';

describe('parsePrometheusText', () => {
  it('reads what prom-client writes: labels, escapes, histograms, and skips HELP/TYPE', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'model' });
    const c = new Counter({ name: 'x_total', help: 'h', labelNames: ['queue'], registers: [registry] });
    c.inc({ queue: 'y_pred' }, 3);
    c.inc({ queue: 'we"ird\\q\nx' }, 2);
    const samples = parsePrometheusText(await registry.metrics());
    expect(samples).toEqual([
      { name: 'x_total', labels: { queue: 'y_pred', service: 'model' }, value: 3 },
      { name: 'x_total', labels: { queue: 'we"ird\\q\nx', service: 'model' }, value: 2 },
    ]);
    expect(sumSamples(samples, 'x_total')).toBe(5);
    expect(sumSamples(samples, 'absent_total')).toBeUndefined();
  });

  it('accepts special values, timestamps and spaces around labels', () => {
    const samples = parsePrometheusText(
      '# HELP a help\n# TYPE a gauge\na +Inf\nb{le="0.5" , q="x"} NaN 1700000000000\nc -Inf\nd 1.5e3\ne Nan\n\n',
    );
    expect(samples.map((s) => s.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    // prom-client 15 writes NaN as "Nan" (an event-loop lag with no samples yet); Prometheus reads it.
    expect(Number.isNaN(samples[4]?.value)).toBe(true);
    expect(samples[0]?.value).toBe(Infinity);
    expect(samples[1]?.labels).toEqual({ le: '0.5', q: 'x' });
    expect(Number.isNaN(samples[1]?.value)).toBe(true);
    expect(samples[2]?.value).toBe(-Infinity);
    expect(samples[3]?.value).toBe(1500);
  });

  it.each([
    ['<html>not metrics</html>', /line 1/],
    ['a 1\nb{x="1"', /line 2.*unterminated|line 2/],
    ['a one', /not a sample value/],
    ['a 1 2 3', /optional integer timestamp/],
    ['a{1x="y"} 2', /bad label name/],
    ['a{x=y} 2', /expected ="..."/],
  ])('refuses %j, naming the line', (text, message) => {
    expect(() => parsePrometheusText(text)).toThrow(message);
  });
});
