// Finds the font files shipped in assets/fonts, so chart text renders on machines without system fonts.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The family of the shipped font files; the chart spec names it first. */
export const BUNDLED_FONT_FAMILY = 'DejaVu Sans';

const FONT_DIR = path.join('assets', 'fonts');
/** Below FONT_DIR: the same fonts cut down to LATIN_RANGES (scripts/subset-chart-fonts.mjs makes them). */
export const LATIN_SUBSET_DIR = 'latin';

/**
 * The code points the Latin subsets hold (inclusive ranges): ASCII, Latin-1, general punctuation (the
 * ellipsis, dashes, quotes) and the minus sign d3-format writes. A chart whose text stays within them is
 * drawn with the subsets, which resvg loads in a fraction of the full fonts' time (~15 ms less CPU per
 * redraw); any other character (a path in another script, say) brings the full fonts in.
 */
export const LATIN_RANGES: readonly (readonly [number, number])[] = [
  [0x20, 0x7e],
  [0xa0, 0xff],
  [0x2010, 0x2027],
  [0x2030, 0x203a],
  [0x2212, 0x2212],
];

const hex = (n: number) => `\\u{${n.toString(16)}}`;
const OUTSIDE_LATIN = new RegExp(
  `[^\\t\\n\\r${LATIN_RANGES.map(([a, b]) => `${hex(a)}-${hex(b)}`).join('')}]`,
  'u',
);

/** True when every character of `text` (tabs and line breaks aside) is in the Latin subsets. */
export function withinLatinSubset(text: string): boolean {
  return !OUTSIDE_LATIN.test(text);
}

/**
 * The .ttf/.otf files in the nearest `assets/fonts` above this module (it is `src/services/plot`
 * when run from source and `dist/services/plot` when built), or in its `subdir`; [] when there is none.
 */
export function findBundledFontFiles(
  startDir = path.dirname(fileURLToPath(import.meta.url)),
  subdir = '',
): string[] {
  let dir = startDir;
  for (;;) {
    const candidate = path.join(dir, FONT_DIR);
    if (existsSync(candidate)) {
      const fonts = path.join(candidate, subdir);
      if (!existsSync(fonts)) return [];
      return readdirSync(fonts)
        .filter((name) => /\.(ttf|otf)$/i.test(name))
        .sort()
        .map((name) => path.join(fonts, name));
    }
    const parent = path.dirname(dir);
    if (parent === dir) return [];
    dir = parent;
  }
}

let found: { full: string[]; latin: string[] } | undefined;

/** The shipped fonts for a chart whose SVG is `svg`: the Latin subsets when they hold all its text. */
export function chartFontFiles(svg: string): string[] {
  found ??= { full: findBundledFontFiles(), latin: findBundledFontFiles(undefined, LATIN_SUBSET_DIR) };
  return found.latin.length > 0 && withinLatinSubset(svg) ? found.latin : found.full;
}
