import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildErrorChartSpec } from './chartSpec.js';
import { ErrorHistogram } from './errorHistogram.js';
import { ChartRenderer, renderChartPng } from './renderPng.js';
import { seededRandom } from '../../../test/support/seededRandom.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A minimal PNG reader (8-bit RGBA, no interlace: what resvg writes), to look at the pixels. */
function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9], data[12]]).toEqual([8, 6, 0]); // bit depth, RGBA, no interlace
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const rgba = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const byte = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= 4 ? rgba[y * stride + x - 4]! : 0;
      const b = y > 0 ? rgba[(y - 1) * stride + x]! : 0;
      const c = x >= 4 && y > 0 ? rgba[(y - 1) * stride + x - 4]! : 0;
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter!]!;
      rgba[y * stride + x] = (byte + predictor) & 0xff;
    }
  }
  return { width, height, rgba };
}

/** Pixels in the box that are dark (text-like) and that are the bar colour. */
function countPixels(
  img: ReturnType<typeof decodePng>,
  box: { x0: number; y0: number; x1: number; y1: number },
) {
  let dark = 0;
  let bluish = 0;
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const i = (y * img.width + x) * 4;
      const [r, g, b] = [img.rgba[i]!, img.rgba[i + 1]!, img.rgba[i + 2]!];
      if (r < 90 && g < 90 && b < 90) dark++;
      if (b > 150 && r < 120 && b - r > 60) bluish++;
    }
  }
  return { dark, bluish };
}

function sampleSummary() {
  const rand = seededRandom(3);
  const h = new ErrorHistogram();
  for (let i = 0; i < 5000; i++) h.add(-Math.log(1 - rand()) * 25);
  return h.summary()!;
}

describe('renderChartPng', () => {
  it('renders a 640x480 PNG with bars and legible (dark) title text', async () => {
    const png = await renderChartPng(buildErrorChartSpec(sampleSummary()));
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const img = decodePng(png);
    expect([img.width, img.height]).toEqual([640, 480]);
    // The title sits in the top-left band; with no usable font this band would be blank.
    const title = countPixels(img, { x0: 0, y0: 0, x1: 400, y1: 45 });
    expect(title.dark).toBeGreaterThan(300);
    const plot = countPixels(img, { x0: 0, y0: 60, x1: 640, y1: 480 });
    expect(plot.bluish).toBeGreaterThan(20_000);
  });

  it('renders at twice the size with scale 2', async () => {
    const img = decodePng(await renderChartPng(buildErrorChartSpec(sampleSummary()), { scale: 2 }));
    expect([img.width, img.height]).toEqual([1280, 960]);
  });

  it('renders the empty "waiting for rows" chart with its text and no bars', async () => {
    const img = decodePng(await renderChartPng(buildErrorChartSpec(undefined)));
    expect([img.width, img.height]).toEqual([640, 480]);
    const middle = countPixels(img, { x0: 160, y0: 200, x1: 480, y1: 280 });
    expect(middle.dark).toBeGreaterThan(100);
    expect(countPixels(img, { x0: 0, y0: 0, x1: 640, y1: 480 }).bluish).toBe(0);
  });

  it('draws the text of a chart that needs more than the Latin subsets (the full fonts come in)', async () => {
    const spec = buildErrorChartSpec(undefined, { source: '/дані/metric_log.csv' });
    const img = decodePng(await renderChartPng(spec));
    // The source line, below the "Waiting for rows" line, holds Cyrillic letters.
    expect(countPixels(img, { x0: 160, y0: 250, x1: 480, y1: 290 }).dark).toBeGreaterThan(50);
  });
});

describe('ChartRenderer', () => {
  it('draws each spec pixel for pixel as a fresh render does while it keeps the compiled chart', async () => {
    const rand = seededRandom(5);
    const summaries = [
      sampleSummary(),
      ...[40, 3, 1, 700].map((n) => {
        const h = new ErrorHistogram();
        for (let i = 0; i < n; i++) h.add(rand() < 0.9 ? rand() * 10 : 200 + rand() * 800);
        return h.summary()!;
      }),
    ];
    const specs = [
      ...summaries.map((s) => buildErrorChartSpec(s)),
      buildErrorChartSpec(undefined), // another shape in between: compiled anew, then back
      ...summaries.reverse().map((s) => buildErrorChartSpec(s)),
    ];
    const renderer = new ChartRenderer();
    try {
      for (const [i, spec] of specs.entries()) {
        // The SVG may list a mark's items in another order (kept items first); the picture is the same.
        const kept = await renderer.png(spec);
        expect(kept.equals(await renderChartPng(spec)), `chart ${i}`).toBe(true);
      }
    } finally {
      renderer.close();
    }
  });
});
