// Ceiling joiner: consumes y_true and y_pred and counts matched ids in memory, acking at once.
import { startConsumer } from '../../src/broker/consumer.js';
import { HEADER_PUBLISHED_AT, idKey } from '../../src/contract/wire.js';
import { nowMs } from '../follow.js';
import { SamplesBySeq, answerStats, seqOf, tellParent } from './protocol.js';
import { SERVICE_DEFAULTS, finish, startCeilingProcess } from './runtime.js';

const { rt, log, shutdown } = await startCeilingProcess('metric');
const pending = new Set<string>();
let matched = 0;
// Publish-to-match latency per matched row, with its sequence number (to leave out the warm-up).
const latency = new SamplesBySeq();

answerStats((fromSeq) => ({ atMs: nowMs(), count: matched, latencyMs: latency.after(fromSeq) }));

let ready = 0;
const consumers = (['y_true', 'y_pred'] as const).map((queue) => {
  const consumer = startConsumer({
    conn: rt.conn,
    queue: rt.topology.queues[queue],
    prefetch: SERVICE_DEFAULTS.prefetch,
    maxAttempts: SERVICE_DEFAULTS.maxAttempts,
    deadLetters: rt.deadLetters,
    retryPublisher: rt.publisher,
    log,
    metrics: rt.metrics,
    handle(message, delivery) {
      const key = idKey(message.id);
      if (!pending.delete(key)) {
        pending.add(key);
        return;
      }
      matched += 1;
      const publishedAt = Number(delivery.headers[HEADER_PUBLISHED_AT]);
      if (Number.isFinite(publishedAt)) {
        latency.add(seqOf(message.id), nowMs() - publishedAt);
      }
    },
  });
  consumer.on('ready', () => {
    ready += 1;
    if (ready === 2) tellParent({ type: 'ready' });
  });
  return consumer;
});
shutdown.add('consumers', async () => {
  await Promise.all(consumers.map((c) => c.close()));
});
await shutdown.requested;
await finish(shutdown, log);
