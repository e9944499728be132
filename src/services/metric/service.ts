// The metric service: joins y_true and y_pred by id and appends rows durably, acking after each group commit.
import path from 'node:path';
import { startConsumer } from '../../broker/consumer.js';
import { HEADER_PUBLISHED_AT } from '../../contract/wire.js';
import type { ConfigOf } from '../../config/options.js';
import type { Logger } from '../../util/logger.js';
import type { Shutdown } from '../../util/shutdown.js';
import { wallClockNow } from '../../util/wallClock.js';
import { METRIC_STATUS_FILE, type MetricStatus } from '../../contract/status.js';
import { writeFileAtomic } from '../../util/atomicWrite.js';
import { startBrokerRuntime } from '../runtime.js';
import { LatencyWindow } from './latencyWindow.js';
import { createGroupCommit } from './groupCommit.js';
import type { JoinOutcome, LabelQueue } from './join.js';
import { MetricStoreError } from './errors.js';
import { METRIC_LOG_FILE_NAME, MetricStore } from './metricStore.js';
import { RowLatencyLog } from './rowLatencyLog.js';

const EXPIRE_BATCH = 10_000;

/**
 * Commits waiting for their disk sync at once. The store commits a group synchronously and shares one
 * WAL sync among all groups committed before it began, so the next group need not wait for the
 * previous one's sync; this only bounds the memory of a stalled disk.
 */
const MAX_BATCHES_IN_FLIGHT = 16;

export async function runMetricService(
  config: ConfigOf<'metric'>,
  log: Logger,
  shutdown: Shutdown,
): Promise<void> {
  const store = await MetricStore.open(config.logs, {
    log: { info: (m: string) => log.info(m), warn: (m: string) => log.warn(m) },
    walSyncIntervalMs: config.syncInterval,
  });
  shutdown.add('metric store', () => store.close());
  // Closed after the consumers (steps run in reverse), so the last batches' lines are in it.
  const rowLatency = config.rowLatencyLog
    ? await RowLatencyLog.open(config.rowLatencyLog, (m) => log.warn(m))
    : undefined;
  if (rowLatency) shutdown.add('row latency log', () => rowLatency.close());
  const csvPath = path.join(config.logs, METRIC_LOG_FILE_NAME);
  log.info(
    { rows: store.rowsWritten(), pending: store.pendingCount() },
    `appending to ${csvPath} (${store.rowsWritten()} rows so far, ${store.pendingCount()} halves waiting)`,
  );

  const rt = await startBrokerRuntime('metric', config, log, shutdown);
  const { metrics } = rt;
  metrics.joinPending.set(store.pendingCount());
  metrics.csvBytes.set(store.csvBytes());

  const latencies = new LatencyWindow(1000);
  let expired = 0;
  let duplicates = 0;
  // Halves are joined (and rows written) as they arrive; a group commit makes them durable, then acks them.
  const commit = createGroupCommit<JoinOutcome, JoinOutcome>({
    maxSize: config.batchSize,
    maxWaitMs: config.batchWait,
    maxInFlight: MAX_BATCHES_IN_FLIGHT,
    async flush(outcomes) {
      // Covers every half joined before this call, so all of this batch's.
      await store.commit();
      metrics.joinPending.set(store.pendingCount());
      metrics.csvBytes.set(store.csvBytes());
      return outcomes;
    },
  });

  const handleHalf =
    (queue: LabelQueue) =>
    async (
      message: { id: string | number; body: number },
      delivery: { receivedAt: number; headers: Record<string, unknown> },
    ) => {
      // Only a positive number: Number(null), Number('') or Number(true) would pass for a time.
      const header = delivery.headers[HEADER_PUBLISHED_AT];
      const publishedAt =
        typeof header === 'number' && header > 0 && Number.isFinite(header) ? header : undefined;
      const joined = store.join({
        queue,
        id: message.id,
        value: message.body,
        receivedAt: delivery.receivedAt,
      });
      if (joined.kind === 'matched') {
        // The row is in metric_log.csv now; it is acked (and counts for the latency metric) once durable.
        if (rowLatency && publishedAt !== undefined) rowLatency.add(joined.key, publishedAt, wallClockNow());
        metrics.rowsWritten.inc();
      }
      const outcome = await commit.submit(joined);
      if (outcome.kind === 'conflict') return { deadLetter: outcome.reason };
      if (outcome.kind === 'duplicate') {
        duplicates += 1;
        metrics.joinDuplicates.inc({ queue });
      }
      if (outcome.kind === 'matched') {
        if (publishedAt !== undefined) {
          const ms = wallClockNow() - publishedAt;
          metrics.endToEndSeconds.observe(ms / 1000);
          latencies.add(ms);
        }
      }
      return undefined;
    };

  const consumers = (['y_true', 'y_pred'] as const).map((queue) => {
    const consumer = startConsumer({
      conn: rt.conn,
      queue: rt.topology.queues[queue],
      prefetch: config.prefetch,
      maxAttempts: config.maxAttempts,
      deadLetters: rt.deadLetters,
      retryPublisher: rt.publisher,
      log,
      metrics,
      // A failed store (a full disk, say) is not the message's fault: sent back, never dead-lettered for it.
      isServiceFault: (err) => err instanceof MetricStoreError,
      handle: handleHalf(queue),
    });
    consumer.on('ready', () => log.info({ queue: rt.topology.queues[queue].name }, `consuming ${queue}`));
    return consumer;
  });
  rt.setWorking(true);
  // Consumers close first (their handlers settle after the last group commit), then the store.
  shutdown.add('consumers', async () => {
    try {
      await Promise.all(consumers.map((c) => c.close()));
    } finally {
      await commit.drain();
    }
  });

  const ttlMs = config.joinTtl * 1000;
  const sweep = setInterval(
    () => {
      // In slices, so a million expired halves never hold the event loop for long.
      let dropped = 0;
      let n: number;
      try {
        do {
          n = store.expire(Date.now(), ttlMs, EXPIRE_BATCH);
          dropped += n;
        } while (n === EXPIRE_BATCH);
      } catch {
        return; // the store has failed: `store.failed` stops the service, with the cause
      }
      if (dropped > 0) {
        expired += dropped;
        metrics.joinExpired.inc(dropped);
        metrics.joinPending.set(store.pendingCount());
        log.warn(`dropped ${dropped} halves that found no partner within ${config.joinTtl} s (--join-ttl)`);
      }
    },
    Math.min(ttlMs / 10, 5_000),
  );
  sweep.unref();
  shutdown.add('ttl sweep', () => clearInterval(sweep));

  // The dashboard (plot service) reads this file: pending halves, dead letters, latency.
  const statusPath = path.join(config.logs, METRIC_STATUS_FILE);
  const writeStatus = async () => {
    const deadLetters: Record<string, number> = {};
    for (const q of Object.values(rt.topology.queues)) {
      try {
        deadLetters[q.logical] = (
          await rt.conn.queueDeclare({ queue: q.deadLetterQueue, passive: true })
        ).messageCount;
      } catch {
        // not reachable right now; the next status has it
      }
    }
    const status: MetricStatus = {
      updatedAt: Date.now(),
      rowsWritten: store.rowsWritten(),
      pending: store.pendingCount(),
      expired,
      duplicates,
      deadLetters,
      latencyMs: latencies.summary(),
    };
    await writeFileAtomic(statusPath, Buffer.from(JSON.stringify(status)));
  };
  let statusBusy = false;
  const statusTimer = setInterval(() => {
    if (statusBusy) return;
    statusBusy = true;
    writeStatus()
      .catch((err: unknown) => log.debug(`cannot write ${statusPath}: ${String(err)}`))
      .finally(() => (statusBusy = false));
  }, 1_000);
  statusTimer.unref();
  shutdown.add('status file', () => clearInterval(statusTimer));
  // A failed disk sync may have lost writes silently: stop without acking more, restart, and repair.
  const failed = await Promise.race([shutdown.requested.then(() => undefined), store.failed]);
  if (failed) {
    log.fatal({ err: failed.message }, failed.message);
    throw failed;
  }
}
