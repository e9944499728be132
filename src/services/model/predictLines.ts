// `predstream predict`: one JSON array of features per input line in, one prediction (or error) per line out.
import type { RegressionModel } from './regressionModel.js';

export type PredictLineResult =
  | { readonly line: number; readonly ok: true; readonly prediction: number; readonly text: string }
  | { readonly line: number; readonly ok: false; readonly error: string };

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/**
 * Scores one input line (1-based `lineNumber`, for messages). Blank lines give undefined. The prediction's
 * text is String(x): the shortest form that reads back as the same float64.
 */
export async function predictLine(
  model: RegressionModel,
  text: string,
  lineNumber: number,
): Promise<PredictLineResult | undefined> {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const fail = (reason: string): PredictLineResult => ({
    line: lineNumber,
    ok: false,
    error: `line ${lineNumber}: ${reason}`,
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    const hint = /\b(NaN|-?Infinity)\b/.test(trimmed) ? ' (NaN and Infinity are not JSON)' : '';
    return fail(
      `not valid JSON${hint}: expected an array of ${model.nFeatures} numbers like [0.03, -0.04, ...]`,
    );
  }
  if (!Array.isArray(parsed)) {
    return fail(`expected a JSON array of ${model.nFeatures} numbers, got ${describeJson(parsed)}`);
  }
  const bad = parsed.findIndex((v) => typeof v !== 'number');
  if (bad !== -1) return fail(`features[${bad}] is ${describeJson(parsed[bad])}, not a number`);
  try {
    const prediction = await model.predict(parsed as number[]);
    if (!Number.isFinite(prediction)) {
      return fail(
        `the prediction is ${prediction}: these features are too large for the model's coefficients`,
      );
    }
    return { line: lineNumber, ok: true, prediction, text: String(prediction) };
  } catch (err) {
    return fail(err instanceof Error ? err.message : 'prediction failed');
  }
}

/** Scores every line; blank lines are skipped but still counted, so messages give the file's line numbers. */
export async function* predictLines(
  model: RegressionModel,
  lines: Iterable<string>,
): AsyncGenerator<PredictLineResult> {
  let lineNumber = 0;
  for (const text of lines) {
    lineNumber += 1;
    const result = await predictLine(model, text, lineNumber);
    if (result !== undefined) yield result;
  }
}
