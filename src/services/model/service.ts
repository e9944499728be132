// The model service: consumes `features`, predicts, publishes `y_pred` under the same id, acks after the confirm.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { startConsumer } from '../../broker/consumer.js';
import { HEADER_PUBLISHED_AT, encodeMessage } from '../../contract/wire.js';
import type { ConfigOf } from '../../config/options.js';
import type { Logger } from '../../util/logger.js';
import { DEFAULT_MODEL } from '../../util/paths.js';
import type { Shutdown } from '../../util/shutdown.js';
import { startBrokerRuntime } from '../runtime.js';
import { loadModel, type RegressionModel } from './loadModel.js';

/** Reads a model file, with errors that say which file and what to do. */
export async function loadModelFile(path: string | undefined): Promise<RegressionModel> {
  const file = path ?? DEFAULT_MODEL;
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `model file not found: ${file} (pass --model PATH or set MODEL_PATH)`
        : `cannot read model file ${file}: ${String(err)}`,
    );
  }
  return loadModel(bytes, file);
}

export async function runModelService(
  config: ConfigOf<'model'>,
  log: Logger,
  shutdown: Shutdown,
): Promise<void> {
  const model = await loadModelFile(config.model);
  log.info({ model: model.describe() }, `model loaded: ${model.describe()}`);
  const rt = await startBrokerRuntime('model', config, log, shutdown);
  const yPred = rt.topology.queues.y_pred;
  const consumer = startConsumer({
    conn: rt.conn,
    queue: rt.topology.queues.features,
    prefetch: config.prefetch,
    maxAttempts: config.maxAttempts,
    deadLetters: rt.deadLetters,
    retryPublisher: rt.publisher,
    log,
    metrics: rt.metrics,
    async handle(message, delivery) {
      if (message.body.length !== model.nFeatures) {
        return {
          deadLetter: `features vector has ${message.body.length} values, the model expects ${model.nFeatures}`,
        };
      }
      const t0 = performance.now();
      const prediction = await model.predict(message.body);
      rt.metrics.inferenceSeconds.observe((performance.now() - t0) / 1000);
      if (!Number.isFinite(prediction)) {
        return {
          deadLetter: `the model produced a non-finite prediction (${prediction}) for these features`,
        };
      }
      const publishedAt = delivery.headers[HEADER_PUBLISHED_AT];
      await rt.publisher.publish(yPred.name, encodeMessage<'y_pred'>(message.id, prediction), {
        headers: publishedAt === undefined ? {} : { [HEADER_PUBLISHED_AT]: publishedAt },
      });
      rt.metrics.published.inc({ queue: 'y_pred' });
    },
  });
  consumer.on('ready', () => {
    rt.setWorking(true);
    log.info({ queue: rt.topology.queues.features.name }, 'consuming features');
  });
  shutdown.add('consumer', () => consumer.close());
  await shutdown.requested;
}
