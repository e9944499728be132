// `predstream predict`: scores JSON feature arrays from stdin without a broker, to check a model by hand.
import { createInterface } from 'node:readline';
import type { ConfigOf } from '../../config/options.js';
import type { Logger } from '../../util/logger.js';
import type { Shutdown } from '../../util/shutdown.js';
import { predictLine } from './predictLines.js';
import { loadModelFile } from './service.js';

export async function runPredictCommand(
  config: ConfigOf<'predict'>,
  log: Logger,
  _shutdown: Shutdown,
  input: NodeJS.ReadableStream = process.stdin,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<void> {
  const model = await loadModelFile(config.model);
  log.debug(`model: ${model.describe()}`);
  let lineNumber = 0;
  let failures = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    lineNumber += 1;
    const result = await predictLine(model, text, lineNumber);
    if (!result) continue;
    if (result.ok) out.write(`${result.text}\n`);
    else {
      failures += 1;
      err.write(`predstream predict: ${result.error}\n`);
    }
  }
  if (failures > 0) throw new Error(`${failures} line(s) could not be scored`);
}
