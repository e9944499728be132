// `predstream up --model <an ONNX random forest>`: the model service predicts with onnxruntime end to end.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diabetes, publishedRows, readMetricCsv, relClose } from '../support/expected.js';
import { runUpToEnd } from '../support/processes.js';
import { brokerTestScope } from '../support/scope.js';

const ROWS = 200;
const MODEL = 'test/fixtures/models/onnx/random_forest_float32.onnx';

describe('predstream up with an ONNX model', () => {
  const { prefix, logs } = brokerTestScope('onnx');

  it(`writes ${ROWS} rows whose y_pred is scikit-learn's forest prediction for the row`, async () => {
    const journal = path.join(logs, 'published.log');
    const { code, output } = await runUpToEnd({
      prefix,
      logs,
      rows: ROWS,
      journal,
      extra: ['--model', MODEL],
    });
    expect(code, output).toBe(0);
    expect(output).toContain("ONNX model, 10 features (float32 input 'X', output 'variable')");

    const wanted = (
      JSON.parse(readFileSync('test/fixtures/models/onnx/expected.json', 'utf8')) as {
        models: Record<string, { predictions: number[] }>;
      }
    ).models.random_forest_float32!.predictions;
    const data = diabetes();
    const rowOf = publishedRows(journal);
    const rows = readMetricCsv(path.join(logs, 'metric_log.csv'));
    expect(rows).toHaveLength(ROWS);
    for (const r of rows) {
      const index = rowOf.get(r.id);
      expect(index, `id ${r.id} was never published`).toBeDefined();
      expect(Number(r.y_true)).toBe(data.y[index!]);
      expect(relClose(Number(r.y_pred), wanted[index!]!, 1e-5), `row ${index}: ${r.y_pred}`).toBe(true);
    }
  });
});
