import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from './errors.js';
import { NdArray, NumpyDType, decodeScalar } from './numpyArray.js';
import { unpickle } from './safeUnpickle.js';

const ROOT = new URL('../../../', import.meta.url);

interface ExpectedArray {
  dtype: string;
  shape: number[];
  values: (number | boolean | string)[];
}
const expected = JSON.parse(readFileSync(new URL('test/fixtures/models/expected.json', ROOT), 'utf8')) as {
  arrays: Record<string, { path: string; protocol: number; arrays: Record<string, ExpectedArray> }>;
  scalars: { path: string; values: Record<string, number> };
};

function dtype(spec: string, order: string): NumpyDType {
  const d = NumpyDType.fromSpec(spec);
  d.__setstate__([3, order, null, null, null, -1, -1, 0]);
  return d;
}

function bytesOf(kind: 'f8' | 'f4', values: number[], littleEndian = true): Uint8Array {
  const size = kind === 'f8' ? 8 : 4;
  const view = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((v, i) =>
    kind === 'f8' ? view.setFloat64(i * size, v, littleEndian) : view.setFloat32(i * size, v, littleEndian),
  );
  return new Uint8Array(view.buffer);
}

describe('numpy arrays as numpy itself pickled them', () => {
  it.each(Object.entries(expected.arrays))(
    '%s decodes every array to the values numpy reports',
    (_name, file) => {
      const decoded = unpickle(readFileSync(new URL(file.path, ROOT)));
      expect(decoded).toBeInstanceOf(Map);
      const map = decoded as Map<string, unknown>;
      expect([...map.keys()].sort()).toEqual(Object.keys(file.arrays).sort());
      for (const [key, want] of Object.entries(file.arrays)) {
        const array = map.get(key);
        expect(NdArray.isArray(array), key).toBe(true);
        const nd = array as NdArray;
        expect(nd.dtype.str, key).toBe(want.dtype);
        expect(nd.shape, key).toEqual(want.shape);
        const wanted = want.values.map((v) => (typeof v === 'boolean' ? Number(v) : v));
        expect(nd.items(), key).toEqual(wanted);
      }
    },
  );

  it('decodes numpy and Python scalars', () => {
    const decoded = unpickle(readFileSync(new URL(expected.scalars.path, ROOT))) as Map<string, unknown>;
    for (const [key, value] of Object.entries(expected.scalars.values))
      expect(decoded.get(key), key).toBe(value);
  });
});

describe('NumpyDType', () => {
  it('reads the spec numpy reduces a dtype to, and the byte order from its state', () => {
    expect(dtype('f8', '<').str).toBe('<f8');
    expect(dtype('f4', '>').str).toBe('>f4');
    expect(dtype('i8', '=').str).toBe('<i8');
    expect(dtype('b1', '|').str).toBe('|b1');
    expect(dtype('u1', '<').str).toBe('|u1');
    expect(dtype('O8', '|').str).toBe('|O');
    expect(dtype('U5', '<').itemSize).toBe(20);
  });

  it('refuses dtypes it cannot decode, naming the fix', () => {
    for (const spec of ['c16', 'M8', 'V8', 'f16', 'S4', 42, null]) {
      expect(() => NumpyDType.fromSpec(spec)).toThrow(ModelLoadError);
    }
    expect(() => NumpyDType.fromSpec('c16')).toThrow(".astype('float64')");
    const structured = NumpyDType.fromSpec('f8');
    expect(() => structured.__setstate__([3, '|', null, ['a', 'b'], new Map(), 16, 1, 16])).toThrow(
      'structured',
    );
    expect(() => structured.__setstate__([3, '?', null, null, null, -1, -1, 0])).toThrow('byte order');
  });
});

describe('NdArray', () => {
  it('reorders Fortran-ordered data into row-major order', () => {
    // [[1, 2, 3], [4, 5, 6]] stored column by column.
    const array = NdArray.fromBuffer(bytesOf('f8', [1, 4, 2, 5, 3, 6]), dtype('f8', '<'), [2, 3], 'F');
    expect(Array.from(array.numbers())).toEqual([1, 2, 3, 4, 5, 6]);
    const viaState = new NdArray();
    viaState.__setstate__([1, [2, 3], dtype('f8', '<'), true, bytesOf('f8', [1, 4, 2, 5, 3, 6])]);
    expect(Array.from(viaState.numbers())).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('honours big-endian data and float32 precision', () => {
    const big = new NdArray();
    big.__setstate__([1, [2], dtype('f8', '>'), false, bytesOf('f8', [0.1, -2.5e300], false)]);
    expect(Array.from(big.numbers())).toEqual([0.1, -2.5e300]);
    const single = new NdArray();
    single.__setstate__([1, [1], dtype('f4', '<'), false, bytesOf('f4', [0.1])]);
    expect(single.numbers()[0]).toBe(Math.fround(0.1));
  });

  it('decodes float16', () => {
    // 0x3c00 = 1.0, 0xc000 = -2.0, 0x7bff = 65504 (largest half), 0x0001 = smallest subnormal.
    const raw = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00]);
    const half = NdArray.fromBuffer(raw, dtype('f2', '<'), [4], 'C');
    expect(Array.from(half.numbers())).toEqual([1, -2, 65504, 2 ** -24]);
  });

  it('keeps object arrays as their Python values', () => {
    const names = new NdArray();
    names.__setstate__([1, [2], dtype('O8', '|'), false, ['age', 'sex']]);
    expect(names.items()).toEqual(['age', 'sex']);
    expect(() => names.numbers()).toThrow("expected a numeric numpy array, found dtype '|O'");
  });

  it('refuses data that does not fit the shape', () => {
    const short = new NdArray();
    expect(() => short.__setstate__([1, [3], dtype('f8', '<'), false, bytesOf('f8', [1, 2])])).toThrow(
      'needs 24 bytes, the pickle holds 16',
    );
    expect(() => new NdArray().__setstate__([1, [-1], dtype('f8', '<'), false, new Uint8Array(0)])).toThrow(
      'negative',
    );
    expect(() =>
      new NdArray().__setstate__([1, [2 ** 40, 2 ** 40], dtype('f8', '<'), false, new Uint8Array(0)]),
    ).toThrow('impossibly large');
    expect(() => new NdArray().__setstate__([1, [2], 'f8', false, bytesOf('f8', [1, 2])])).toThrow('dtype');
    expect(() => new NdArray().numbers()).toThrow('never received its data');
  });

  it('decodes scalars of each kind', () => {
    expect(decodeScalar(dtype('f8', '<'), bytesOf('f8', [152.5]))).toBe(152.5);
    expect(decodeScalar(dtype('f8', '>'), bytesOf('f8', [152.5], false))).toBe(152.5);
    expect(decodeScalar(dtype('i4', '<'), new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toBe(-1);
    expect(decodeScalar(dtype('b1', '|'), new Uint8Array([1]))).toBe(true);
    expect(() => decodeScalar(dtype('f8', '<'), new Uint8Array(4))).toThrow('not 8 bytes');
  });
});
