// The files the dashboard serves, as a fixed table of URL path -> file built at start: a request never names a path on disk.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface StaticFile {
  file: string;
  contentType: string;
}

export type StaticRoutes = ReadonlyMap<string, StaticFile>;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file for a request target (`/dashboard.js?v=2`), or undefined. The path is percent-decoded and must
 * match a table entry exactly, so `..`, encoded slashes or absolute paths can only miss.
 */
export function lookupStatic(routes: StaticRoutes, target: string): StaticFile | undefined {
  const rawPath = target.split(/[?#]/, 1)[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  return routes.get(decoded);
}

/** The browser builds of the chart libraries, as installed with predstream: URL name -> file. */
export const VENDOR_BUNDLES = {
  'vega.min.js': { pkg: 'vega', file: 'build/vega.min.js' },
  'vega-lite.min.js': { pkg: 'vega-lite', file: 'build/vega-lite.min.js' },
  'vega-embed.min.js': { pkg: 'vega-embed', file: 'build/vega-embed.min.js' },
} as const;

// A package's `exports` hide its build folder from require.resolve, so resolve its entry point and
// walk up to the folder whose package.json carries its name.
function packageRoot(pkg: string, require: NodeJS.Require): string {
  let dir = path.dirname(require.resolve(pkg));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (json.name === pkg) return dir;
    } catch {
      // no package.json here; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(
        `cannot find the folder of the installed package ${pkg}: reinstall predstream (npm ci)`,
      );
    dir = parent;
  }
}

/** Absolute paths of the vendor bundles; throws naming the package when one is missing. */
export function findVendorBundles(fromUrl: string = import.meta.url): Record<string, string> {
  const require = createRequire(fromUrl);
  const out: Record<string, string> = {};
  for (const [name, { pkg, file }] of Object.entries(VENDOR_BUNDLES)) {
    const full = path.join(packageRoot(pkg, require), file);
    if (!statSync(full, { throwIfNoEntry: false })?.isFile()) {
      throw new Error(
        `the browser build ${file} of ${pkg} is missing (looked in ${full}): reinstall predstream (npm ci)`,
      );
    }
    out[name] = full;
  }
  return out;
}

export interface StaticRoutesOptions {
  /** Folder of the page (index.html, its CSS and script); flat, every file is served under `/`. */
  pageDir: string;
  /** Font files, served under `/fonts/<file name>` for the page's @font-face rules. */
  fontFiles: readonly string[];
  /** URL name -> file, served under `/vendor/`. */
  vendor: Readonly<Record<string, string>>;
}

export function buildStaticRoutes(opts: StaticRoutesOptions): StaticRoutes {
  const routes = new Map<string, StaticFile>();
  let entries: string[];
  try {
    entries = readdirSync(opts.pageDir);
  } catch (err) {
    throw new Error(
      `cannot read the dashboard page in ${opts.pageDir} (${(err as Error).message}): reinstall predstream, or turn the dashboard off with --http-port 0`,
    );
  }
  for (const name of entries) {
    const file = path.join(opts.pageDir, name);
    if (!statSync(file).isFile()) continue;
    routes.set(`/${name}`, { file, contentType: contentTypeOf(file) });
  }
  const index = routes.get('/index.html');
  if (!index)
    throw new Error(
      `the dashboard page ${path.join(opts.pageDir, 'index.html')} is missing: reinstall predstream`,
    );
  routes.set('/', index);
  for (const file of opts.fontFiles) {
    routes.set(`/fonts/${path.basename(file)}`, { file, contentType: contentTypeOf(file) });
  }
  for (const [name, file] of Object.entries(opts.vendor)) {
    routes.set(`/vendor/${name}`, { file, contentType: contentTypeOf(file) });
  }
  return routes;
}
