// Tells a plain pickle from the other things people save models as, by the first bytes of the file.

export type FileFormat =
  | { kind: 'empty' }
  | { kind: 'pickle'; protocol: number }
  /** An ONNX model (a protobuf ModelProto opening with its ir_version field). */
  | { kind: 'onnx' }
  | { kind: 'old-pickle' }
  | { kind: 'compressed'; format: string }
  | { kind: 'other'; format: string | undefined };

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

const COMPRESSED: readonly { format: string; magic: readonly number[] }[] = [
  { format: 'gzip', magic: [0x1f, 0x8b] },
  { format: 'bzip2', magic: [0x42, 0x5a, 0x68] },
  { format: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { format: 'lz4', magic: [0x04, 0x22, 0x4d, 0x18] },
  { format: 'lzma', magic: [0x5d, 0x00, 0x00] },
  { format: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
  // joblib before 0.10 wrote its own zlib container.
  { format: 'joblib zlib', magic: [0x5a, 0x46, 0x30, 0x78] },
];

const OTHER: readonly { format: string; magic: readonly number[] }[] = [
  { format: 'a zip archive (.npz, skops, torch)', magic: [0x50, 0x4b, 0x03, 0x04] },
  { format: 'a numpy .npy file', magic: [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] },
  { format: 'an HDF5 file', magic: [0x89, 0x48, 0x44, 0x46] },
];

/** Opcodes a protocol 0 or 1 pickle of an object starts with (GLOBAL, MARK, INST, EMPTY_DICT, ...). */
const OLD_PICKLE_FIRST_OPCODES = new Set([0x63, 0x28, 0x69, 0x7d, 0x5d, 0x29, 0x4e]);
const STOP = 0x2e;

/** Reads a protobuf varint at `at`; undefined past the end or beyond 2^53. */
function varint(bytes: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0, scale = 1; i < 8 && at + i < bytes.length; i++, scale *= 128) {
    const b = bytes[at + i] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return { value, next: at + i + 1 };
  }
  return undefined;
}

/**
 * An ONNX ModelProto: it opens with field 1 (ir_version, a varint >= 3), as every ONNX writer puts it,
 * and its top-level fields, walked as protobuf, reach field 7 (the graph, length-delimited).
 * Other protobuf files (a CoreML .mlmodel, say) have no such field 7.
 */
function looksLikeOnnx(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0x08) return false;
  const version = varint(bytes, 1);
  if (!version || version.value < 3) return false;
  let at = version.next;
  while (at < bytes.length) {
    const key = varint(bytes, at);
    if (!key) return false;
    const field = Math.floor(key.value / 8);
    const wireType = key.value % 8;
    if (wireType === 0) {
      const v = varint(bytes, key.next);
      if (!v) return false;
      at = v.next;
    } else if (wireType === 2) {
      // The graph's key is enough: a file cut inside the graph is ONNX still, and its reader says so.
      if (field === 7) return true;
      const length = varint(bytes, key.next);
      if (!length || length.next + length.value > bytes.length) return false;
      at = length.next + length.value;
    } else return false;
  }
  return false;
}

export function detectFileFormat(bytes: Uint8Array): FileFormat {
  if (bytes.length === 0) return { kind: 'empty' };
  // Protocol 2+ pickles open with PROTO <version>.
  if (bytes[0] === 0x80 && bytes.length >= 2) return { kind: 'pickle', protocol: bytes[1] as number };
  for (const { format, magic } of COMPRESSED)
    if (startsWith(bytes, magic)) return { kind: 'compressed', format };
  // zlib: CMF 0x78 and a header checksum that is a multiple of 31 (joblib's compress= default).
  if (bytes[0] === 0x78 && bytes.length >= 2 && (0x78 * 256 + (bytes[1] as number)) % 31 === 0) {
    return { kind: 'compressed', format: 'zlib' };
  }
  for (const { format, magic } of OTHER) if (startsWith(bytes, magic)) return { kind: 'other', format };
  if (looksLikeOnnx(bytes)) return { kind: 'onnx' };
  if (OLD_PICKLE_FIRST_OPCODES.has(bytes[0] as number) && bytes[bytes.length - 1] === STOP) {
    return { kind: 'old-pickle' };
  }
  return { kind: 'other', format: undefined };
}
