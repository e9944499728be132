// Ceiling forwarder: turns each features message into a y_pred, like the model service without the model.
import { startConsumer } from '../../src/broker/consumer.js';
import { HEADER_PUBLISHED_AT, encodeMessage } from '../../src/contract/wire.js';
import { wallClockNow } from '../../src/util/wallClock.js';
import { SamplesBySeq, answerStats, seqOf, tellParent } from './protocol.js';
import { SERVICE_DEFAULTS, finish, startCeilingProcess } from './runtime.js';

// A prediction of the same JSON length as the bundled model's (full float64 precision).
const PREDICTION = 152.13348416289594;

const { rt, log, shutdown } = await startCeilingProcess('model');
const yPred = rt.topology.queues.y_pred;
let forwarded = 0;
// Publish-to-delivery latency of each features message, with its sequence number.
const deliveryLatency = new SamplesBySeq();
answerStats((fromSeq) => ({
  atMs: wallClockNow(),
  count: forwarded,
  latencyMs: deliveryLatency.after(fromSeq),
}));

const consumer = startConsumer({
  conn: rt.conn,
  queue: rt.topology.queues.features,
  prefetch: SERVICE_DEFAULTS.prefetch,
  maxAttempts: SERVICE_DEFAULTS.maxAttempts,
  deadLetters: rt.deadLetters,
  retryPublisher: rt.publisher,
  log,
  metrics: rt.metrics,
  async handle(message, delivery) {
    const publishedAt = delivery.headers[HEADER_PUBLISHED_AT];
    if (typeof publishedAt === 'number') {
      deliveryLatency.add(seqOf(message.id), wallClockNow() - publishedAt);
    }
    await rt.publisher.publish(yPred.name, encodeMessage<'y_pred'>(message.id, PREDICTION), {
      headers: publishedAt === undefined ? {} : { [HEADER_PUBLISHED_AT]: publishedAt },
    });
    forwarded += 1;
  },
});
consumer.on('ready', () => tellParent({ type: 'ready' }));
shutdown.add('consumer', () => consumer.close());
await shutdown.requested;
await finish(shutdown, log);
