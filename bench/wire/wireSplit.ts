// Splits each message's way from its publisher to its consumer at the broker, from a capture of the
// broker's port: publish time (header) -> its publish on the wire -> its delivery on the wire. Pure.
import { seqOf } from '../ceiling/protocol.js';
import { summariseLatency, type LatencySummary } from '../stats.js';
import type { WireMessage } from './amqpMessages.js';

/** One queue's figures (each over the same messages: those published and delivered in the capture). */
export interface QueueSplit {
  queue: string;
  /** Publish time in the header -> the publish on the wire (the publisher's side; for a message made
   * from another, such as y_pred from features, everything before its own publish). */
  toBroker: LatencySummary;
  /** The publish on the wire -> its first delivery on the wire (the broker's own time). */
  inBroker: LatencySummary;
  /** Publish time in the header -> its first delivery on the wire. */
  toConsumer: LatencySummary;
}

export interface SplitOptions {
  /** Leave out messages whose id ends in `-<seq>` with seq <= this (the bench's warm-up rows). */
  afterSeq?: number;
}

/** Per routing key (queue), in name order; messages without a publish time or a delivery are left out. */
export function splitAtBroker(messages: readonly WireMessage[], options: SplitOptions = {}): QueueSplit[] {
  const afterSeq = options.afterSeq ?? 0;
  const published = new Map<string, WireMessage>();
  const samples = new Map<string, { toBroker: number[]; inBroker: number[]; toConsumer: number[] }>();
  for (const m of messages) {
    const key = `${m.routingKey}\n${m.idJson}`;
    if (m.kind === 'publish') {
      if (!published.has(key)) published.set(key, m);
      continue;
    }
    const p = published.get(key);
    if (!p || p.publishedAtMs === undefined) continue;
    // The first delivery only: a redelivery is not the message's way through.
    published.delete(key);
    if (afterSeq > 0 && !(seqOf(m.id) > afterSeq)) continue;
    let s = samples.get(m.routingKey);
    if (!s) samples.set(m.routingKey, (s = { toBroker: [], inBroker: [], toConsumer: [] }));
    s.toBroker.push(p.atMs - p.publishedAtMs);
    s.inBroker.push(m.atMs - p.atMs);
    s.toConsumer.push(m.atMs - p.publishedAtMs);
  }
  return [...samples.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([queue, s]) => ({
      queue,
      toBroker: summariseLatency(s.toBroker),
      inBroker: summariseLatency(s.inBroker),
      toConsumer: summariseLatency(s.toConsumer),
    }));
}
