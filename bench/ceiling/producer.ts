// Ceiling producer: publishes features + y_true pairs like the features service, minus its journal and retries.
import { HEADER_PUBLISHED_AT, encodeMessage } from '../../src/contract/wire.js';
import { loadDataset } from '../../src/services/features/dataset.js';
import { createIdGenerator } from '../../src/services/features/messageIds.js';
import { createPacer, parseRate } from '../../src/services/features/pacer.js';
import { createRowPicker } from '../../src/services/features/rowPicker.js';
import { wallClockNow } from '../../src/util/wallClock.js';
import { answerStats, argOf, tellParent } from './protocol.js';
import { SERVICE_DEFAULTS, finish, startCeilingProcess } from './runtime.js';
import { Slots } from './slots.js';

const dataset = await loadDataset(argOf('dataset'), 'target');
const rate = parseRate(argOf('rate', 'max'));
const count = Number(argOf('count', '0'));
const maxInFlight = Number(argOf('max-in-flight', String(SERVICE_DEFAULTS.maxInFlight)));
// `y_true` alone leaves every half unmatched: the join-memory part fills the metric service's join state.
const halves = argOf('halves', 'both');

const { rt, log, shutdown } = await startCeilingProcess('features');
const { features: featuresQueue, y_true: yTrueQueue } = rt.topology.queues;
const picker = createRowPicker(dataset.rows, 1);
const ids = createIdGenerator();
const pacer = createPacer(rate);
const inFlight = new Slots(maxInFlight);
let sent = 0;
let confirmed = 0;
let failure: unknown;

answerStats(() => ({ atMs: wallClockNow(), count: confirmed }));

// The same bodies and headers as the features service, the publish time read on the same sub-ms wall
// clock, so the joiner measures latency the way the metric service's --row-latency-log does.
const publishRow = async (row: number): Promise<void> => {
  const id = ids.next();
  const headers = { [HEADER_PUBLISHED_AT]: wallClockNow() };
  const yTrue = rt.publisher.publish(yTrueQueue.name, encodeMessage<'y_true'>(id, dataset.y[row]!), {
    headers,
  });
  if (halves === 'both') {
    await Promise.all([
      yTrue,
      rt.publisher.publish(featuresQueue.name, encodeMessage<'features'>(id, dataset.X[row]!), { headers }),
    ]);
  } else {
    await yTrue;
  }
  confirmed += 1;
};

tellParent({ type: 'ready' });
while (!shutdown.isRequested() && failure === undefined && (count === 0 || sent < count)) {
  await pacer.wait();
  await inFlight.acquire();
  sent += 1;
  void publishRow(picker.next())
    .catch((err: unknown) => {
      failure ??= err;
    })
    .finally(() => inFlight.release());
}
await inFlight.idle();
if (failure === undefined) tellParent({ type: 'done', count: confirmed, atMs: wallClockNow() });
if (failure !== undefined) await finish(shutdown, log, failure);
// Stay connected until the bench stops us, so it can still read the counters.
await shutdown.requested;
await finish(shutdown, log);
