// Locations inside the installed package (works from src/ under a test runner and from dist/).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const DEFAULT_DATASET = path.join(PACKAGE_ROOT, 'data', 'diabetes.csv');
export const DEFAULT_MODEL = path.join(PACKAGE_ROOT, 'models', 'myfile.pkl');
export const CLI_ENTRY = path.join(PACKAGE_ROOT, 'dist', 'cli.js');

/** The version in package.json (what `predstream --version` prints). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}
