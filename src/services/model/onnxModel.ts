// ONNX regression models, run by onnxruntime-node (an optional dependency, loaded only for an ONNX file).
import { ModelLoadError } from './errors.js';
import { assertFeatureVector, type RegressionModel } from './regressionModel.js';

// The little of onnxruntime-node's API used here, declared locally so that the build does not need the
// optional package.
type Dims = readonly (number | string)[];
type ValueMetadata =
  | { readonly name: string; readonly isTensor: false }
  | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: Dims };
interface OrtTensor {
  readonly type: string;
  readonly data: ArrayLike<unknown>;
  readonly dims: readonly number[];
}
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  run(feeds: Record<string, OrtTensor>, fetches: string[]): Promise<Record<string, OrtTensor | undefined>>;
}
interface OrtRuntime {
  InferenceSession: { create(bytes: Uint8Array, options: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array | Float64Array, dims: number[]) => OrtTensor;
}

type FloatType = 'float32' | 'float64';
const isFloat = (type: string): type is FloatType => type === 'float32' || type === 'float64';

const RUNTIME_PACKAGE = 'onnxruntime-node';
const INSTALL_HINT =
  "install it with 'npm install onnxruntime-node' (set ONNXRUNTIME_NODE_INSTALL=skip where the machine cannot reach api.nuget.org: the CPU runtime ships in the package), or save the model as a scikit-learn pickle";
const EXPORT_HINT =
  'predstream feeds one float tensor of shape [batch, n_features] and reads one float per row from the first output (skl2onnx: convert_sklearn(model, initial_types=[("X", DoubleTensorType([None, n_features]))]))';

/** 'a float16 tensor', 'an int64 tensor'. */
const aTensor = (type: string) => `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} tensor`;

const reasonOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function loadRuntime(source: string): Promise<OrtRuntime> {
  try {
    // A specifier in a variable: the type checker does not look for the optional package.
    const runtime = (await import(RUNTIME_PACKAGE)) as OrtRuntime & { default?: OrtRuntime };
    return runtime.InferenceSession ? runtime : (runtime.default as OrtRuntime);
  } catch (err) {
    throw new ModelLoadError(
      'onnx-runtime-missing',
      `cannot load model '${source}': it is an ONNX model, and the optional package onnxruntime-node that runs them is not installed here (${reasonOf(err).split('\n')[0]}): ${INSTALL_HINT}`,
      { cause: err },
    );
  }
}

const refuse = (
  source: string,
  why: string,
  code: 'unsupported-model' | 'multi-output' = 'unsupported-model',
) => new ModelLoadError(code, `cannot load model '${source}': ${why}; ${EXPORT_HINT}`);

const shapeText = (shape: Dims) => `[${shape.map((d) => (d === '' ? '?' : String(d))).join(', ')}]`;

/** The one features input: a float32 or float64 tensor of shape [batch, n] (batch free or 1) or [n]. */
function featuresInput(
  session: OrtSession,
  source: string,
): { name: string; type: FloatType; nFeatures: number; rank: 1 | 2 } {
  const inputs = session.inputMetadata;
  const input = inputs[0];
  if (inputs.length !== 1 || !input) {
    throw refuse(
      source,
      `the ONNX model has ${inputs.length} inputs (${session.inputNames.join(', ')}), not one`,
    );
  }
  if (!input.isTensor || !isFloat(input.type)) {
    const type = input.isTensor ? aTensor(input.type) : 'not a tensor';
    throw refuse(source, `the ONNX model's input '${input.name}' is ${type}, not float32 or float64`);
  }
  const { shape } = input;
  const n = shape[shape.length - 1];
  if ((shape.length !== 1 && shape.length !== 2) || typeof n !== 'number' || !(n > 0)) {
    throw refuse(
      source,
      `the ONNX model's input '${input.name}' has shape ${shapeText(shape)}, not [batch, n_features] with a fixed n_features`,
    );
  }
  if (shape.length === 2 && typeof shape[0] === 'number' && shape[0] !== 1) {
    throw refuse(
      source,
      `the ONNX model's input '${input.name}' has shape ${shapeText(shape)}: a fixed batch of ${shape[0]} rows, where predstream scores one row at a time (export it with a free batch size, None)`,
    );
  }
  return { name: input.name, type: input.type, nFeatures: n, rank: shape.length };
}

/** The first output: a float tensor (an integer one is a classifier's label, float16 is not read). */
function predictionOutput(session: OrtSession, source: string): string {
  const output = session.outputMetadata[0];
  if (!output) throw refuse(source, 'the ONNX model has no output');
  if (!output.isTensor) {
    throw refuse(
      source,
      `the ONNX model's first output '${output.name}' is not a tensor (a classifier's probabilities, say)`,
    );
  }
  if (!isFloat(output.type)) {
    const classifier = /int|bool/.test(output.type)
      ? ": it looks like a classifier's label, not a regression"
      : '';
    throw refuse(
      source,
      `the ONNX model's first output '${output.name}' is ${aTensor(output.type)}, not float32 or float64${classifier}`,
    );
  }
  return output.name;
}

/**
 * Loads an ONNX model from its bytes. Checked at load time, from its metadata and with one run on
 * zeros, so a wrong model stops the service at start, not on the first message. Runs on the CPU with one
 * thread: the machine's cores belong to the pipeline as a whole. onnxruntime-node runs a model on the
 * event loop's thread (after a setImmediate), so a slow model delays the service's other work.
 */
export async function loadOnnxModel(bytes: Uint8Array, source: string): Promise<RegressionModel> {
  const ort = await loadRuntime(source);
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
  } catch (err) {
    throw new ModelLoadError(
      'corrupt',
      `cannot load model '${source}': it is not a readable ONNX model (onnxruntime: ${reasonOf(err)}); export it again, or check that the file was copied whole`,
      { cause: err },
    );
  }
  const input = featuresInput(session, source);
  const outputName = predictionOutput(session, source);
  const run = async (features: readonly number[]): Promise<OrtTensor | undefined> => {
    const data = input.type === 'float32' ? Float32Array.from(features) : Float64Array.from(features);
    const tensor = new ort.Tensor(
      input.type,
      data,
      input.rank === 2 ? [1, input.nFeatures] : [input.nFeatures],
    );
    return (await session.run({ [input.name]: tensor }, [outputName]))[outputName];
  };

  let probe: OrtTensor | undefined;
  try {
    probe = await run(new Array<number>(input.nFeatures).fill(0));
  } catch (err) {
    throw new ModelLoadError(
      'invalid-model',
      `cannot load model '${source}': the ONNX model fails on a vector of ${input.nFeatures} zeros (onnxruntime: ${reasonOf(err)})`,
      { cause: err },
    );
  }
  const values = probe?.data.length ?? 0;
  if (values !== 1) {
    const why = `the ONNX model's output '${outputName}' gives ${values} values for one row (shape [${probe?.dims.join(', ') ?? ''}]), not one`;
    throw refuse(
      source,
      values > 1 ? `${why}: more than one target` : why,
      values > 1 ? 'multi-output' : 'unsupported-model',
    );
  }

  const describe = `ONNX model, ${input.nFeatures} features (${input.type} input '${input.name}', output '${outputName}')`;
  return {
    kind: 'ONNX',
    nFeatures: input.nFeatures,
    async predict(features) {
      assertFeatureVector(features, input.nFeatures);
      return Number((await run(features))?.data[0]);
    },
    describe: () => describe,
  };
}
