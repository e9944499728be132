import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomicWrite.js';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'predstream-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the bytes and leaves no temp file behind', async () => {
    const target = path.join(dir, 'chart.png');
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    await writeFileAtomic(target, data);
    expect(await readFile(target)).toEqual(data);
    expect(await readdir(dir)).toEqual(['chart.png']);
  });

  it('replaces an existing file whole', async () => {
    const target = path.join(dir, 'chart.png');
    await writeFile(target, 'old contents that are longer than the new ones');
    await writeFileAtomic(target, Buffer.from('new'));
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['chart.png']);
  });

  it('a reader polling during many rewrites only ever sees a complete version', async () => {
    const target = path.join(dir, 'chart.png');
    const versions = [Buffer.alloc(200_000, 'a'), Buffer.alloc(300_000, 'b')];
    await writeFileAtomic(target, versions[0]!);
    let reading = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (reading) {
        const bytes = await readFile(target);
        const whole = versions.some((v) => v.equals(bytes));
        seen.add(whole ? `whole ${bytes.length}` : `TORN ${bytes.length}`);
      }
    })();
    for (let i = 0; i < 40; i++) await writeFileAtomic(target, versions[i % 2]!);
    reading = false;
    await reader;
    expect([...seen].filter((s) => s.startsWith('TORN'))).toEqual([]);
    expect(await readdir(dir)).toEqual(['chart.png']);
  });

  it('names the path and the fix when the directory does not exist', async () => {
    const target = path.join(dir, 'missing', 'chart.png');
    await expect(writeFileAtomic(target, Buffer.from('x'))).rejects.toThrow(/ENOENT.*exists and is writable/);
    expect(await readdir(dir)).toEqual([]);
  });
});
