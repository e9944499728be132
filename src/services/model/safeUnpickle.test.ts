import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModelLoadError } from './errors.js';
import { detectFileFormat } from './fileFormat.js';
import { loadModelFromBytes } from './loadModel.js';
import { createGlobalResolver } from './pickleGlobals.js';
import { unpickle } from './safeUnpickle.js';
import { SklearnObject } from './sklearnObject.js';

/** Writes protocol 4 opcodes by hand, for pickles Python would never produce. */
class PickleWriter {
  private readonly out: number[] = [0x80, 4];

  private op(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }

  str(text: string): this {
    const utf8 = [...Buffer.from(text, 'utf8')];
    return this.op(0x8c, utf8.length, ...utf8); // SHORT_BINUNICODE
  }
  global(module: string, name: string): this {
    return this.str(module).str(name).op(0x93); // STACK_GLOBAL
  }
  int(n: number): this {
    return this.op(0x4b, n); // BININT1
  }
  float(x: number): this {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x, false);
    return this.op(0x47, ...new Uint8Array(view.buffer)); // BINFLOAT
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  tuple1(): this {
    return this.op(0x85);
  }
  newobj(): this {
    return this.op(0x81);
  }
  reduce(): this {
    return this.op(0x52);
  }
  build(): this {
    return this.op(0x62);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  emptyList(): this {
    return this.op(0x5d);
  }
  setitem(): this {
    return this.op(0x73);
  }
  memoize(): this {
    return this.op(0x94);
  }
  get(index: number): this {
    return this.op(0x68, index); // BINGET
  }
  raw(...bytes: number[]): this {
    return this.op(...bytes);
  }
  stop(): Uint8Array {
    return Uint8Array.from([...this.out, 0x2e]);
  }
}

function refusal(bytes: Uint8Array): ModelLoadError {
  try {
    unpickle(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return err as ModelLoadError;
  }
  throw new Error('the pickle was read, but it should have been refused');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('unpickle: the allowlist', () => {
  it('builds an allowed scikit-learn class from its state', () => {
    const bytes = new PickleWriter()
      .global('sklearn.linear_model._ridge', 'Ridge')
      .emptyTuple()
      .newobj()
      .emptyDict()
      .str('alpha')
      .float(0.5)
      .setitem()
      .build()
      .stop();
    const obj = unpickle(bytes);
    expect(SklearnObject.isSklearnObject(obj)).toBe(true);
    expect((obj as SklearnObject).qualifiedName).toBe('sklearn.linear_model._ridge.Ridge');
    expect((obj as SklearnObject).get('alpha')).toBe(0.5);
  });

  it('refuses look-alike names: attributes of allowed classes, other packages, unlisted modules', () => {
    const cases: [string, string][] = [
      ['sklearn.linear_model._base', 'LinearRegression.fit'],
      ['sklearn.linear_model_evil', 'LinearRegression'],
      ['evil.sklearn.linear_model', 'Ridge'],
      ['sklearn.linear_model', '__class__'],
      ['numpy', 'load'],
      ['numpy.core.multiarray', '_reconstruct.__globals__'],
      ['builtins', 'getattr'],
      ['copyreg', '_reconstructor'],
    ];
    for (const [module, name] of cases) {
      const err = refusal(new PickleWriter().global(module, name).stop());
      expect(err.code).toBe('forbidden-global');
      expect(err.message).toContain(`refers to '${module}.${name}'`);
    }
  });

  it('refuses at the global, before the REDUCE that would call it', () => {
    const bytes = new PickleWriter().global('posix', 'system').str('touch /tmp/x').tuple1().reduce().stop();
    expect(refusal(bytes).message).toContain("'posix.system'");
  });

  it('keeps control characters out of the message', () => {
    const err = refusal(new PickleWriter().global('evil\u001b[2J', 'x').stop());
    expect(err.message).toContain("'evil?[2J.x'");
  });

  it('refuses a global whose module or name is not a string', () => {
    const bytes = new PickleWriter().int(1).int(2).raw(0x93).stop();
    expect(refusal(bytes).code).toBe('corrupt');
  });

  it('gives every file its own stand-ins, so one pickle cannot alter the next', () => {
    for (const [module, name] of [
      ['numpy.core.multiarray', 'scalar'],
      ['numpy._core.numeric', '_frombuffer'],
      ['_codecs', 'encode'],
    ] as const) {
      const tamper = new PickleWriter()
        .global(module, name)
        .emptyDict()
        .str('tampered')
        .int(1)
        .setitem()
        .build();
      expect(() => unpickle(tamper.stop())).not.toThrow();
      expect(
        (createGlobalResolver().resolve(module, name) as unknown as { tampered?: number }).tampered,
      ).toBeUndefined();
    }
    const a = createGlobalResolver();
    const b = createGlobalResolver();
    expect(a.resolve('numpy', 'dtype')).not.toBe(b.resolve('numpy', 'dtype'));
    expect(a.resolve('sklearn.linear_model._base', 'LinearRegression')).toBe(
      a.resolve('sklearn.linear_model._base', 'LinearRegression'),
    );
  });
});

describe('unpickle: hostile structure', () => {
  it('keeps a __proto__ dict key as data and leaves Object.prototype alone', () => {
    const bytes = new PickleWriter()
      .emptyDict()
      .str('__proto__')
      .emptyDict()
      .str('polluted')
      .int(1)
      .setitem()
      .setitem()
      .stop();
    const value = unpickle(bytes) as Map<string, unknown>;
    expect(value).toBeInstanceOf(Map);
    expect(value.get('__proto__')).toBeInstanceOf(Map);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not let BUILD on a list or a global turn it into a model', () => {
    // BUILD on a list falls back to Object.assign in pickleparser; the list stays a list.
    const onList = new PickleWriter()
      .emptyList()
      .emptyDict()
      .str('__proto__')
      .global('sklearn.linear_model._base', 'LinearRegression')
      .emptyTuple()
      .newobj()
      .setitem()
      .build()
      .stop();
    expect(() => loadModelFromBytes(onList, 'list.pkl')).toThrow(/holds a list\/tuple/);
    expect(({} as Record<string, unknown>).coef_).toBeUndefined();

    const onGlobal = new PickleWriter()
      .global('numpy', 'dtype')
      .emptyDict()
      .str('coef_')
      .int(1)
      .setitem()
      .build()
      .stop();
    expect(() => loadModelFromBytes(onGlobal, 'global.pkl')).toThrow(/holds a Python callable/);
  });

  it('refuses NEWOBJ on a function stand-in and REDUCE on a class', () => {
    expect(refusal(new PickleWriter().global('numpy', 'dtype').emptyTuple().newobj().stop()).code).toBe(
      'corrupt',
    );
    const reduceClass = new PickleWriter()
      .global('sklearn.linear_model._base', 'LinearRegression')
      .emptyTuple()
      .reduce();
    expect(refusal(reduceClass.stop()).code).toBe('corrupt');
  });

  it('refuses an impossible length without printing anything', () => {
    const warn = vi.spyOn(console, 'warn');
    const bytes = new PickleWriter().raw(0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f).stop();
    expect(refusal(bytes).message).toMatch(/damaged or truncated/);
    expect(warn).not.toHaveBeenCalled();
  });

  it('refuses out-of-band buffers and persistent ids', () => {
    expect(refusal(new PickleWriter().raw(0x97).stop()).message).toContain('out-of-band');
    expect(refusal(new PickleWriter().str('id').raw(0x51).stop()).message).toContain('persistent ids');
  });

  it('refuses a pickle without a STOP and an unknown protocol', () => {
    expect(refusal(Uint8Array.from([0x80, 4, 0x4e])).message).toContain('Unexpected end of file');
    expect(refusal(Uint8Array.from([0x80, 6, 0x4e, 0x2e])).message).toContain('protocols 2 to 5');
  });

  it('reads a Buffer that is a slice of a larger allocation', () => {
    const model = readFileSync(new URL('../../../models/myfile.pkl', import.meta.url));
    const padded = Buffer.concat([Buffer.from('junk'), model, Buffer.from('more junk')]);
    const slice = padded.subarray(4, 4 + model.length);
    expect(loadModelFromBytes(slice, 'slice').predict(new Array(10).fill(0))).toBe(
      loadModelFromBytes(model, 'whole').predict(new Array(10).fill(0)),
    );
  });
});

describe('detectFileFormat', () => {
  it('tells pickles, compressed files and other formats apart', () => {
    expect(detectFileFormat(Uint8Array.from([0x80, 5, 0x95]))).toEqual({ kind: 'pickle', protocol: 5 });
    expect(detectFileFormat(new Uint8Array(0))).toEqual({ kind: 'empty' });
    expect(detectFileFormat(Uint8Array.from([0x1f, 0x8b, 8, 0]))).toEqual({
      kind: 'compressed',
      format: 'gzip',
    });
    expect(detectFileFormat(Uint8Array.from([0x78, 0x9c, 1]))).toEqual({
      kind: 'compressed',
      format: 'zlib',
    });
    expect(detectFileFormat(Buffer.from('BZh91AY'))).toEqual({ kind: 'compressed', format: 'bzip2' });
    expect(detectFileFormat(Buffer.from('PK\u0003\u0004rest')).kind).toBe('other');
    expect(detectFileFormat(Buffer.from('\u0093NUMPY', 'latin1'))).toMatchObject({
      format: 'a numpy .npy file',
    });
    expect(detectFileFormat(Buffer.from('(dp0\nS"a"\np1\nI1\ns.'))).toEqual({ kind: 'old-pickle' });
    expect(detectFileFormat(Buffer.from('xyz'))).toEqual({ kind: 'other', format: undefined });
  });
});
