import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBundledFontFiles } from './chartFonts.js';

describe('findBundledFontFiles', () => {
  it('finds the fonts shipped in assets/fonts from this module', () => {
    const files = findBundledFontFiles().map((f) => path.basename(f));
    expect(files).toEqual(['DejaVuSans-Bold.ttf', 'DejaVuSans.ttf']);
  });

  it('returns no files where no assets/fonts lies above', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'predstream-fonts-'));
    try {
      expect(findBundledFontFiles(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
