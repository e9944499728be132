// Ceiling joiner: consumes y_true and y_pred and counts matched ids in memory, acking at once.
import { startConsumer } from '../../src/broker/consumer.js';
import { HEADER_PUBLISHED_AT, idKey } from '../../src/contract/wire.js';
import { wallClockNow } from '../../src/util/wallClock.js';
import { SamplesBySeq, answerStats, seqOf, tellParent } from './protocol.js';
import { SERVICE_DEFAULTS, finish, startCeilingProcess } from './runtime.js';

const { rt, log, shutdown } = await startCeilingProcess('metric');
const pending = new Set<string>();
let matched = 0;
// Publish-to-match latency per matched row, with its sequence number (to leave out the warm-up).
const latency = new SamplesBySeq();
// Publish -> received, per half: the counterpart of the pipeline's stages from the metric's labels_log.txt.
const received = { y_true: new SamplesBySeq(), y_pred: new SamplesBySeq() };

answerStats((fromSeq) => {
  const yTrue = received.y_true.after(fromSeq);
  const yPred = received.y_pred.after(fromSeq);
  return {
    atMs: wallClockNow(),
    count: matched,
    latencyMs: latency.after(fromSeq),
    ...(yTrue && yPred ? { halvesMs: { y_true: yTrue, y_pred: yPred } } : {}),
  };
});

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
      const publishedAt = Number(delivery.headers[HEADER_PUBLISHED_AT]);
      const at = wallClockNow();
      if (Number.isFinite(publishedAt)) received[queue].add(seqOf(message.id), at - publishedAt);
      const key = idKey(message.id);
      if (!pending.delete(key)) {
        pending.add(key);
        return;
      }
      matched += 1;
      if (Number.isFinite(publishedAt)) latency.add(seqOf(message.id), at - publishedAt);
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
