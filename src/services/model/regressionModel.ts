// The contract every loaded model meets: a fixed number of features in, one float64 prediction out.
import { FeatureVectorError } from './errors.js';

export interface RegressionModel {
  /** What the model is, e.g. 'LinearRegression' or 'Pipeline(StandardScaler, Ridge)'. */
  readonly kind: string;
  /** How many features each vector must have. */
  readonly nFeatures: number;
  /**
   * One prediction; throws (or, for a model that runs asynchronously, rejects with) FeatureVectorError for
   * a vector of the wrong length or with non-finite values. The result is not checked: features far
   * outside the training range can overflow to ±Infinity. Scikit-learn models answer at once; ONNX
   * models (onnxModel.ts) answer with a promise.
   */
  predict(features: readonly number[]): number | Promise<number>;
  /** A one-line human description (class, feature count, intercept, scikit-learn version). */
  describe(): string;
}

/** A model that answers at once (every scikit-learn model predstream reads). */
export interface SyncRegressionModel extends RegressionModel {
  predict(features: readonly number[]): number;
}

/** A model that pipelines can compose: `score` skips the checks `predict` makes, for an already-checked vector. */
export interface ScoringModel extends SyncRegressionModel {
  score(features: ArrayLike<number>): number;
}

/** Throws FeatureVectorError unless `features` is `nFeatures` finite numbers. */
export function assertFeatureVector(features: readonly number[], nFeatures: number): void {
  if (!Array.isArray(features)) throw new FeatureVectorError('features must be an array of numbers');
  if (features.length !== nFeatures) {
    throw new FeatureVectorError(
      `features vector has ${features.length} values, the model expects ${nFeatures}`,
    );
  }
  for (let i = 0; i < features.length; i++) {
    const value = features[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new FeatureVectorError(`features[${i}] is ${String(value)}, not a finite number`);
    }
  }
}
