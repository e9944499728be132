// The features service: publishes y_true then features for each picked row under one id, with confirms.
import { closeSync, openSync, writeSync } from 'node:fs';
import { HEADER_PUBLISHED_AT, encodeMessage, idKey } from '../../contract/wire.js';
import type { ConfigOf } from '../../config/options.js';
import type { Logger } from '../../util/logger.js';
import { DEFAULT_DATASET } from '../../util/paths.js';
import type { Shutdown } from '../../util/shutdown.js';
import { wallClockNow } from '../../util/wallClock.js';
import { startBrokerRuntime } from '../runtime.js';
import { loadDataset } from './dataset.js';
import { createIdGenerator } from './messageIds.js';
import { createPacer } from './pacer.js';
import { formatOkLine, formatSentLine } from './publishedLog.js';
import { createRowPicker } from './rowPicker.js';

const PROGRESS_EVERY_MS = 5_000;
const PUBLISH_RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000];

/** Appends a `sent` line before a publish and an `ok` line after its confirm, synchronously (survives a kill). */
class PublishedLog {
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'a');
  }
  line(text: string): void {
    writeSync(this.fd, text);
  }
  close(): void {
    closeSync(this.fd);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runFeaturesService(
  config: ConfigOf<'features'>,
  log: Logger,
  shutdown: Shutdown,
): Promise<void> {
  const datasetPath = config.dataset ?? DEFAULT_DATASET;
  const dataset = await loadDataset(datasetPath, config.target);
  const picker = createRowPicker(dataset.rows, config.seed);
  const ids = createIdGenerator();
  log.info(
    { dataset: datasetPath, rows: dataset.rows, features: dataset.featureNames.length, seed: picker.seed },
    `dataset ${datasetPath}: ${dataset.rows} rows x ${dataset.featureNames.length} features; seed ${picker.seed}` +
      ` (pass --seed ${picker.seed} to replay this order); ids ${ids.runTag}-<n>`,
  );
  const rt = await startBrokerRuntime('features', config, log, shutdown);
  const { features: featuresQueue, y_true: yTrueQueue } = rt.topology.queues;
  const journal = config.publishedLog ? new PublishedLog(config.publishedLog) : undefined;
  rt.setWorking(true);

  const abort = new AbortController();
  void shutdown.requested.then(() => abort.abort());
  const pacer = createPacer(config.rate);
  // A count and one waiter: Promise.race over an in-flight set would cost O(maxInFlight) per row.
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  let allSettled: (() => void) | undefined;
  let sent = 0;
  let confirmed = 0;
  let failed = 0;

  /** Publishes both halves of one row; retries (same id, so the metric service dedups) until confirmed. */
  const publishRow = async (row: number): Promise<void> => {
    const id = ids.next();
    // Sub-ms, so the metric's publish-to-row latency (--row-latency-log) is not rounded up to whole ms.
    const publishedAt = wallClockNow();
    const headers = { [HEADER_PUBLISHED_AT]: publishedAt };
    journal?.line(formatSentLine(idKey(id), row, Math.floor(publishedAt)));
    for (let attempt = 0; ; attempt++) {
      try {
        // The original publishes y_true first, then features; confirms for both are awaited together.
        await Promise.all([
          rt.publisher.publish(yTrueQueue.name, encodeMessage<'y_true'>(id, dataset.y[row]!), { headers }),
          rt.publisher.publish(featuresQueue.name, encodeMessage<'features'>(id, dataset.X[row]!), {
            headers,
          }),
        ]);
        break;
      } catch (err) {
        const delay = PUBLISH_RETRY_DELAYS_MS[attempt];
        if (delay === undefined || abort.signal.aborted) {
          failed += 1;
          log.error({ id, err: String(err) }, `row ${id} could not be published; giving up on it`);
          return;
        }
        log.warn({ id, attempt: attempt + 1, err: String(err) }, `publish of ${id} failed; retrying`);
        await sleep(delay);
      }
    }
    confirmed += 1;
    rt.metrics.published.inc({ queue: 'y_true' });
    rt.metrics.published.inc({ queue: 'features' });
    journal?.line(formatOkLine(idKey(id)));
  };

  const started = Date.now();
  let lastProgress = started;
  let lastConfirmed = 0;
  while (!abort.signal.aborted && (config.count === 0 || sent < config.count)) {
    try {
      await pacer.wait(abort.signal);
    } catch {
      break;
    }
    while (inFlight >= config.maxInFlight) await new Promise<void>((r) => (slotFreed = r));
    if (abort.signal.aborted) break;
    sent += 1;
    inFlight += 1;
    void publishRow(picker.next()).finally(() => {
      inFlight -= 1;
      slotFreed?.();
      slotFreed = undefined;
      if (inFlight === 0) allSettled?.();
    });
    const now = Date.now();
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      const rate = ((confirmed - lastConfirmed) * 1000) / (now - lastProgress);
      log.info(
        { sent, confirmed, inFlight, rate: Math.round(rate) },
        `published ${confirmed} rows${config.count ? ` of ${config.count}` : ''} (${rate.toFixed(1)} rows/s)`,
      );
      lastProgress = now;
      lastConfirmed = confirmed;
    }
  }
  if (inFlight > 0) await new Promise<void>((r) => (allSettled = r));
  journal?.close();
  const seconds = (Date.now() - started) / 1000;
  log.info(
    { confirmed, failed, seconds },
    `done: ${confirmed} rows published and confirmed in ${seconds.toFixed(1)} s` +
      (failed ? `; ${failed} rows could not be published` : ''),
  );
  if (failed > 0) throw new Error(`${failed} rows could not be published (see the errors above)`);
}
