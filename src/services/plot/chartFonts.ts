// Finds the font files shipped in assets/fonts, so chart text renders on machines without system fonts.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The family of the shipped font files; the chart spec names it first. */
export const BUNDLED_FONT_FAMILY = 'DejaVu Sans';

const FONT_DIR = path.join('assets', 'fonts');

/**
 * The .ttf/.otf files in the nearest `assets/fonts` above this module (it is `src/services/plot`
 * when run from source and `dist/services/plot` when built), or [] when there is none.
 */
export function findBundledFontFiles(startDir = path.dirname(fileURLToPath(import.meta.url))): string[] {
  let dir = startDir;
  for (;;) {
    const candidate = path.join(dir, FONT_DIR);
    if (existsSync(candidate)) {
      return readdirSync(candidate)
        .filter((name) => /\.(ttf|otf)$/i.test(name))
        .sort()
        .map((name) => path.join(candidate, name));
    }
    const parent = path.dirname(dir);
    if (parent === dir) return [];
    dir = parent;
  }
}
