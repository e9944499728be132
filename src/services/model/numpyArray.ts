// numpy dtypes and arrays rebuilt from their pickled state (raw bytes or object lists) into JS values.
import { ModelLoadError } from './errors.js';
import { asBytes, asInteger, asList, describeValue } from './pyValues.js';

/** dtype kinds predstream decodes: float, signed int, unsigned int, bool, Python object, unicode string. */
export type DTypeKind = 'f' | 'i' | 'u' | 'b' | 'O' | 'U';
export type ByteOrder = '<' | '>' | '|';

/** Item sizes numpy uses for the numeric kinds predstream decodes (f2 is half precision). */
const NUMERIC_ITEM_SIZES: Record<'f' | 'i' | 'u' | 'b', readonly number[]> = {
  f: [2, 4, 8],
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  b: [1],
};

function invalid(detail: string): ModelLoadError {
  return new ModelLoadError('invalid-model', detail);
}

/** A numpy dtype as `numpy.dtype(spec, align, copy)` plus its pickled state describe it. */
export class NumpyDType {
  readonly #brand = true;
  #byteOrder: ByteOrder;

  private constructor(
    readonly kind: DTypeKind,
    /** Bytes per element in the raw data. */
    readonly itemSize: number,
  ) {
    // numpy always pickles the byte order in the state; before it arrives, assume little-endian (every
    // platform numpy ships wheels for).
    this.#byteOrder = itemSize === 1 || kind === 'O' ? '|' : '<';
  }

  static isDType(value: unknown): value is NumpyDType {
    return typeof value === 'object' && value !== null && #brand in value;
  }

  /** The first argument numpy's dtype reduce passes: 'f8', 'i4', 'b1', 'O8', 'U5' (5 characters), ... */
  static fromSpec(spec: unknown): NumpyDType {
    const match = typeof spec === 'string' ? /^[<>|=]?([a-zA-Z?])(\d*)$/.exec(spec) : null;
    if (match === null)
      throw invalid(`numpy dtype ${describeValue(spec)} is not a dtype predstream understands`);
    const kind = match[1] as string;
    const count = match[2] === '' || match[2] === undefined ? NaN : Number(match[2]);
    if (kind === 'O') return new NumpyDType('O', 8);
    if (kind === 'U' && Number.isSafeInteger(count) && count > 0) return new NumpyDType('U', count * 4);
    if (
      (kind === 'f' || kind === 'i' || kind === 'u' || kind === 'b') &&
      NUMERIC_ITEM_SIZES[kind].includes(count)
    ) {
      return new NumpyDType(kind, count);
    }
    throw invalid(
      `numpy dtype '${spec as string}' is not supported: predstream decodes float, int, uint, bool, ` +
        `object and unicode arrays; convert the model's arrays with .astype('float64') before pickling`,
    );
  }

  get byteOrder(): ByteOrder {
    return this.#byteOrder;
  }

  /** numpy's `dtype.str`, e.g. '<f8', '>i4', '|b1', '|O'. */
  get str(): string {
    if (this.kind === 'O') return '|O';
    return `${this.#byteOrder}${this.kind}${this.kind === 'U' ? this.itemSize / 4 : this.itemSize}`;
  }

  get isNumeric(): boolean {
    return this.kind === 'f' || this.kind === 'i' || this.kind === 'u' || this.kind === 'b';
  }

  /** numpy's dtype `__setstate__`: (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]). */
  __setstate__(state: unknown): void {
    const items = asList(state);
    if (items === null || items.length < 5) throw invalid(`numpy dtype state is ${describeValue(state)}`);
    const order = items[1];
    if (order === '<' || order === '>' || order === '|') this.#byteOrder = this.itemSize === 1 ? '|' : order;
    else if (order === '=') this.#byteOrder = this.itemSize === 1 ? '|' : '<';
    else throw invalid(`numpy dtype byte order ${describeValue(order)} is not '<', '>', '|' or '='`);
    // Versions with 7+ items carry subarray, names and fields at 2..4; older ones keep fields at 2.
    const structured = items.length >= 7 ? items.slice(2, 5) : [items[2]];
    if (structured.some((part) => part !== null && part !== undefined)) {
      throw invalid('structured or sub-array numpy dtypes are not supported: store plain float64 arrays');
    }
  }
}

/** A decoded numpy array: shape plus values in C (row-major) order. */
export class NdArray {
  readonly #brand = true;
  #dtype: NumpyDType | undefined;
  #shape: readonly number[] = [];
  #values: Float64Array | readonly unknown[] = new Float64Array(0);

  static isArray(value: unknown): value is NdArray {
    return typeof value === 'object' && value !== null && #brand in value;
  }

  /** numpy's `_frombuffer(buffer, dtype, shape, order)` (protocol 5 pickles). */
  static fromBuffer(buffer: unknown, dtype: unknown, shape: unknown, order: unknown): NdArray {
    if (order !== 'C' && order !== 'F')
      throw invalid(`numpy array order ${describeValue(order)} is not 'C' or 'F'`);
    const array = new NdArray();
    array.#fill(dtype, shape, order === 'F', buffer);
    return array;
  }

  get dtype(): NumpyDType {
    return this.#filled().dtype;
  }

  get shape(): readonly number[] {
    this.#filled();
    return this.#shape;
  }

  get size(): number {
    return this.#filled().values.length;
  }

  /** The values as float64 (bools as 0/1), for numeric dtypes. */
  numbers(): Float64Array {
    const { dtype, values } = this.#filled();
    if (!(values instanceof Float64Array)) {
      throw invalid(`expected a numeric numpy array, found dtype '${dtype.str}'`);
    }
    return values.slice();
  }

  /** The values as JS values: numbers for numeric dtypes, strings for unicode, Python objects for object dtype. */
  items(): readonly unknown[] {
    const { values } = this.#filled();
    return Array.from(values);
  }

  /** numpy's ndarray `__setstate__`: ([version,] shape, dtype, is_fortran, rawdata). */
  __setstate__(state: unknown): void {
    const items = asList(state);
    if (items === null || (items.length !== 5 && items.length !== 4)) {
      throw invalid(`numpy array state is ${describeValue(state)}`);
    }
    const [shape, dtype, fortran, raw] = items.length === 5 ? items.slice(1) : items;
    if (typeof fortran !== 'boolean' && fortran !== 0 && fortran !== 1) {
      throw invalid(`numpy array fortran flag is ${describeValue(fortran)}`);
    }
    this.#fill(dtype, shape, Boolean(fortran), raw);
  }

  #filled(): { dtype: NumpyDType; values: Float64Array | readonly unknown[] } {
    if (this.#dtype === undefined) throw invalid('a numpy array in the pickle never received its data');
    return { dtype: this.#dtype, values: this.#values };
  }

  #fill(dtype: unknown, shapeValue: unknown, fortran: boolean, raw: unknown): void {
    if (!NumpyDType.isDType(dtype)) throw invalid(`numpy array dtype is ${describeValue(dtype)}`);
    const shape = decodeShape(shapeValue);
    const count = shape.reduce((a, b) => a * b, 1);
    let values: Float64Array | unknown[];
    if (dtype.kind === 'O') {
      const list = asList(raw);
      if (list === null) throw invalid(`object array data is ${describeValue(raw)}, not a list`);
      values = list;
    } else {
      const bytes = asBytes(raw);
      if (bytes === null) throw invalid(`numpy array data is ${describeValue(raw)}, not bytes`);
      if (bytes.length !== count * dtype.itemSize) {
        throw invalid(
          `numpy array of shape (${shape.join(', ')}) and dtype '${dtype.str}' needs ` +
            `${count * dtype.itemSize} bytes, the pickle holds ${bytes.length}`,
        );
      }
      values = dtype.kind === 'U' ? decodeUnicode(bytes, dtype, count) : decodeNumbers(bytes, dtype, count);
    }
    if (values.length !== count) {
      throw invalid(`numpy array of shape (${shape.join(', ')}) holds ${values.length} values, not ${count}`);
    }
    this.#dtype = dtype;
    this.#shape = shape;
    this.#values = fortran && shape.length > 1 ? fortranToC(values, shape) : values;
  }
}

/** numpy's `scalar(dtype, rawbytes)`: a numpy scalar such as `numpy.float64(152.13)`. */
export function decodeScalar(dtype: unknown, raw: unknown): unknown {
  if (!NumpyDType.isDType(dtype)) throw invalid(`numpy scalar dtype is ${describeValue(dtype)}`);
  if (dtype.kind === 'O') return raw;
  const bytes = asBytes(raw);
  if (bytes === null || bytes.length !== dtype.itemSize) {
    throw invalid(
      `numpy scalar of dtype '${dtype.str}' holds ${describeValue(raw)}, not ${dtype.itemSize} bytes`,
    );
  }
  if (dtype.kind === 'U') return decodeUnicode(bytes, dtype, 1)[0];
  const value = decodeNumbers(bytes, dtype, 1)[0] as number;
  return dtype.kind === 'b' ? value !== 0 : value;
}

function decodeShape(value: unknown): number[] {
  const items = asList(value);
  if (items === null) throw invalid(`numpy array shape is ${describeValue(value)}, not a tuple`);
  const shape = items.map(asInteger);
  if (shape.some((d) => d === null || d < 0))
    throw invalid('numpy array shape holds a negative or non-integer size');
  const dims = shape as number[];
  if (!Number.isSafeInteger(dims.reduce((a, b) => a * b, 1)))
    throw invalid('numpy array is impossibly large');
  return dims;
}

function decodeNumbers(bytes: Uint8Array, dtype: NumpyDType, count: number): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = dtype.byteOrder !== '>';
  const size = dtype.itemSize;
  const out = new Float64Array(count);
  const read = elementReader(view, dtype.kind, size, little);
  for (let i = 0; i < count; i++) out[i] = read(i * size);
  return out;
}

function elementReader(
  view: DataView,
  kind: DTypeKind,
  size: number,
  little: boolean,
): (offset: number) => number {
  if (kind === 'f') {
    if (size === 8) return (o) => view.getFloat64(o, little);
    if (size === 4) return (o) => view.getFloat32(o, little);
    return (o) => halfToNumber(view.getUint16(o, little));
  }
  if (kind === 'b') return (o) => (view.getUint8(o) === 0 ? 0 : 1);
  if (kind === 'i') {
    if (size === 8) return (o) => Number(view.getBigInt64(o, little));
    if (size === 4) return (o) => view.getInt32(o, little);
    if (size === 2) return (o) => view.getInt16(o, little);
    return (o) => view.getInt8(o);
  }
  if (size === 8) return (o) => Number(view.getBigUint64(o, little));
  if (size === 4) return (o) => view.getUint32(o, little);
  if (size === 2) return (o) => view.getUint16(o, little);
  return (o) => view.getUint8(o);
}

/** IEEE 754 binary16 to a JS number (DataView has no getFloat16 on Node 20). */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** numpy 'U' arrays: fixed-width UTF-32, padded with NULs. */
function decodeUnicode(bytes: Uint8Array, dtype: NumpyDType, count: number): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = dtype.byteOrder !== '>';
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = '';
    for (let o = i * dtype.itemSize; o < (i + 1) * dtype.itemSize; o += 4) {
      const code = view.getUint32(o, little);
      if (code === 0) break;
      if (code > 0x10ffff) throw invalid('numpy unicode array holds an invalid code point');
      text += String.fromCodePoint(code);
    }
    out.push(text);
  }
  return out;
}

/** Reorders values stored in Fortran (column-major) order into C (row-major) order. */
function fortranToC<T extends Float64Array | unknown[]>(values: T, shape: readonly number[]): T {
  const count = values.length;
  const out = (values instanceof Float64Array ? new Float64Array(count) : new Array<unknown>(count)) as T;
  const fortranStrides: number[] = [];
  let stride = 1;
  for (const dim of shape) {
    fortranStrides.push(stride);
    stride *= dim;
  }
  const index = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < count; c++) {
    let f = 0;
    for (let k = 0; k < shape.length; k++) f += (index[k] as number) * (fortranStrides[k] as number);
    out[c] = values[f] as T[number];
    for (let k = shape.length - 1; k >= 0; k--) {
      index[k] = (index[k] as number) + 1;
      if ((index[k] as number) < (shape[k] as number)) break;
      index[k] = 0;
    }
  }
  return out;
}
