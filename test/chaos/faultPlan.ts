// The faults of one chaos run, drawn from a seed: which service dies when, and when RabbitMQ restarts.
import { seededRandom } from '../support/seededRandom.js';

export { seededRandom };

export type KillableService = 'features' | 'model' | 'metric';

export type Fault =
  /** SIGKILL the service at `atMs`, start it again `restartAfterMs` later. */
  | { kind: 'kill'; service: KillableService; atMs: number; restartAfterMs: number }
  /** Reset the service's TCP connections to RabbitMQ at `atMs` (the process lives on and must reconnect). */
  | { kind: 'cut'; service: KillableService; atMs: number }
  /** `rabbitmqctl stop_app` at `atMs`, `start_app` `downMs` later. */
  | { kind: 'broker-restart'; atMs: number; downMs: number };

export interface FaultPlanOptions {
  seed: number;
  /** Faults fall in [startMs, endMs), counted from the first features start. */
  startMs: number;
  endMs: number;
  kills: Record<KillableService, number>;
  cuts: Record<KillableService, number>;
  brokerRestarts: number;
  /** Longest pause before a killed service is started again (half the restarts are immediate). */
  maxRestartDelayMs: number;
  /** How long RabbitMQ stays stopped: [min, max). */
  brokerDownMs: readonly [number, number];
}

/**
 * One moment in each of `n` equal slots of [start, end): random, yet never two kills of one service so
 * close that the second lands before the first restart is up.
 */
function stratified(random: () => number, n: number, start: number, end: number): number[] {
  const slot = (end - start) / n;
  return Array.from({ length: n }, (_, i) => Math.round(start + slot * (i + random())));
}

/**
 * The faults, sorted by time. The features kill falls in the first half of the window so a restarted
 * features still has rows to send; the broker restart falls in the middle so traffic flows on both sides.
 */
export function planFaults(opts: FaultPlanOptions): Fault[] {
  const { startMs, endMs } = opts;
  if (!(endMs > startMs)) throw new RangeError(`fault window [${startMs}, ${endMs}) is empty`);
  const random = seededRandom(opts.seed);
  const restartDelay = () => (random() < 0.5 ? 0 : Math.round(random() * opts.maxRestartDelayMs));
  const span = endMs - startMs;
  const windows: Record<KillableService, [number, number]> = {
    features: [startMs + span * 0.15, startMs + span * 0.5],
    model: [startMs, endMs],
    metric: [startMs, endMs],
  };
  const faults: Fault[] = [];
  for (const service of ['features', 'model', 'metric'] as const) {
    const [from, to] = windows[service];
    for (const atMs of stratified(random, opts.kills[service], from, to)) {
      faults.push({ kind: 'kill', service, atMs, restartAfterMs: restartDelay() });
    }
    for (const atMs of stratified(random, opts.cuts[service], from, to)) {
      faults.push({ kind: 'cut', service, atMs });
    }
  }
  const [downMin, downMax] = opts.brokerDownMs;
  for (const atMs of stratified(random, opts.brokerRestarts, startMs + span * 0.3, startMs + span * 0.7)) {
    faults.push({
      kind: 'broker-restart',
      atMs,
      downMs: Math.round(downMin + random() * (downMax - downMin)),
    });
  }
  return faults.sort((a, b) => a.atMs - b.atMs);
}

export function describeFault(f: Fault): string {
  const at = `at +${(f.atMs / 1000).toFixed(1)} s`;
  if (f.kind === 'kill') return `SIGKILL ${f.service} ${at}, restart after ${f.restartAfterMs} ms`;
  if (f.kind === 'cut') return `cut ${f.service}'s connection to RabbitMQ ${at}`;
  return `restart RabbitMQ ${at}, down ${f.downMs} ms`;
}
