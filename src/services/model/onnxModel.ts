// ONNX regression models, run by onnxruntime-node (an optional dependency, loaded only for an ONNX file).
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelLoadError } from './errors.js';
import { assertFeatureVector, type RegressionModel } from './regressionModel.js';

type Runtime = typeof import('onnxruntime-node');
type FloatType = 'float32' | 'float64';

const INSTALL_HINT =
  "install it with 'npm install onnxruntime-node' (set ONNXRUNTIME_NODE_INSTALL=skip where the machine cannot reach api.nuget.org: the CPU runtime ships in the package), or save the model as a scikit-learn pickle";

async function loadRuntime(source: string): Promise<Runtime> {
  try {
    const runtime = (await import('onnxruntime-node')) as Runtime & { default?: Runtime };
    return runtime.InferenceSession ? runtime : (runtime.default as Runtime);
  } catch (err) {
    throw new ModelLoadError(
      'onnx-runtime-missing',
      `cannot load model '${source}': it is an ONNX model, and the optional package onnxruntime-node that runs them is not installed here (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): ${INSTALL_HINT}`,
      { cause: err },
    );
  }
}

const refuse = (source: string, why: string, fix: string): ModelLoadError =>
  new ModelLoadError('unsupported-model', `cannot load model '${source}': ${why}; ${fix}`);

const EXPORT_HINT =
  'predstream feeds one float tensor of shape [batch, n_features] and reads one number per row (skl2onnx: convert_sklearn(model, initial_types=[("X", FloatTensorType([None, n_features]))]))';

/** The one features input: a float32 or float64 tensor of shape [batch, n] (or [n]) with n fixed. */
function featuresInput(
  session: InferenceSession,
  source: string,
): { name: string; type: FloatType; nFeatures: number; rank: 1 | 2 } {
  const inputs = session.inputMetadata;
  if (inputs.length !== 1 || !inputs[0]) {
    throw refuse(
      source,
      `the ONNX model has ${inputs.length} inputs (${session.inputNames.join(', ')})`,
      EXPORT_HINT,
    );
  }
  const input = inputs[0];
  if (!input.isTensor || (input.type !== 'float32' && input.type !== 'float64')) {
    const type = input.isTensor ? `a ${input.type} tensor` : 'not a tensor';
    throw refuse(
      source,
      `the ONNX model's input '${input.name}' is ${type}, not float32 or float64`,
      EXPORT_HINT,
    );
  }
  const shape = input.shape;
  const n = shape[shape.length - 1];
  if ((shape.length !== 1 && shape.length !== 2) || typeof n !== 'number' || !(n > 0)) {
    throw refuse(
      source,
      `the ONNX model's input '${input.name}' has shape [${shape.map((d) => (d === '' ? '?' : String(d))).join(', ')}], not [batch, n_features] with a fixed n_features`,
      EXPORT_HINT,
    );
  }
  return { name: input.name, type: input.type, nFeatures: n, rank: shape.length };
}

/** The first output's values as numbers, or a reason why they are not one number per row. */
function singleNumber(output: Tensor | undefined): number | string {
  if (!output) return 'gives no output';
  if (typeof output.data[0] === 'string' || typeof output.data[0] === 'boolean')
    return `gives ${output.type} values, not numbers`;
  if (output.data.length !== 1)
    return `gives ${output.data.length} values per row (shape [${output.dims.join(', ')}]), not one: more than one target`;
  return Number(output.data[0]);
}

/**
 * Loads an ONNX model from its bytes. Its first output must give one number per row (a regressor);
 * checked at load time with one run on zeros, so a wrong model stops the service at start, not on the
 * first message. Runs on the CPU with one thread: the machine's cores belong to the pipeline as a whole.
 */
export async function loadOnnxModel(bytes: Uint8Array, source: string): Promise<RegressionModel> {
  const ort = await loadRuntime(source);
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
  } catch (err) {
    throw new ModelLoadError(
      'corrupt',
      `cannot load model '${source}': onnxruntime cannot read it as an ONNX model (${err instanceof Error ? err.message : String(err)}); export it again, or check that the file was copied whole`,
      { cause: err },
    );
  }
  const input = featuresInput(session, source);
  const outputName = session.outputNames[0];
  if (outputName === undefined) throw refuse(source, 'the ONNX model has no output', EXPORT_HINT);
  const tensor = (features: readonly number[]): Tensor => {
    const data = input.type === 'float32' ? Float32Array.from(features) : Float64Array.from(features);
    return new ort.Tensor(input.type, data, input.rank === 2 ? [1, input.nFeatures] : [input.nFeatures]);
  };
  const run = async (features: readonly number[]): Promise<number | string> => {
    const outputs = await session.run({ [input.name]: tensor(features) }, [outputName]);
    return singleNumber(outputs[outputName]);
  };

  let probe: number | string;
  try {
    probe = await run(new Array<number>(input.nFeatures).fill(0));
  } catch (err) {
    throw new ModelLoadError(
      'invalid-model',
      `cannot load model '${source}': the ONNX model fails on a vector of ${input.nFeatures} zeros (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
  if (typeof probe === 'string') {
    const code = probe.includes('more than one target') ? 'multi-output' : 'unsupported-model';
    throw new ModelLoadError(
      code,
      `cannot load model '${source}': the ONNX model's output '${outputName}' ${probe}; ${EXPORT_HINT}`,
    );
  }

  const describe = `ONNX model, ${input.nFeatures} features (${input.type} input '${input.name}', output '${outputName}')`;
  return {
    kind: 'ONNX',
    nFeatures: input.nFeatures,
    async predict(features) {
      assertFeatureVector(features, input.nFeatures);
      const y = await run(features);
      if (typeof y === 'string') throw new Error(`the ONNX model's output '${outputName}' ${y}`);
      return y;
    },
    describe: () => describe,
  };
}
