// Reads unpickled Python values (tuples, dicts, bytes, numbers) defensively, without trusting their JS shape.
//
// The parser builds plain JS values from untrusted bytes, and a crafted pickle can attach own properties or
// swap prototypes on them (BUILD falls back to Object.assign). So dicts are read through Map.prototype
// (which also checks they are real Maps), lists by index, and values are described by type, never by
// calling their toString.

/** A Python dict as the parser builds it (with `unpicklingTypeOfDictionary: 'Map'`), copied; null if not a dict. */
export function asDict(value: unknown): Map<unknown, unknown> | null {
  if (typeof value !== 'object' || value === null) return null;
  try {
    return new Map(Map.prototype.entries.call(value as Map<unknown, unknown>));
  } catch {
    return null;
  }
}

/** A Python tuple or list, copied; null if not one. */
export function asList(value: unknown): unknown[] | null {
  if (!Array.isArray(value)) return null;
  const out: unknown[] = [];
  for (let i = 0; i < value.length; i++) out.push(value[i]);
  return out;
}

/** Python bytes, bytearray or a pickle buffer, copied; null if not bytes. */
export function asBytes(value: unknown): Uint8Array | null {
  if (!ArrayBuffer.isView(value) || !(value instanceof Uint8Array)) return null;
  return Uint8Array.prototype.slice.call(value);
}

/** A Python int (the parser yields a number, or a bigint for very long ones) as a JS number; null otherwise. */
export function asInteger(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  return null;
}

/** A short description of an unpickled value for error messages; never runs code attached to the value. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  switch (typeof value) {
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
    case 'bigint':
      return `the number ${String(value)}`;
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case 'function':
      return 'a Python callable';
    default:
      if (Array.isArray(value)) return `a list/tuple of ${value.length} items`;
      if (ArrayBuffer.isView(value)) return `${value.byteLength} bytes`;
      if (asDict(value) !== null) return 'a dict';
      return 'an object';
  }
}
