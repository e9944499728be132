// Reads a service's Prometheus /metrics page: one gauge's value, or one histogram's buckets.
import type { HistogramBucket } from './stats.js';
export { freePort } from '../test/support/ports.js';

export async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET /metrics on port ${port} answered ${res.status}`);
  return res.text();
}

/** The value of an unlabelled (or only default-labelled) sample; NaN when absent. */
export function sampleValue(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** Cumulative buckets of a histogram, `le` ascending (+Inf last). */
export function histogramBuckets(text: string, name: string): HistogramBucket[] {
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm');
  const out: HistogramBucket[] = [];
  for (const m of text.matchAll(re)) {
    out.push({ le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), count: Number(m[2]) });
  }
  return out.sort((a, b) => a.le - b.le);
}
