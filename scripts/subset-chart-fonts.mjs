// Cuts the shipped fonts down to the Latin ranges the chart needs (assets/fonts/latin), with fontTools.
// Run after `npm run build`: node scripts/subset-chart-fonts.mjs  (needs Debian's python3-fonttools).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { LATIN_RANGES, LATIN_SUBSET_DIR, findBundledFontFiles } from '../dist/services/plot/chartFonts.js';

const fonts = findBundledFontFiles();
if (fonts.length === 0)
  throw new Error('no fonts in assets/fonts: run this from the repository after npm run build');
const outDir = path.join(path.dirname(fonts[0]), LATIN_SUBSET_DIR);
mkdirSync(outDir, { recursive: true });
const hex = (n) => n.toString(16).toUpperCase().padStart(4, '0');
const unicodes = LATIN_RANGES.map(([a, b]) => (a === b ? `U+${hex(a)}` : `U+${hex(a)}-${hex(b)}`)).join(',');
for (const font of fonts) {
  const out = path.join(outDir, path.basename(font));
  // Kerning and ligature tables are kept (layout features '*'): text is set as with the full font.
  execFileSync(
    'python3',
    ['-m', 'fontTools.subset', font, `--unicodes=${unicodes}`, '--layout-features=*', `--output-file=${out}`],
    { stdio: 'inherit', env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}` } },
  );
  console.log(`${out}`);
}
