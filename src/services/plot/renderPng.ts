// Renders a Vega-Lite spec to PNG in Node: vega-lite compiles, vega draws SVG headless, resvg rasterises.
import { renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import { parse as parseVega, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { BUNDLED_FONT_FAMILY, chartFontFiles } from './chartFonts.js';

export interface RenderPngOptions {
  /** Pixel density: 1 gives the spec's size (640x480), 2 a sharper image of twice the width and height. */
  scale?: number;
  /** Font files to load; defaults to the ones shipped in assets/fonts (their Latin subsets when they do). */
  fontFiles?: string[];
  /** Family used where the SVG names one that is not loaded (e.g. `sans-serif`). */
  defaultFontFamily?: string;
}

function fontOptions(svg: string, options: RenderPngOptions): NonNullable<ResvgRenderOptions['font']> {
  const fontFiles = options.fontFiles ?? chartFontFiles(svg);
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

/** A spec split into its parameter values, its inline datasets, and the rest (its shape, as text). */
interface SpecParts {
  shape: string;
  params: Record<string, unknown>;
  datasets: Record<string, unknown[]>;
}

function partsOf(spec: TopLevelSpec): SpecParts {
  const { params, datasets, ...rest } = spec as TopLevelSpec & {
    params?: { name: string; value?: unknown }[];
    datasets?: Record<string, unknown[]>;
  };
  const values: Record<string, unknown> = {};
  const shapeParams = (params ?? []).map(({ value, ...param }) => {
    values[param.name] = value;
    return param;
  });
  return {
    shape: JSON.stringify({ ...rest, params: shapeParams, datasets: Object.keys(datasets ?? {}) }),
    params: values,
    datasets: datasets ?? {},
  };
}

/**
 * Draws charts one after another, keeping the compiled chart (Vega-Lite's compile, Vega's parse and
 * dataflow: about a third of a redraw's CPU) while successive specs differ only in parameter values and
 * inline datasets, as buildErrorChartSpec's do; a spec of another shape is compiled anew. Not for
 * concurrent use: await each drawing before the next.
 */
export class ChartRenderer {
  private current: { shape: string; view: View } | undefined;

  /** The spec as SVG text, with no DOM and no canvas. */
  async svg(spec: TopLevelSpec): Promise<string> {
    const parts = partsOf(spec);
    if (this.current?.shape === parts.shape) {
      const { view } = this.current;
      for (const [name, values] of Object.entries(parts.datasets)) view.data(name, values);
      for (const [name, value] of Object.entries(parts.params)) view.signal(name, value);
      await view.runAsync();
    } else {
      this.close();
      const view = new View(parseVega(compile(spec).spec), { renderer: 'none' });
      this.current = { shape: parts.shape, view };
    }
    return this.current.view.toSVG();
  }

  /** The spec as PNG bytes. Rasterising runs off the event loop (resvg's thread pool). */
  async png(spec: TopLevelSpec, options: RenderPngOptions = {}): Promise<Buffer> {
    const svg = await this.svg(spec);
    const scale = options.scale ?? 1;
    const image = await renderAsync(svg, {
      font: fontOptions(svg, options),
      fitTo: scale === 1 ? { mode: 'original' } : { mode: 'zoom', value: scale },
      background: 'white',
      logLevel: 'off',
    });
    return image.asPng();
  }

  /** Releases the kept chart. */
  close(): void {
    this.current?.view.finalize();
    this.current = undefined;
  }
}

/** Vega-Lite spec to SVG text, with no DOM and no canvas. */
export async function renderChartSvg(spec: TopLevelSpec): Promise<string> {
  const renderer = new ChartRenderer();
  try {
    return await renderer.svg(spec);
  } finally {
    renderer.close();
  }
}

/** Vega-Lite spec to PNG bytes, once (ChartRenderer keeps the compiled chart for the next one). */
export async function renderChartPng(spec: TopLevelSpec, options: RenderPngOptions = {}): Promise<Buffer> {
  const renderer = new ChartRenderer();
  try {
    return await renderer.png(spec, options);
  } finally {
    renderer.close();
  }
}
