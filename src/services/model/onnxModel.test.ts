// ONNX models built from fitted scikit-learn models (scripts/make_onnx_fixtures.py) against scikit-learn's predictions.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFileFormat } from './fileFormat.js';
import { FeatureVectorError, ModelLoadError, loadModel } from './loadModel.js';

const ROOT = new URL('../../../', import.meta.url);
const DIR = 'test/fixtures/models/onnx/';

const expected = JSON.parse(readFileSync(new URL(`${DIR}expected.json`, ROOT), 'utf8')) as {
  models: Record<string, { features: number; input: 'float32' | 'float64'; predictions: number[] }>;
  refused: Record<string, string>;
};

const rows = readFileSync(new URL('data/diabetes.csv', ROOT), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split(',').slice(0, 10).map(Number));

const bytesOf = (name: string) => readFileSync(new URL(`${DIR}${name}.onnx`, ROOT));
const load = (name: string) => loadModel(bytesOf(name), `${name}.onnx`);
/** What the promise rejected with; undefined if it resolved. */
const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/** A float32 model rounds each feature and sums in float32: about 1e-7 relative per term. */
const TOLERANCE = { float64: 1e-12, float32: 1e-5 };

describe('loadModel on ONNX models', () => {
  it('knows an ONNX file by its protobuf fields, and a pickle or another protobuf is not one', () => {
    expect(detectFileFormat(bytesOf('ridge_matmul_float64'))).toEqual({ kind: 'onnx' });
    expect(detectFileFormat(readFileSync(new URL('models/myfile.pkl', ROOT))).kind).toBe('pickle');
    // A CoreML .mlmodel: field 1 (specificationVersion 4), field 2 (a description), no field 7.
    const coreml = Uint8Array.from([0x08, 0x04, 0x12, 0x03, 0x0a, 0x01, 0x78]);
    expect(detectFileFormat(coreml)).toEqual({ kind: 'other', format: undefined });
    // ir_version 2 is older than any ONNX predstream reads; a varint that never ends is not protobuf.
    expect(detectFileFormat(Uint8Array.from([0x08, 0x02, 0x3a, 0x00])).kind).toBe('other');
    expect(detectFileFormat(Uint8Array.from([0x08, 0x08, 0x28, 0xff, 0xff])).kind).toBe('other');
  });

  it.each(Object.entries(expected.models))(
    '%s predicts what scikit-learn predicts on all 442 rows',
    async (name, e) => {
      const model = await load(name);
      expect(model.kind).toBe('ONNX');
      expect(model.nFeatures).toBe(e.features);
      expect(model.describe()).toContain(`${e.input} input`);
      expect(rows).toHaveLength(e.predictions.length);
      let worst = 0;
      for (const [i, row] of rows.entries()) {
        const wanted = e.predictions[i] as number;
        worst = Math.max(worst, Math.abs((await model.predict(row)) - wanted) / Math.abs(wanted));
      }
      expect(worst).toBeLessThan(TOLERANCE[e.input]);
    },
  );

  it('refuses a features vector of the wrong length or with a non-finite value, naming it', async () => {
    const model = await load('ridge_matmul_float64');
    await expect(model.predict(rows[0]!.slice(0, 9))).rejects.toThrow(
      new FeatureVectorError('features vector has 9 values, the model expects 10'),
    );
    await expect(model.predict([...rows[0]!.slice(0, 9), Number.NaN])).rejects.toThrow(FeatureVectorError);
  });

  it('answers concurrent predictions each with its own row', async () => {
    const model = await load('linear_regressor_float32');
    const wanted = expected.models.linear_regressor_float32!.predictions;
    const got = await Promise.all(rows.slice(0, 50).map((row) => model.predict(row)));
    got.forEach((y, i) => expect(Math.abs(y - wanted[i]!) / Math.abs(wanted[i]!)).toBeLessThan(1e-5));
  });

  it.each(Object.entries(expected.refused))(
    'refuses %s (%s) at load time, saying why',
    async (name, code) => {
      const err = await rejection(load(name));
      expect(err).toBeInstanceOf(ModelLoadError);
      expect((err as ModelLoadError).code).toBe(code);
      expect((err as Error).message).toContain(`${name}.onnx`);
      expect((err as Error).message).toMatch(/batch, n_features/);
    },
  );

  it('refuses a classifier, naming its label output', async () => {
    const err = await rejection(load('classifier_label'));
    expect((err as Error).message).toMatch(/first output 'label' is an int64 tensor.*classifier's label/);
  });

  it('refuses an ONNX file cut inside its graph with the runtime’s reason', async () => {
    const bytes = bytesOf('ridge_matmul_float64');
    expect(detectFileFormat(bytes.subarray(0, bytes.length - 30))).toEqual({ kind: 'onnx' });
    const err = await rejection(loadModel(bytes.subarray(0, bytes.length - 30), 'cut.onnx'));
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as ModelLoadError).code).toBe('corrupt');
    expect((err as Error).message).toMatch(/cut\.onnx.*not a readable ONNX model \(onnxruntime: /);
  });
});
