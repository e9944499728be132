// A fitted linear regressor: prediction = features · coef_ + intercept_, as scikit-learn computes it.
import { ModelLoadError } from './errors.js';
import { NdArray } from './numpyArray.js';
import { asInteger, describeValue } from './pyValues.js';
import { assertFeatureVector, type ScoringModel } from './regressionModel.js';
import { SklearnObject } from './sklearnObject.js';

export interface LinearModelInfo {
  sklearnVersion?: string | undefined;
  featureNames?: readonly string[] | undefined;
}

export class LinearModel implements ScoringModel {
  readonly nFeatures: number;
  readonly #coef: Float64Array;
  readonly #intercept: number;

  constructor(
    readonly kind: string,
    coef: Float64Array,
    intercept: number,
    private readonly info: LinearModelInfo = {},
  ) {
    this.#coef = Float64Array.from(coef);
    this.#intercept = intercept;
    this.nFeatures = coef.length;
  }

  get coefficients(): Float64Array {
    return this.#coef.slice();
  }

  get intercept(): number {
    return this.#intercept;
  }

  get featureNames(): readonly string[] | undefined {
    return this.info.featureNames;
  }

  predict(features: readonly number[]): number {
    assertFeatureVector(features, this.nFeatures);
    return this.score(features);
  }

  score(features: ArrayLike<number>): number {
    // numpy's dot for one row: the sum of products in feature order, then the intercept added once.
    const coef = this.#coef;
    let sum = 0;
    for (let i = 0; i < coef.length; i++) sum += (features[i] as number) * (coef[i] as number);
    return sum + this.#intercept;
  }

  describe(): string {
    const names = this.info.featureNames;
    const features = names ? ` (${abbreviate(names)})` : '';
    const version = this.info.sklearnVersion ? `, pickled by scikit-learn ${this.info.sklearnVersion}` : '';
    return `${this.kind} with ${this.nFeatures} features${features}, intercept ${this.#intercept}${version}`;
  }
}

function abbreviate(names: readonly string[]): string {
  return names.length <= 12 ? names.join(', ') : `${names.slice(0, 12).join(', ')}, ...`;
}

function invalid(obj: SklearnObject, detail: string): ModelLoadError {
  return new ModelLoadError('invalid-model', `${obj.className}: ${detail}`);
}

function multiOutput(obj: SklearnObject, targets: number, shape: string): ModelLoadError {
  return new ModelLoadError(
    'multi-output',
    `${obj.className} predicts ${targets} targets (${shape}); predstream sends one prediction per message: ` +
      'fit one model per target, or fit on a 1-D y',
  );
}

/** Reads coef_/intercept_ of a scikit-learn linear regressor whose predict is `X @ coef_ + intercept_`. */
export function linearModelFromSklearn(obj: SklearnObject, kind: string = obj.className): LinearModel {
  if (!obj.has('coef_')) {
    throw invalid(obj, 'the model is not fitted (it has no coef_): fit it before pickling');
  }
  const coef = readCoefficients(obj);
  const intercept = readIntercept(obj);
  const nFeaturesIn = obj.get('n_features_in_');
  if (nFeaturesIn !== undefined && asInteger(nFeaturesIn) !== coef.length) {
    throw invalid(obj, `n_features_in_ is ${describeValue(nFeaturesIn)} but coef_ has ${coef.length} values`);
  }
  if (!coef.every(Number.isFinite) || !Number.isFinite(intercept)) {
    throw invalid(obj, 'coef_ or intercept_ holds NaN or infinity: refit the model on finite data');
  }
  return new LinearModel(kind, coef, intercept, {
    sklearnVersion: obj.sklearnVersion,
    featureNames: readFeatureNames(obj, coef.length),
  });
}

function readCoefficients(obj: SklearnObject): Float64Array {
  const coef = obj.get('coef_');
  if (!NdArray.isArray(coef) || !coef.dtype.isNumeric) {
    throw invalid(obj, `coef_ is ${describeValue(coef)}, not a numeric numpy array`);
  }
  const shape = coef.shape;
  if (shape.length === 2 && (shape[0] as number) > 1) {
    throw multiOutput(obj, shape[0] as number, `coef_ has shape (${shape.join(', ')})`);
  }
  if (shape.length !== 1 && shape.length !== 2) {
    throw invalid(obj, `coef_ has shape (${shape.join(', ')}), expected one row of coefficients`);
  }
  return coef.numbers();
}

function readIntercept(obj: SklearnObject): number {
  const intercept = obj.get('intercept_');
  if (typeof intercept === 'number') return intercept;
  if (typeof intercept === 'bigint') return Number(intercept);
  if (NdArray.isArray(intercept) && intercept.dtype.isNumeric) {
    if (intercept.size === 1) return intercept.numbers()[0] as number;
    if (intercept.size > 1) throw multiOutput(obj, intercept.size, `intercept_ has ${intercept.size} values`);
  }
  if (intercept === undefined && obj.get('fit_intercept') === false) return 0;
  throw invalid(obj, `intercept_ is ${describeValue(intercept)}, not a number`);
}

function readFeatureNames(obj: SklearnObject, n: number): readonly string[] | undefined {
  const names = obj.get('feature_names_in_');
  if (!NdArray.isArray(names)) return undefined;
  const items = names.items();
  return items.length === n && items.every((s) => typeof s === 'string') ? (items as string[]) : undefined;
}
