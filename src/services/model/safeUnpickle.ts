// Reads pickle bytes into JS values with pickleparser, resolving globals only through the allowlist.
import { BufferReader, Parser } from 'pickleparser';
import { ModelLoadError, RESAVE_HINT as RESAVE } from './errors.js';
import { detectFileFormat } from './fileFormat.js';
import { createGlobalResolver } from './pickleGlobals.js';

/** pickleparser's reader, except that an impossible 64-bit length is an error rather than a console warning. */
class StrictReader extends BufferReader {
  override uint64(): number {
    const bytes = this.bytes(8);
    const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
    const value = view.getUint32(0, true) + 2 ** 32 * view.getUint32(4, true);
    if (!Number.isSafeInteger(value))
      throw new Error(`a length of ${value} bytes is larger than any model file`);
    return value;
  }
}

function hexPrefix(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Checks the container before parsing, so joblib, compressed and non-pickle files get their own fix. */
function checkFormat(bytes: Uint8Array): void {
  const format = detectFileFormat(bytes);
  switch (format.kind) {
    case 'pickle':
      if (format.protocol < 2 || format.protocol > 5) {
        throw new ModelLoadError(
          'corrupt',
          `the file claims pickle protocol ${format.protocol}, and predstream reads protocols 2 to 5: ${RESAVE}`,
        );
      }
      return;
    case 'empty':
      throw new ModelLoadError('empty', `the file is empty (0 bytes): ${RESAVE}`);
    case 'compressed':
      throw new ModelLoadError(
        'compressed',
        `the file is ${format.format}-compressed, as joblib.dump(..., compress=...) writes it, and predstream ` +
          `reads plain pickles only: load it with joblib.load and ${RESAVE}`,
      );
    case 'old-pickle':
      throw new ModelLoadError(
        'old-protocol',
        `the file is a protocol 0 or 1 pickle, which predstream does not read: ${RESAVE} ` +
          '(Python 3 writes protocol 4 or 5 by default)',
      );
    case 'other':
      throw new ModelLoadError(
        'not-a-pickle',
        `the file is not a pickle (${format.format ?? `it starts with bytes ${hexPrefix(bytes)}`}): ${RESAVE}`,
      );
  }
}

/**
 * Unpickles `bytes` (protocol 2 to 5) without importing or running anything the file names: globals resolve
 * through the allowlist in pickleGlobals.ts. Dicts come back as Maps, tuples and lists as arrays, bytes as
 * Uint8Array, numpy values as NdArray / numbers, scikit-learn estimators as SklearnObject.
 */
export function unpickle(bytes: Uint8Array): unknown {
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkFormat(view);
  const parser = new Parser({
    nameResolver: createGlobalResolver(),
    // Maps, not plain objects: a dict key such as '__proto__' must stay data.
    unpicklingTypeOfDictionary: 'Map',
    unpicklingTypeOfSet: 'Set',
    persistentResolver: {
      resolve: () => {
        throw new ModelLoadError(
          'corrupt',
          `the pickle refers to persistent ids, which plain pickles never use: ${RESAVE}`,
        );
      },
    },
    extensionResolver: {
      resolve: () => {
        throw new ModelLoadError('corrupt', `the pickle uses the copyreg extension registry: ${RESAVE}`);
      },
    },
  });
  try {
    return parser.read(new StrictReader(view));
  } catch (err) {
    if (err instanceof ModelLoadError) throw err;
    const detail = err instanceof Error ? err.message : 'unknown error';
    throw new ModelLoadError('corrupt', `the pickle data is damaged or truncated (${detail}): ${RESAVE}`, {
      cause: err,
    });
  }
}
