import { existsSync, readFileSync, rmSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FeatureVectorError, ModelLoadError, loadModelFromBytes } from './loadModel.js';

const ROOT = new URL('../../../', import.meta.url);
const PWNED = '/tmp/predstream-pwned';

interface ExpectedModel {
  path: string;
  class: string;
  n_features: number;
  predictions: number[];
  feature_names?: string[];
}
interface ExpectedRefusal {
  path: string;
  reason: string;
  global?: string;
  targets?: number;
}
const expected = JSON.parse(readFileSync(new URL('test/fixtures/models/expected.json', ROOT), 'utf8')) as {
  models: Record<string, ExpectedModel>;
  refused: Record<string, ExpectedRefusal>;
};

function readRows(): number[][] {
  const lines = readFileSync(new URL('data/diabetes.csv', ROOT), 'utf8').trim().split('\n');
  expect(lines[0]).toBe('age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,target');
  return lines.slice(1).map((line) => line.split(',').slice(0, 10).map(Number));
}
const rows = readRows();

function load(path: string) {
  return loadModelFromBytes(readFileSync(new URL(path, ROOT)), path);
}

function loadError(path: string): ModelLoadError {
  try {
    load(path);
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return err as ModelLoadError;
  }
  throw new Error(`${path} loaded, but it should have been refused`);
}

function relativeError(actual: number, wanted: number): number {
  return wanted === 0 ? Math.abs(actual) : Math.abs(actual - wanted) / Math.abs(wanted);
}

describe('loadModelFromBytes on models scikit-learn pickled', () => {
  it('has the original myfile.pkl and the 442-row data set', () => {
    expect(rows).toHaveLength(442);
    expect(expected.models['myfile.pkl']?.path).toBe('models/myfile.pkl');
  });

  it.each(Object.entries(expected.models))(
    '%s predicts what scikit-learn predicts on all rows',
    (_name, e) => {
      const model = load(e.path);
      expect(model.nFeatures).toBe(e.n_features);
      expect(e.predictions).toHaveLength(rows.length);
      let worst = 0;
      rows.forEach((row, i) => {
        worst = Math.max(worst, relativeError(model.predict(row), e.predictions[i] as number));
      });
      expect(worst).toBeLessThan(1e-9);
    },
  );

  it('names the class (and the wrapped class) in kind', () => {
    expect(load('models/myfile.pkl').kind).toBe('LinearRegression');
    expect(load('test/fixtures/models/ridge_cv.pkl').kind).toBe('RidgeCV');
    expect(load('test/fixtures/models/ransac.pkl').kind).toBe('RANSACRegressor(LinearRegression)');
    expect(load('test/fixtures/models/pipeline_scaler_ridge_p4.pkl').kind).toBe(
      'Pipeline(StandardScaler, Ridge)',
    );
  });

  it('describes the model with its feature names and scikit-learn version', () => {
    const named = expected.models['linear_regression_feature_names.pkl'] as ExpectedModel;
    const text = load(named.path).describe();
    expect(text).toContain((named.feature_names as string[]).join(', '));
    expect(text).toContain('scikit-learn 1.2.1');
    expect(load('test/fixtures/models/pipeline_scaler_without_std.pkl').describe()).toContain(
      'StandardScaler (centres 10 features)',
    );
  });

  it('refuses a features vector of the wrong length or with non-finite values', () => {
    const model = load('models/myfile.pkl');
    expect(() => model.predict(rows[0]!.slice(0, 9))).toThrow(
      new FeatureVectorError('features vector has 9 values, the model expects 10'),
    );
    expect(() => model.predict([...rows[0]!, 1])).toThrow(
      'features vector has 11 values, the model expects 10',
    );
    expect(() => model.predict([...rows[0]!.slice(0, 9), NaN])).toThrow(
      'features[9] is NaN, not a finite number',
    );
    const pipeline = load('test/fixtures/models/pipeline_scaler_ridge_p4.pkl');
    expect(() => pipeline.predict([1, 2])).toThrow(FeatureVectorError);
  });

  it('computes the plain sum of products plus intercept', () => {
    // With one-hot vectors the prediction is intercept + that coefficient; summing them must give back
    // the all-ones prediction (up to rounding), independent of the fixture values.
    const model = load('models/myfile.pkl');
    const zero = model.predict(new Array(10).fill(0));
    const parts = Array.from(
      { length: 10 },
      (_, i) => model.predict(Array.from({ length: 10 }, (_, j) => (j === i ? 1 : 0))) - zero,
    );
    const ones = model.predict(new Array(10).fill(1));
    expect(relativeError(ones, zero + parts.reduce((a, b) => a + b, 0))).toBeLessThan(1e-12);
    expect(zero).toBe(152.13348416289597);
  });
});

describe('loadModelFromBytes refusals', () => {
  beforeAll(() => {
    // The sentinel a malicious fixture would create if it ever ran; clear it so its absence means something.
    rmSync(PWNED, { force: true });
  });

  it.each(Object.entries(expected.refused))('refuses %s', (name, e) => {
    const err = loadError(e.path);
    expect(err.code).toBe(e.reason);
    expect(err.message).toContain(`cannot load model '${e.path}'`);
    if (e.global) {
      expect(err.message).toContain(`refers to '${e.global}', which predstream will not load`);
      expect(err.message).toContain('only scikit-learn linear regression models');
    }
    if (e.targets) expect(err.message).toContain(`predicts ${e.targets} targets`);
    expect(existsSync(PWNED), `${name} created ${PWNED}`).toBe(false);
  });

  it('points a tree model to ONNX, which predstream runs', () => {
    const err = loadError('test/fixtures/models/decision_tree.pkl');
    expect(err.message).toContain("'sklearn.tree._classes.DecisionTreeRegressor'");
    expect(err.message).toContain('export it to ONNX with skl2onnx and pass the .onnx file');
  });

  it('never runs the malicious payloads', () => {
    for (const name of ['malicious_os_system.pkl', 'malicious_eval_p2.pkl', 'malicious_inside_model.pkl']) {
      expect(loadError(`test/fixtures/models/${name}`).code).toBe('forbidden-global');
    }
    expect(existsSync(PWNED)).toBe(false);
  });

  it('tells a joblib user how to re-save the model', () => {
    for (const name of ['joblib_dump.pkl', 'joblib_compressed.pkl']) {
      const err = loadError(`test/fixtures/models/${name}`);
      expect(err.message).toContain('joblib');
      expect(err.message).toContain('re-save the model with pickle.dump(model, f)');
    }
  });

  it('says what is missing from an unfitted model, and what a lone scaler is', () => {
    expect(loadError('test/fixtures/models/unfitted.pkl').message).toContain(
      'LinearRegression: the model is not fitted (it has no coef_)',
    );
    expect(loadError('test/fixtures/models/scaler_only.pkl').message).toContain('does not predict');
    expect(loadError('test/fixtures/models/multi_output.pkl').message).toContain('coef_ has shape (2, 10)');
  });

  it('reports truncation and damage as corrupt', () => {
    expect(loadError('test/fixtures/models/truncated.pkl').message).toMatch(/damaged or truncated/);
    expect(loadError('test/fixtures/models/empty.pkl').message).toContain('the file is empty');
    const bytes = readFileSync(new URL('models/myfile.pkl', ROOT));
    for (const cut of [1, 2, 11, 100, bytes.length - 1]) {
      expect(() => loadModelFromBytes(bytes.subarray(0, cut), 'cut.pkl')).toThrow(ModelLoadError);
    }
  });
});
