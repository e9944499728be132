import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildStaticRoutes,
  contentTypeOf,
  findVendorBundles,
  lookupStatic,
  VENDOR_BUNDLES,
} from './staticRoutes.js';

describe('static routes', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'predstream-static-'));
  const pageDir = path.join(root, 'page');
  mkdirSync(path.join(pageDir, 'sub'), { recursive: true });
  writeFileSync(path.join(pageDir, 'index.html'), '<!doctype html>');
  writeFileSync(path.join(pageDir, 'app.js'), '1');
  writeFileSync(path.join(pageDir, 'sub', 'hidden.js'), '2');
  writeFileSync(path.join(root, 'secret.txt'), 'secret');
  const font = path.join(root, 'Font.ttf');
  writeFileSync(font, 'ttf');
  const routes = buildStaticRoutes({
    pageDir,
    fontFiles: [font],
    vendor: { 'lib.min.js': path.join(root, 'lib.js') },
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('maps the page folder, the fonts and the vendor files to fixed URL paths', () => {
    expect([...routes.keys()].sort()).toEqual([
      '/',
      '/app.js',
      '/fonts/Font.ttf',
      '/index.html',
      '/vendor/lib.min.js',
    ]);
    expect(lookupStatic(routes, '/')?.file).toBe(path.join(pageDir, 'index.html'));
    expect(lookupStatic(routes, '/app.js?v=3#x')?.file).toBe(path.join(pageDir, 'app.js'));
    expect(lookupStatic(routes, '/%61pp.js')?.file).toBe(path.join(pageDir, 'app.js'));
    expect(lookupStatic(routes, '/fonts/Font.ttf')?.contentType).toBe('font/ttf');
  });

  it('finds nothing outside the table, however the path is spelled', () => {
    for (const target of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/fonts/../../secret.txt',
      '/fonts/..%2F..%2Fsecret.txt',
      `/${root}/secret.txt`,
      '//secret.txt',
      '/sub/hidden.js',
      '/app.js%00.html',
      '/%E0%A4%A',
      '/APP.JS',
      '',
    ]) {
      expect(lookupStatic(routes, target), target).toBeUndefined();
    }
  });

  it('says what is missing when the page folder or its index.html is', () => {
    expect(() => buildStaticRoutes({ pageDir: path.join(root, 'nope'), fontFiles: [], vendor: {} })).toThrow(
      /cannot read the dashboard page .*--http-port 0/,
    );
    const noIndex = path.join(root, 'noindex');
    mkdirSync(noIndex);
    expect(() => buildStaticRoutes({ pageDir: noIndex, fontFiles: [], vendor: {} })).toThrow(
      /index.html is missing/,
    );
  });

  it('types files by extension', () => {
    expect(contentTypeOf('a.HTML')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('a.js')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeOf('a.css')).toBe('text/css; charset=utf-8');
    expect(contentTypeOf('a.svg')).toBe('image/svg+xml');
    expect(contentTypeOf('a.unknown')).toBe('application/octet-stream');
  });
});

describe('findVendorBundles', () => {
  it('finds the installed browser builds, which define the globals the page uses', () => {
    const bundles = findVendorBundles();
    expect(Object.keys(bundles).sort()).toEqual(Object.keys(VENDOR_BUNDLES).sort());
    // UMD builds: each assigns its global when loaded by a <script> tag.
    const globals: Record<string, string> = {
      'vega.min.js': '.vega={}',
      'vega-lite.min.js': '.vegaLite={}',
      'vega-embed.min.js': '.vegaEmbed=',
    };
    for (const [name, file] of Object.entries(bundles)) {
      const head = readFileSync(file, 'utf8').slice(0, 1000);
      expect(head, name).toContain(globals[name]);
    }
  });

  it('carries the version the server-side renderer uses, so the browser and the PNG draw alike', async () => {
    const bundles = findVendorBundles();
    const pkgOf = (file: string) =>
      JSON.parse(readFileSync(path.join(path.dirname(file), '..', 'package.json'), 'utf8')) as {
        version: string;
      };
    const { version: vegaLiteVersion } = await import('vega-lite');
    expect(pkgOf(bundles['vega-lite.min.js']!).version).toBe(vegaLiteVersion);
  });
});
