// Entry point of the model core: model file bytes in, a RegressionModel out, or a ModelLoadError naming the fix.
//
// Supported (scikit-learn pickles written with pickle.dump, protocols 2 to 5, numpy 1.x or 2.x):
//   - linear regressors whose predict is X @ coef_ + intercept_: LinearRegression, Ridge, RidgeCV, Lasso,
//     LassoCV, ElasticNet, ElasticNetCV, Lars, LarsCV, LassoLars, LassoLarsCV, LassoLarsIC,
//     OrthogonalMatchingPursuit, OrthogonalMatchingPursuitCV, BayesianRidge, ARDRegression, HuberRegressor,
//     QuantileRegressor, TheilSenRegressor, SGDRegressor, PassiveAggressiveRegressor, LinearSVR;
//   - RANSACRegressor around one of them;
//   - Pipeline of StandardScaler (or 'passthrough') steps ending in one of them.
// Refused with a clear error: any other class or Python global (the file is never executed), models with more
// than one target, joblib and compressed files, protocol 0/1 pickles, empty, truncated or damaged files.
// The list of classes lives in modelRegistry.ts; the allowed numpy/builtin globals in pickleGlobals.ts.
//
// ONNX models (any regressor with one float input [batch, n_features] and one number out per row, e.g.
// from skl2onnx) are run by onnxruntime-node, an optional dependency: onnxModel.ts.
import { ModelLoadError } from './errors.js';
import { detectFileFormat } from './fileFormat.js';
import { regressionModelFromUnpickled } from './modelRegistry.js';
import { loadOnnxModel } from './onnxModel.js';
import type { RegressionModel, SyncRegressionModel } from './regressionModel.js';
import { unpickle } from './safeUnpickle.js';

export { FeatureVectorError, ModelLoadError, type ModelLoadErrorCode } from './errors.js';
export type { RegressionModel, SyncRegressionModel } from './regressionModel.js';

/** Loads a model from a file's bytes: an ONNX model, or else a scikit-learn pickle. */
export async function loadModel(bytes: Uint8Array, sourceName: string): Promise<RegressionModel> {
  if (detectFileFormat(bytes).kind === 'onnx') return loadOnnxModel(bytes, sourceName);
  return loadModelFromBytes(bytes, sourceName);
}

/** Loads a model from the bytes of a pickle file; `sourceName` (a path, usually) only appears in messages. */
export function loadModelFromBytes(bytes: Uint8Array, sourceName: string): SyncRegressionModel {
  try {
    return regressionModelFromUnpickled(unpickle(bytes));
  } catch (err) {
    const code = err instanceof ModelLoadError ? err.code : 'corrupt';
    const detail = err instanceof Error ? err.message : 'unknown error';
    throw new ModelLoadError(code, `cannot load model '${sourceName}': ${detail}`, { cause: err });
  }
}
