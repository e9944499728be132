// The allowlist of Python globals a model pickle may name, each mapped to a JS stand-in; all else is refused.
//
// Unpickling in Python imports and calls whatever globals the file names, which is how a pickle runs code.
// Here nothing is imported or called from the file: a name on this list resolves to a small, pure JS
// function that rebuilds the value (a numpy array, dtype or scalar, a scikit-learn estimator's state), and
// any other name stops the load with an error that names it.
import { ModelLoadError, RESAVE_HINT } from './errors.js';
import { isSupportedSklearnClass, SUPPORTED_MODELS_HINT } from './modelRegistry.js';
import { NdArray, NumpyDType, decodeScalar } from './numpyArray.js';
import { asList, describeValue } from './pyValues.js';
import { SklearnObject } from './sklearnObject.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the shape pickleparser's NameResolver expects */
export type PyGlobal = ((...args: any[]) => unknown) | (new (...args: any[]) => unknown);
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface GlobalResolver {
  resolve(module: string, name: string): PyGlobal;
}

/** numpy 1.x pickles say `numpy.core`; numpy 2 says `numpy._core`. */
const NUMPY_CORE_MODULES = ['numpy.core', 'numpy._core'] as const;

function invalid(detail: string): ModelLoadError {
  return new ModelLoadError('invalid-model', detail);
}

/** Python 3 pickles bytes at protocol 2 as `_codecs.encode(text, 'latin1')`. */
function latin1Encode(text: unknown, encoding: unknown): Uint8Array {
  if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
    throw invalid(`_codecs.encode is only read for latin1 text, not ${describeValue(encoding)}`);
  }
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw invalid('_codecs.encode text holds a character outside latin1');
    bytes[i] = code;
  }
  return bytes;
}

/** Empty bytes pickle at protocol 2 as `bytes()`. */
function emptyBytes(...args: unknown[]): Uint8Array {
  const list = args.length === 1 ? asList(args[0]) : null;
  if (args.length === 0 || (list !== null && list.length === 0)) return new Uint8Array(0);
  throw invalid('bytes(...) is only read without arguments');
}

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}...` : clean;
}

/**
 * A resolver whose stand-ins are all created for this one file: pickleparser's BUILD can set attributes on a
 * global (it falls back to Object.assign), and nothing one file does may carry over to the next.
 */
export function createGlobalResolver(): GlobalResolver {
  const ndarray = function ndarray(): never {
    throw invalid('the pickle calls numpy.ndarray directly, which numpy never does');
  };
  const globals = new Map<string, PyGlobal>([
    ['numpy.ndarray', ndarray],
    ['numpy.dtype', (spec: unknown) => NumpyDType.fromSpec(spec)],
    ['_codecs.encode', (text: unknown, encoding: unknown) => latin1Encode(text, encoding)],
    ['builtins.bytes', (...args: unknown[]) => emptyBytes(...args)],
    ['__builtin__.bytes', (...args: unknown[]) => emptyBytes(...args)],
  ]);
  for (const core of NUMPY_CORE_MODULES) {
    globals.set(`${core}.multiarray._reconstruct`, (subtype: unknown) => {
      if (subtype !== ndarray)
        throw invalid(`numpy _reconstruct of ${describeValue(subtype)}, not numpy.ndarray`);
      return new NdArray();
    });
    globals.set(`${core}.multiarray.scalar`, (dtype: unknown, raw: unknown) => decodeScalar(dtype, raw));
    globals.set(
      `${core}.numeric._frombuffer`,
      (buffer: unknown, dtype: unknown, shape: unknown, order: unknown) =>
        NdArray.fromBuffer(buffer, dtype, shape, order),
    );
  }
  const sklearnClasses = new Map<string, PyGlobal>();

  return {
    resolve(module: unknown, name: unknown): PyGlobal {
      if (typeof module !== 'string' || typeof name !== 'string') {
        throw new ModelLoadError('corrupt', 'the pickle names a global with a non-string module or name');
      }
      const qualified = `${module}.${name}`;
      const known = globals.get(qualified);
      if (known !== undefined) return known;
      if (isSupportedSklearnClass(module, name)) {
        const [moduleName, className] = [module, name];
        let cls = sklearnClasses.get(qualified);
        if (cls === undefined) {
          cls = class extends SklearnObject {
            constructor() {
              super(moduleName, className);
            }
          };
          sklearnClasses.set(qualified, cls);
        }
        return cls;
      }
      if (/(^|\.)joblib(\.|$)/.test(module)) {
        throw new ModelLoadError(
          'joblib',
          `the file was written by joblib.dump (it refers to '${printable(qualified)}', and joblib stores ` +
            `numpy arrays outside the pickle stream): load it with joblib.load and ${RESAVE_HINT}`,
        );
      }
      throw new ModelLoadError(
        'forbidden-global',
        `the pickle refers to '${printable(qualified)}', which predstream will not load: ${SUPPORTED_MODELS_HINT}`,
      );
    },
  };
}
