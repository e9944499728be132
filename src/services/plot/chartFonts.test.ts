import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LATIN_SUBSET_DIR, chartFontFiles, findBundledFontFiles, withinLatinSubset } from './chartFonts.js';

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

  it('finds the Latin subsets of the same fonts', () => {
    const files = findBundledFontFiles(undefined, LATIN_SUBSET_DIR);
    expect(files.map((f) => path.basename(f))).toEqual(['DejaVuSans-Bold.ttf', 'DejaVuSans.ttf']);
    expect(files.every((f) => path.basename(path.dirname(f)) === LATIN_SUBSET_DIR)).toBe(true);
  });
});

describe('chartFontFiles', () => {
  it('takes the Latin subsets for text within them, the full fonts for anything else', () => {
    expect(withinLatinSubset('n = 1,234 · mean −4.2 · Waiting for rows… café\n')).toBe(true);
    expect(withinLatinSubset('/дані/metric_log.csv')).toBe(false);
    expect(withinLatinSubset('x ✓')).toBe(false);
    expect(chartFontFiles('<svg><text>mean 4</text></svg>')).toEqual(
      findBundledFontFiles(undefined, LATIN_SUBSET_DIR),
    );
    expect(chartFontFiles('<svg><text>/дані</text></svg>')).toEqual(findBundledFontFiles());
  });
});
