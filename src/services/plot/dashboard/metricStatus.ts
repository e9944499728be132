// Reads the metric service's status file (pending halves, dead letters, latency), tolerating a missing or bad file.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { MetricStatus } from '../../../contract/status.js';

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();

const metricStatusSchema = z.object({
  updatedAt: z.number(),
  rowsWritten: count,
  pending: count,
  expired: count,
  duplicates: count,
  deadLetters: z.record(z.string(), count),
  latencyMs: z.object({ p50: ms, p90: ms, p99: ms, max: ms, samples: count }).optional(),
});

export type MetricStatusRead =
  | { kind: 'ok'; status: MetricStatus }
  /** No file: the metric service has not started (or uses another --logs). */
  | { kind: 'missing' }
  /** A file that is not a status (half written by something other than an atomic rename, or another version). */
  | { kind: 'invalid'; reason: string };

/** Checks the text of metric_status.json against the contract. */
export function parseMetricStatus(text: string): MetricStatusRead {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', reason: `not JSON (${(err as Error).message})` };
  }
  const parsed = metricStatusSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: 'invalid',
      reason: `${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'unexpected shape'}`,
    };
  }
  // JSON has no undefined: a status written before the first row simply lacks latencyMs.
  return { kind: 'ok', status: { ...parsed.data, latencyMs: parsed.data.latencyMs } };
}

/** Reads and checks the file; never throws for a missing or malformed file. */
export async function readMetricStatus(file: string): Promise<MetricStatusRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', reason: (err as Error).message };
  }
  return parseMetricStatus(text);
}
