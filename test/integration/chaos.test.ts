// The promise of the issue: every row features confirmed ends up exactly once, right, in metric_log.csv,
// whatever is SIGKILLed or restarted in between. Run by hand with
//   npx vitest run test/integration/chaos.test.ts
// and CHAOS_SEED=<n> to replay a run's faults, CHAOS_ROWS / CHAOS_RATE / CHAOS_KILLS to size it, CHAOS_KEEP=1 to
// keep its files, CHAOS_CLI=<path to cli.js> to test another build than dist/.
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLI_ENTRY, DEFAULT_DATASET, DEFAULT_MODEL } from '../../src/util/paths.js';
import { AMQP_URL } from '../support/broker.js';
import { formatAccounting } from '../chaos/accounting.js';
import { runChaos } from '../chaos/driver.js';

function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a whole number > 0, got '${text}'`);
  return value;
}

/** `CHAOS_KILLS=features=2,model=6,metric=6` for a rougher run by hand; never fewer than the 1, 3 and 3. */
function kills(): Record<'features' | 'model' | 'metric', number> {
  const counts = { features: 1, model: 3, metric: 3 };
  for (const part of (process.env.CHAOS_KILLS ?? '').split(',').filter(Boolean)) {
    const [name, n] = part.split('=');
    if (!(name === 'features' || name === 'model' || name === 'metric') || !(Number(n) >= counts[name])) {
      throw new Error(
        `CHAOS_KILLS: '${part}' is not service=n with n >= the default (features 1, model 3, metric 3)`,
      );
    }
    counts[name] = Number(n);
  }
  return counts;
}

/** The "the connection cut": each service's connection to RabbitMQ is reset once, the process lives on. */
const CUTS = { features: 1, model: 1, metric: 1 };

describe('chaos: SIGKILLs, connection cuts and a RabbitMQ restart during 5,000 rows', () => {
  it('writes every confirmed row exactly once, with the right values', { timeout: 240_000 }, async () => {
    const timeline: string[] = [];
    const faultCounts = kills();
    const report = await runChaos({
      rows: envInt('CHAOS_ROWS', 5_000),
      rate: envInt('CHAOS_RATE', 250),
      seed: envInt('CHAOS_SEED', randomInt(1, 2 ** 31)),
      // CHAOS_CLI points at another build, so a run is not disturbed by a rebuild of dist/ meanwhile.
      cli: process.env.CHAOS_CLI || CLI_ENTRY,
      dataset: DEFAULT_DATASET,
      model: DEFAULT_MODEL,
      kills: faultCounts,
      cuts: CUTS,
      brokerPort: Number(new URL(AMQP_URL).port || 5672),
      brokerRestarts: 1,
      budgetMs: 150_000,
      drainTimeoutMs: 60_000,
      keepFiles: process.env.CHAOS_KEEP === '1',
      // One block at the end: vitest prefixes every console.log with a header line.
      log: (line) => timeline.push(line),
    }).finally(() => console.log(timeline.join('\n')));
    const a = report.accounting;
    const t = report.timings;
    console.log(`chaos seed ${report.seed}: ${formatAccounting(a)}`);
    console.log(
      `chaos timings: traffic ${(t.trafficMs / 1000).toFixed(1)} s, drain ${(t.drainMs / 1000).toFixed(1)} s, ` +
        `total ${(t.totalMs / 1000).toFixed(1)} s; faults ${JSON.stringify(report.done)}; ` +
        `dead-lettered ${JSON.stringify(report.depths?.dead)}`,
    );
    for (const note of report.notes) console.log(`chaos note: ${note}`);
    for (const [kind, ids] of Object.entries(a.examples)) {
      if (ids.length > 0) console.log(`chaos ${kind}: ${ids.join('; ')}`);
    }

    // The faults really happened, and features got all its rows confirmed.
    expect(report.done).toEqual({
      'kill features': faultCounts.features,
      'kill model': faultCounts.model,
      'kill metric': faultCounts.metric,
      'cut features': CUTS.features,
      'cut model': CUTS.model,
      'cut metric': CUTS.metric,
      'broker-restart': 1,
    });
    expect(a.published).toBe(envInt('CHAOS_ROWS', 5_000));
    expect(report.publishedLogMalformed).toEqual([]);
    // The promise.
    expect({ lost: a.lost, duplicated: a.duplicated, unexpected: a.unexpected, wrong: a.wrong }).toEqual({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      wrong: 0,
    });
    expect(a.ok).toBe(a.published);
    // Services die only when killed, and stop cleanly when asked.
    expect(report.unplannedExits).toEqual([]);
    expect(report.notes).toEqual([]);
  });
});
