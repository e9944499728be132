// The publish-to-row latencies of the most recent rows, for the status the dashboard shows.
import type { LatencySummary } from '../../contract/status.js';

/** Nearest-rank percentiles over a ring of the last `capacity` samples. */
export class LatencyWindow {
  private readonly ring: Float64Array;
  private next = 0;
  private size = 0;

  constructor(capacity = 1000) {
    this.ring = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.ring.length;
    if (this.size < this.ring.length) this.size += 1;
  }

  summary(): LatencySummary | undefined {
    if (this.size === 0) return undefined;
    const sorted = this.ring.slice(0, this.size).sort();
    const rank = (q: number) => sorted[Math.min(this.size - 1, Math.max(0, Math.ceil(q * this.size) - 1))]!;
    return {
      p50: rank(0.5),
      p90: rank(0.9),
      p99: rank(0.99),
      max: sorted[this.size - 1]!,
      samples: this.size,
    };
  }
}
