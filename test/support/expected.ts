// What a correct row is, computed independently of the services: the dataset row and the model's prediction.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadModelFromBytes } from '../../src/services/model/loadModel.js';
import { parseDataset, type Dataset } from '../../src/services/features/dataset.js';
import { parsePublishedLogLine } from '../../src/services/features/publishedLog.js';
import { REPO_ROOT } from './processes.js';

export function diabetes(): Dataset {
  const file = path.join(REPO_ROOT, 'data', 'diabetes.csv');
  return parseDataset(readFileSync(file, 'utf8'), { target: 'target', source: file });
}

export function defaultModel() {
  return loadModelFromBytes(readFileSync(path.join(REPO_ROOT, 'models', 'myfile.pkl')), 'myfile.pkl');
}

export interface CsvRow {
  id: string;
  y_true: string;
  y_pred: string;
  absolute_error: string;
}

export function readMetricCsv(file: string): CsvRow[] {
  return parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as CsvRow[];
}

/** The `sent` lines of a features --published-log, as id (CSV form) -> row index. */
export function publishedRows(file: string): Map<string, number> {
  const rows = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const parsed = parsePublishedLogLine(line);
    if (parsed?.kind === 'sent') rows.set(String(JSON.parse(parsed.idJson)), parsed.row);
  }
  return rows;
}

export function relClose(a: number, b: number, rel = 1e-9): boolean {
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}
