import { describe, expect, it } from 'vitest';
import { LinearModel } from './linearModel.js';
import { predictLine, predictLines } from './predictLines.js';

// y = 1 + 2·x0 - 3·x1
const model = new LinearModel('LinearRegression', Float64Array.from([2, -3]), 1);

async function all<T>(results: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of results) out.push(r);
  return out;
}

describe('predictLines', () => {
  it('prints each prediction at full precision and skips blank lines, keeping line numbers', async () => {
    const results = await all(predictLines(model, ['[1, 1]', '', '  ', '[0.1, 0.2]\r', '[1e300, -1e300]']));
    expect(results).toEqual([
      { line: 1, ok: true, prediction: 0, text: '0' },
      { line: 4, ok: true, prediction: 1 + 2 * 0.1 - 3 * 0.2, text: String(1 + 2 * 0.1 - 3 * 0.2) },
      { line: 5, ok: true, prediction: 5e300, text: '5e+300' },
    ]);
    expect(Number((results[1] as { text: string }).text)).toBe(1 + 2 * 0.1 - 3 * 0.2);
  });

  it('turns each bad line into an error naming its line number, and goes on', async () => {
    const lines = [
      '[1]',
      'not json',
      '{"id": 1, "body": [1, 2]}',
      '[1, "2"]',
      '[NaN, 1]',
      '[1e308, -1e308]',
      '[2, 0]',
    ];
    const results = await all(predictLines(model, lines));
    expect(results.map((r) => (r.ok ? r.text : r.error))).toEqual([
      'line 1: features vector has 1 values, the model expects 2',
      'line 2: not valid JSON: expected an array of 2 numbers like [0.03, -0.04, ...]',
      'line 3: expected a JSON array of 2 numbers, got an object',
      'line 4: features[1] is a string, not a number',
      'line 5: not valid JSON (NaN and Infinity are not JSON): expected an array of 2 numbers like [0.03, -0.04, ...]',
      "line 6: the prediction is Infinity: these features are too large for the model's coefficients",
      '5',
    ]);
  });

  it('scores a single line for callers reading input asynchronously', async () => {
    expect(await predictLine(model, '   ', 7)).toBeUndefined();
    expect(await predictLine(model, '[0, 0]', 7)).toEqual({ line: 7, ok: true, prediction: 1, text: '1' });
  });
});
