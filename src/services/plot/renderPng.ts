// Renders a Vega-Lite spec to PNG in Node: vega-lite compiles, vega draws SVG headless, resvg rasterises.
import { renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import { parse as parseVega, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { BUNDLED_FONT_FAMILY, findBundledFontFiles } from './chartFonts.js';

export interface RenderPngOptions {
  /** Pixel density: 1 gives the spec's size (640x480), 2 a sharper image of twice the width and height. */
  scale?: number;
  /** Font files to load; defaults to the ones shipped in assets/fonts. */
  fontFiles?: string[];
  /** Family used where the SVG names one that is not loaded (e.g. `sans-serif`). */
  defaultFontFamily?: string;
}

let bundledFonts: string[] | undefined;

function fontOptions(options: RenderPngOptions): NonNullable<ResvgRenderOptions['font']> {
  bundledFonts ??= findBundledFontFiles();
  const fontFiles = options.fontFiles ?? bundledFonts;
  const family = options.defaultFontFamily ?? BUNDLED_FONT_FAMILY;
  return {
    fontFiles,
    // Scanning system fonts costs ~30 ms per render; only fall back to it when no font file was given,
    // and then text still renders if the machine has any font at all.
    loadSystemFonts: fontFiles.length === 0,
    defaultFontFamily: family,
    sansSerifFamily: family,
  };
}

/** Vega-Lite spec to SVG text, with no DOM and no canvas. */
export async function renderChartSvg(spec: TopLevelSpec): Promise<string> {
  const vegaSpec = compile(spec).spec;
  const view = new View(parseVega(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Vega-Lite spec to PNG bytes. Rasterising runs off the event loop (resvg's thread pool). */
export async function renderChartPng(spec: TopLevelSpec, options: RenderPngOptions = {}): Promise<Buffer> {
  const svg = await renderChartSvg(spec);
  const scale = options.scale ?? 1;
  const image = await renderAsync(svg, {
    font: fontOptions(options),
    fitTo: scale === 1 ? { mode: 'original' } : { mode: 'zoom', value: scale },
    background: 'white',
    logLevel: 'off',
  });
  return image.asPng();
}
