import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PositionalFile } from './csvLog.js';

describe('PositionalFile.rewriteInPlace', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'predstream-csvlog-'));
    file = path.join(dir, 'f.csv');
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every byte of the range back where it was, in chunks, and nothing outside it', async () => {
    const text = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `${i},${i * 3}\r\n`).join(''));
    await writeFile(file, text);
    const f = await PositionalFile.open(file);
    const writes: { at: number; bytes: Buffer }[] = [];
    const writeAtSync = PositionalFile.prototype.writeAtSync;
    vi.spyOn(PositionalFile.prototype, 'writeAtSync').mockImplementation(function (
      this: PositionalFile,
      d,
      at,
    ) {
      writes.push({ at, bytes: Buffer.from(d) });
      writeAtSync.call(this, d, at);
    });
    const from = 1_000;
    const to = text.length - 7;
    await f.rewriteInPlace(from, to);
    await f.close();
    expect(writes.length).toBeGreaterThan(1); // the range is longer than one chunk
    expect(writes[0]!.at).toBe(from);
    let at = from;
    for (const w of writes) {
      expect(w.at).toBe(at); // back to back, no gap and no overlap
      expect(w.bytes).toEqual(text.subarray(w.at, w.at + w.bytes.length));
      at += w.bytes.length;
    }
    expect(at).toBe(to);
    expect(await readFile(file)).toEqual(text);
  });

  it('stops at the end of the file instead of growing it', async () => {
    await writeFile(file, 'id,y\n1,2\n');
    const f = await PositionalFile.open(file);
    await f.rewriteInPlace(3, 1_000_000);
    await f.close();
    expect(await readFile(file, 'utf8')).toBe('id,y\n1,2\n');
  });
});
