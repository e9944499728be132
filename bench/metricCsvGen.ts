// Writes metric_log.csv text as the metric service does (header, then id,y_true,y_pred,absolute_error rows).
import { appendFileSync, writeFileSync } from 'node:fs';

const HEADER = 'id,y_true,y_pred,absolute_error\n';
const CHUNK_ROWS = 20_000;

/** Deterministic rows `bench-<n>` for n in [from, to): y_true like the diabetes target, y_pred near it. */
export function metricRows(from: number, to: number): string {
  let text = '';
  for (let n = from; n < to; n++) {
    // A cheap hash of n gives varied but reproducible values with full float precision.
    const h = Math.sin(n * 12.9898) * 43758.5453;
    const u = h - Math.floor(h);
    const yTrue = 25 + ((n * 7919) % 322);
    const yPred = yTrue + (u - 0.5) * 120;
    text += `bench-${n},${yTrue},${yPred},${Math.abs(yTrue - yPred)}\n`;
  }
  return text;
}

/** Creates `file` with the header and `rows` rows. */
export function writeMetricCsv(file: string, rows: number): void {
  writeFileSync(file, HEADER);
  for (let n = 0; n < rows; n += CHUNK_ROWS)
    appendFileSync(file, metricRows(n, Math.min(rows, n + CHUNK_ROWS)));
}
