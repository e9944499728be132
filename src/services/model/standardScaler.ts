// A fitted StandardScaler: (x - mean_) / scale_, each part only when with_mean / with_std say so.
import { ModelLoadError } from './errors.js';
import { NdArray } from './numpyArray.js';
import { asInteger, describeValue } from './pyValues.js';
import { SklearnObject } from './sklearnObject.js';

export class StandardScalerStep {
  readonly kind = 'StandardScaler';
  readonly #mean: Float64Array | null;
  readonly #scale: Float64Array | null;

  constructor(
    readonly nFeatures: number,
    mean: Float64Array | null,
    scale: Float64Array | null,
  ) {
    this.#mean = mean && Float64Array.from(mean);
    this.#scale = scale && Float64Array.from(scale);
  }

  /** scikit-learn's transform: `X -= mean_` then `X /= scale_`, in that order. */
  transform(features: ArrayLike<number>): Float64Array {
    const out = Float64Array.from(features);
    const mean = this.#mean;
    const scale = this.#scale;
    if (mean) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) - (mean[i] as number);
    if (scale) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / (scale[i] as number);
    return out;
  }

  describe(): string {
    const parts = [this.#mean ? 'centres' : '', this.#scale ? 'scales' : ''].filter(Boolean);
    return `StandardScaler (${parts.length ? parts.join(' and ') : 'passes through'} ${this.nFeatures} features)`;
  }
}

function invalid(detail: string): ModelLoadError {
  return new ModelLoadError('invalid-model', `StandardScaler: ${detail}`);
}

function flag(obj: SklearnObject, name: string): boolean {
  const value = obj.get(name);
  if (value === undefined) return true; // scikit-learn's default for with_mean and with_std
  if (typeof value !== 'boolean') throw invalid(`${name} is ${describeValue(value)}, not True or False`);
  return value;
}

function vector(obj: SklearnObject, name: string): Float64Array {
  const value = obj.get(name);
  if (value === undefined || value === null) {
    throw invalid(`the scaler is not fitted (it has no ${name}): fit it before pickling`);
  }
  if (!NdArray.isArray(value) || !value.dtype.isNumeric || value.shape.length !== 1) {
    throw invalid(`${name} is ${describeValue(value)}, not a 1-D numeric numpy array`);
  }
  const numbers = value.numbers();
  if (!numbers.every(Number.isFinite)) throw invalid(`${name} holds NaN or infinity: refit on finite data`);
  return numbers;
}

export function standardScalerFromSklearn(obj: SklearnObject): StandardScalerStep {
  const mean = flag(obj, 'with_mean') ? vector(obj, 'mean_') : null;
  const scale = flag(obj, 'with_std') ? vector(obj, 'scale_') : null;
  const declared = obj.get('n_features_in_');
  const n = mean?.length ?? scale?.length ?? asInteger(declared) ?? undefined;
  if (n === undefined)
    throw invalid('the scaler is not fitted (it has no n_features_in_): fit it before pickling');
  if (mean && scale && mean.length !== scale.length) {
    throw invalid(`mean_ has ${mean.length} values but scale_ has ${scale.length}`);
  }
  if (declared !== undefined && asInteger(declared) !== n) {
    throw invalid(`n_features_in_ is ${describeValue(declared)} but the fitted arrays have ${n} values`);
  }
  return new StandardScalerStep(n, mean, scale);
}
