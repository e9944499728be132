// Locations inside the installed package (works from src/ under a test runner and from dist/).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const DEFAULT_DATASET = path.join(PACKAGE_ROOT, 'data', 'diabetes.csv');
export const DEFAULT_MODEL = path.join(PACKAGE_ROOT, 'models', 'myfile.pkl');
export const CLI_ENTRY = path.join(PACKAGE_ROOT, 'dist', 'cli.js');
