// Typed errors of the model core: why a model file was refused, and why one features vector was.

/** Why a model file could not be loaded; each code has its own fix, named in the message. */
export type ModelLoadErrorCode =
  /** The file has no bytes. */
  | 'empty'
  /** Not a pickle at all (text, zip, numpy .npy, ...). */
  | 'not-a-pickle'
  /** A protocol 0 or 1 pickle, which predstream does not read. */
  | 'old-protocol'
  /** Compressed (joblib `compress=`, gzip, ...). */
  | 'compressed'
  /** Written by `joblib.dump`, whose arrays live outside the pickle stream. */
  | 'joblib'
  /** Truncated or damaged pickle data. */
  | 'corrupt'
  /** The pickle names a Python global outside predstream's allowlist (code, or an unsupported class). */
  | 'forbidden-global'
  /** A readable object that is not a model predstream can run. */
  | 'unsupported-model'
  /** A model with more than one target. */
  | 'multi-output'
  /** A supported class whose fitted state is missing or inconsistent. */
  | 'invalid-model'
  /** An ONNX model, but the optional package onnxruntime-node that runs them is not installed. */
  | 'onnx-runtime-missing';

/** The fix for most refusals: a plain pickle, which is what predstream reads. */
export const RESAVE_HINT =
  "re-save the model with pickle.dump(model, f) in a file opened with open(path, 'wb')";

/** A model file predstream refuses to load; the service cannot start with it. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';

  constructor(
    readonly code: ModelLoadErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One features vector the model cannot score (wrong length, not finite); other vectors are unaffected. */
export class FeatureVectorError extends Error {
  override readonly name = 'FeatureVectorError';
}
