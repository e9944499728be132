// The whole pipeline as a user runs it: `predstream up --count 500 --rate max` into a temporary logs folder.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupPrefix, openTestConnection } from '../support/broker.js';
import { defaultModel, diabetes, publishedRows, readMetricCsv, relClose } from '../support/expected.js';
import { runUpToEnd } from '../support/processes.js';
import { brokerTestScope } from '../support/scope.js';

const ROWS = 500;

describe('predstream up, end to end', () => {
  const { prefix, logs } = brokerTestScope('e2e');

  it(`writes exactly ${ROWS} correct rows, the labels log and a PNG, then exits 0`, async () => {
    const journal = path.join(logs, 'published.log');
    const { code, output } = await runUpToEnd({ prefix, logs, rows: ROWS, journal });
    expect(code, output).toBe(0);

    const rows = readMetricCsv(path.join(logs, 'metric_log.csv'));
    expect(rows).toHaveLength(ROWS);
    expect(new Set(rows.map((r) => r.id)).size).toBe(ROWS);

    const data = diabetes();
    const model = defaultModel();
    const rowOf = publishedRows(journal);
    for (const r of rows) {
      const index = rowOf.get(r.id);
      expect(index, `id ${r.id} was never published`).toBeDefined();
      const yTrue = Number(r.y_true);
      const yPred = Number(r.y_pred);
      expect(yTrue).toBe(data.y[index!]);
      expect(relClose(yPred, model.predict(data.X[index!]!))).toBe(true);
      expect(Number(r.absolute_error)).toBe(Math.abs(yTrue - yPred));
    }

    const labels = readFileSync(path.join(logs, 'labels_log.txt'), 'utf8').split('\n').filter(Boolean);
    expect(labels).toHaveLength(3 * ROWS); // y_true received, y_pred received, row written: per id
    expect(labels.filter((l) => l.includes(' queue=y_true ')).length).toBe(ROWS);
    expect(labels.filter((l) => l.includes(' queue=y_pred ')).length).toBe(ROWS);

    const png = readFileSync(path.join(logs, 'error_distribution.png'));
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(
      true,
    );
    expect(png.readUInt32BE(16)).toBe(640); // IHDR width
    expect(png.readUInt32BE(20)).toBe(480); // IHDR height
    expect(statSync(path.join(logs, 'error_distribution.png')).size).toBeGreaterThan(5_000);
  });

  it('leaves no queue of the run behind after clean-up', async () => {
    await cleanupPrefix(prefix);
    const conn = await openTestConnection();
    try {
      await expect(conn.queueDeclare({ queue: `${prefix}features`, passive: true })).rejects.toThrow(
        /NOT_FOUND/,
      );
    } finally {
      await conn.close();
    }
  });
});
