// Part 6: the metric service's memory with many unmatched y_true halves pending, and after the TTL drops them.
import { AMQP_URL, waitForConsumers } from '../broker.js';
import { assertAlive, openScope, sleep, type BenchContext } from '../context.js';
import { wallClockNow } from '../../src/util/wallClock.js';
import { CLI, DATASET, ceilingScript } from '../paths.js';
import { sampleProcess } from '../proc.js';
import { CeilingChild, startNode, stop, type Child } from '../processes.js';
import { freePort, sampleValue, scrape } from '../scrape.js';

export interface JoinMemoryResult {
  halves: number;
  ttlSeconds: number;
  /** Most halves pending at once (all of them, unless the TTL began dropping some before the last came in). */
  maxPending: number;
  /** From the first publish until every half was pending. */
  ingestSeconds: number;
  /** Metric service RSS when the most halves were pending, MB. */
  rssAtMaxPendingMb: number;
  /** VmHWM of the metric service over the whole part, MB. */
  peakRssMb: number;
  /** From the last half taken in until the TTL had dropped them all. */
  expirySeconds: number;
  /** RSS once none was pending any more (after 2 s to settle), MB. */
  rssAfterExpiryMb: number;
  /** RSS before any half arrived, MB. */
  rssIdleMb: number;
  timeline: { s: number; pending: number; rssMb: number }[];
}

export async function joinMemory(ctx: BenchContext): Promise<JoinMemoryResult> {
  const { halves, ttlSeconds } = ctx.settings.joinMemory;
  const scope = openScope(ctx, 'join');
  const children: Child[] = [];
  try {
    const port = await freePort();
    const metric = startNode(
      'metric',
      CLI,
      [
        'metric',
        '--queue-prefix',
        scope.prefix,
        '--log-format',
        'json',
        '--logs',
        scope.dir,
        '--metrics-port',
        String(port),
        '--join-ttl',
        String(ttlSeconds),
      ],
      scope.dir,
    );
    children.push(metric);
    await waitForConsumers(ctx.conn, scope.prefix, ['y_true', 'y_pred'], 30_000, () => assertAlive(children));
    const rssIdleMb = sampleProcess(metric.pid)?.rssMb ?? Number.NaN;
    const pending = async () => sampleValue(await scrape(port), 'predstream_join_pending');

    const started = wallClockNow();
    const producer = new CeilingChild(
      'producer',
      ceilingScript('producer'),
      [
        '--queue-prefix',
        scope.prefix,
        '--amqp-url',
        AMQP_URL,
        '--dataset',
        DATASET,
        '--halves',
        'y_true',
        '--rate',
        'max',
        '--count',
        String(halves),
        '--max-in-flight',
        '2000',
      ],
      scope.dir,
    );
    children.unshift(producer.child);
    const timeline: JoinMemoryResult['timeline'] = [];
    let lastTimeline = 0;
    const observe = async () => {
      const p = await pending();
      const rss = sampleProcess(metric.pid)?.rssMb ?? Number.NaN;
      const s = (wallClockNow() - started) / 1000;
      if (s - lastTimeline >= 5 || timeline.length === 0) {
        timeline.push({ s: Math.round(s * 10) / 10, pending: p, rssMb: Math.round(rss) });
        lastTimeline = s;
      }
      return { p, rss };
    };

    // Take in: until every half is pending, or the TTL starts dropping them before that.
    let maxPending = 0;
    let rssAtMaxPendingMb = Number.NaN;
    let producerDone = false;
    void producer.when('done', 3_600_000).then(
      () => (producerDone = true),
      () => undefined,
    );
    const ingestDeadline = Date.now() + (ttlSeconds + 120) * 1000;
    let ingestEnd = started;
    for (;;) {
      assertAlive([metric]);
      const { p, rss } = await observe();
      if (p > maxPending) {
        maxPending = p;
        rssAtMaxPendingMb = rss;
        ingestEnd = wallClockNow();
      }
      if (p >= halves) break;
      if (producerDone && p < maxPending) break; // the TTL got there first
      if (Date.now() > ingestDeadline)
        throw new Error(`only ${maxPending} of ${halves} halves became pending`);
      await sleep(250);
    }
    await producer.when('done', 60_000);
    await stop(producer.child);

    // Expire: the sweep drops them once they are older than the TTL.
    const expiryDeadline = Date.now() + (ttlSeconds + 60) * 1000;
    let p = maxPending;
    while (p > 0) {
      assertAlive([metric]);
      if (Date.now() > expiryDeadline)
        throw new Error(`${p} halves still pending ${ttlSeconds + 60} s after the last came in`);
      await sleep(250);
      p = (await observe()).p;
    }
    const expirySeconds = (wallClockNow() - ingestEnd) / 1000;
    await sleep(2_000);
    const rssAfterExpiryMb = sampleProcess(metric.pid)?.rssMb ?? Number.NaN;
    await observe();
    await stop(metric);
    return {
      halves,
      ttlSeconds,
      maxPending,
      ingestSeconds: (ingestEnd - started) / 1000,
      rssAtMaxPendingMb,
      peakRssMb: metric.last?.peakRssMb ?? Number.NaN,
      expirySeconds,
      rssAfterExpiryMb,
      rssIdleMb,
      timeline,
    };
  } finally {
    for (const c of children) await stop(c);
    await scope.release();
  }
}
