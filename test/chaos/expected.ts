// What metric_log.csv must hold for a dataset row: its target, and the bundled model's prediction for it.
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { loadModelFromBytes } from '../../src/services/model/loadModel.js';
import type { Expected } from './accounting.js';

/**
 * Reads the dataset with csv-parse directly (not through the features service's parser, so a bug
 * there shows up as wrong rows) and predicts every row once with the model.
 */
export async function loadExpected(
  datasetPath: string,
  modelPath: string,
  target = 'target',
): Promise<(row: number) => Expected | undefined> {
  const records = parse(await readFile(datasetPath, 'utf8'), { skip_empty_lines: true }) as string[][];
  const [header, ...body] = records;
  const yAt = header?.indexOf(target) ?? -1;
  if (yAt < 0) throw new Error(`${datasetPath} has no column '${target}'`);
  const model = loadModelFromBytes(await readFile(modelPath), modelPath);
  const table = body.map((cells) => {
    const numbers = cells.map(Number);
    return { yTrue: numbers[yAt] as number, yPred: model.predict(numbers.filter((_, i) => i !== yAt)) };
  });
  return (row) => table[row];
}
