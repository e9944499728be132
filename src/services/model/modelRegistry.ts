// Which scikit-learn classes predstream runs, and how an unpickled estimator becomes a RegressionModel.
import { ModelLoadError } from './errors.js';
import { LinearModel, linearModelFromSklearn } from './linearModel.js';
import { NdArray } from './numpyArray.js';
import { PipelineModel } from './pipelineModel.js';
import { asList, describeValue } from './pyValues.js';
import type { ScoringModel, SyncRegressionModel } from './regressionModel.js';
import { SklearnObject } from './sklearnObject.js';
import { StandardScalerStep, standardScalerFromSklearn } from './standardScaler.js';

/** Linear regressors whose predict is `X @ coef_ + intercept_`, with the package each lives in. */
const LINEAR_REGRESSORS: ReadonlyMap<string, string> = new Map([
  ['LinearRegression', 'sklearn.linear_model'],
  ['Ridge', 'sklearn.linear_model'],
  ['RidgeCV', 'sklearn.linear_model'],
  ['Lasso', 'sklearn.linear_model'],
  ['LassoCV', 'sklearn.linear_model'],
  ['ElasticNet', 'sklearn.linear_model'],
  ['ElasticNetCV', 'sklearn.linear_model'],
  ['Lars', 'sklearn.linear_model'],
  ['LarsCV', 'sklearn.linear_model'],
  ['LassoLars', 'sklearn.linear_model'],
  ['LassoLarsCV', 'sklearn.linear_model'],
  ['LassoLarsIC', 'sklearn.linear_model'],
  ['OrthogonalMatchingPursuit', 'sklearn.linear_model'],
  ['OrthogonalMatchingPursuitCV', 'sklearn.linear_model'],
  ['BayesianRidge', 'sklearn.linear_model'],
  ['ARDRegression', 'sklearn.linear_model'],
  ['HuberRegressor', 'sklearn.linear_model'],
  ['QuantileRegressor', 'sklearn.linear_model'],
  ['TheilSenRegressor', 'sklearn.linear_model'],
  ['SGDRegressor', 'sklearn.linear_model'],
  ['PassiveAggressiveRegressor', 'sklearn.linear_model'],
  ['LinearSVR', 'sklearn.svm'],
]);

/** Classes that wrap or feed a linear regressor. */
const COMPOSITES: ReadonlyMap<string, string> = new Map([
  ['RANSACRegressor', 'sklearn.linear_model'],
  ['Pipeline', 'sklearn.pipeline'],
  ['StandardScaler', 'sklearn.preprocessing'],
]);

/** Every scikit-learn class name a model pickle may refer to. */
export const SUPPORTED_SKLEARN_CLASSES: readonly string[] = [
  ...LINEAR_REGRESSORS.keys(),
  ...COMPOSITES.keys(),
];

/** The fix named whenever a file holds something predstream does not run. */
export const SUPPORTED_MODELS_HINT =
  'only scikit-learn linear regression models (LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor, ...), ' +
  'RANSACRegressor around one, and a Pipeline of StandardScaler steps ending in one are supported as pickles; ' +
  'for any other regressor (trees, forests, boosting), export it to ONNX with skl2onnx and pass the .onnx file';

/**
 * Whether `module.name` is a supported scikit-learn class. The module may be any private submodule of the
 * class's package, since scikit-learn moves them between versions (`linear_model.base`, `linear_model._base`).
 */
export function isSupportedSklearnClass(module: string, name: string): boolean {
  const pkg = LINEAR_REGRESSORS.get(name) ?? COMPOSITES.get(name);
  if (pkg === undefined) return false;
  return module === pkg || (module.startsWith(`${pkg}.`) && /^[A-Za-z0-9_.]+$/.test(module));
}

function unsupported(detail: string): ModelLoadError {
  return new ModelLoadError('unsupported-model', `${detail}: ${SUPPORTED_MODELS_HINT}`);
}

function describeUnpickled(value: unknown): string {
  if (SklearnObject.isSklearnObject(value)) return `a ${value.className}`;
  if (NdArray.isArray(value)) return `a numpy array of shape (${value.shape.join(', ')})`;
  return describeValue(value);
}

/** Turns the top-level unpickled value into a model, or says why it is not one predstream runs. */
export function regressionModelFromUnpickled(value: unknown): SyncRegressionModel {
  if (!SklearnObject.isSklearnObject(value)) {
    throw unsupported(`the pickle holds ${describeUnpickled(value)} rather than a scikit-learn model`);
  }
  return regressorFrom(value);
}

function regressorFrom(obj: SklearnObject): ScoringModel {
  if (LINEAR_REGRESSORS.has(obj.className)) return linearModelFromSklearn(obj);
  switch (obj.className) {
    case 'RANSACRegressor':
      return ransacFrom(obj);
    case 'Pipeline':
      return pipelineFrom(obj);
    case 'StandardScaler':
      throw unsupported('the pickle holds a StandardScaler, which transforms features but does not predict');
    default:
      throw unsupported(`the pickle holds a ${obj.className}`);
  }
}

function ransacFrom(obj: SklearnObject): LinearModel {
  const inner = obj.get('estimator_');
  if (inner === undefined) {
    throw new ModelLoadError(
      'invalid-model',
      'RANSACRegressor: the model is not fitted (it has no estimator_): fit it before pickling',
    );
  }
  if (!SklearnObject.isSklearnObject(inner) || !LINEAR_REGRESSORS.has(inner.className)) {
    throw unsupported(`the RANSACRegressor wraps ${describeUnpickled(inner)}`);
  }
  return linearModelFromSklearn(inner, `RANSACRegressor(${inner.className})`);
}

function pipelineSteps(obj: SklearnObject): unknown[] {
  const steps = asList(obj.get('steps'));
  if (steps === null || steps.length === 0) {
    throw new ModelLoadError('invalid-model', 'Pipeline: steps is missing or empty');
  }
  return steps.map((step, i) => {
    const pair = asList(step);
    if (pair === null || pair.length < 2) {
      throw new ModelLoadError(
        'invalid-model',
        `Pipeline: step ${i} is ${describeValue(step)}, not (name, estimator)`,
      );
    }
    return pair[1];
  });
}

/** Steps that leave features as they are: 'passthrough', or None in older scikit-learn. */
function isPassthrough(step: unknown): boolean {
  return step === null || step === 'passthrough';
}

function transformsFrom(step: unknown): StandardScalerStep[] {
  if (isPassthrough(step)) return [];
  if (SklearnObject.isSklearnObject(step)) {
    if (step.className === 'StandardScaler') return [standardScalerFromSklearn(step)];
    if (step.className === 'Pipeline') return pipelineSteps(step).flatMap(transformsFrom);
  }
  throw unsupported(
    `a Pipeline step is ${describeUnpickled(step)}, where only StandardScaler may come before the model`,
  );
}

function pipelineFrom(obj: SklearnObject): PipelineModel {
  const steps = pipelineSteps(obj);
  const last = steps[steps.length - 1];
  if (!SklearnObject.isSklearnObject(last) || last.className === 'StandardScaler') {
    throw unsupported(`the Pipeline ends in ${describeUnpickled(last)} rather than a regressor`);
  }
  const transforms = steps.slice(0, -1).flatMap(transformsFrom);
  const final = regressorFrom(last);
  let width = transforms[0]?.nFeatures;
  for (const step of [...transforms.slice(1), final]) {
    if (width !== undefined && step.nFeatures !== width) {
      throw new ModelLoadError(
        'invalid-model',
        `Pipeline: a step producing ${width} features feeds a ${step.kind} expecting ${step.nFeatures}`,
      );
    }
    width = step.nFeatures;
  }
  return new PipelineModel(transforms, final);
}
