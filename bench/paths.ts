// Where things are: the package root, the built CLI, the compiled ceiling processes, the bundled data.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// Compiled to bench/out/bench/, three levels below the package root.
export const ROOT = path.resolve(HERE, '..', '..', '..');
/** The services under test; BENCH_CLI points at another build (e.g. one with a fix, to compare). */
export const CLI = process.env.BENCH_CLI
  ? path.resolve(process.env.BENCH_CLI)
  : path.join(ROOT, 'dist', 'cli.js');
export const DATASET = path.join(ROOT, 'data', 'diabetes.csv');
export const RESULTS_FILE = path.join(ROOT, 'bench', 'results.json');
export const ceilingScript = (role: 'producer' | 'forwarder' | 'joiner') =>
  path.join(HERE, 'ceiling', `${role}.js`);

/** True when the built CLI has the plot service (it may be missing while it is being written). */
export function plotServiceBuilt(): boolean {
  return existsSync(path.join(path.dirname(CLI), 'services', 'plot', 'service.js'));
}
