// How long and how big each part of the benchmark runs, for a full run and for --quick. Pure.

export interface BenchSettings {
  mode: 'full' | 'quick';
  throughput: {
    /** Ceiling/pipeline pairs, interleaved A B A B ... */
    pairs: number;
    warmupSeconds: number;
    windowSeconds: number;
    /**
     * Rows published but not yet confirmed, at most (the features service's --max-in-flight, its default).
     * At 1,000 features' peak RSS at max rate was 135-151 MB (rows in flight outlive the young generation
     * and pile up in the old one) and neither side went faster; at 300 it is 81-89 MB (NOTES.md).
     */
    maxInFlight: number;
  };
  latency: {
    rowsPerSecond: number;
    /**
     * Rows sent first and left out of the figures. A cold pipeline (JIT in five processes, the plot's first
     * chart) runs below 1,000 rows/s for its first ~2 s and builds a backlog of ~1 s that takes ~3 s to
     * drain; 5,000 rows (5 s) leave that out, so the figures are the steady state a running pipeline has.
     */
    warmupRows: number;
    /**
     * Rows measured after the warm-up in each run, the same for the pipeline and the ceiling: a p99 over a
     * longer time catches more of the broker's own periodic stalls (the ceiling's p99 was 30-57 ms over
     * 8,000 rows and 59-92 ms over 20,000 on this machine), so the two sides must cover the same time.
     */
    measuredRows: number;
    /** Ceiling and pipeline runs, interleaved C P C P ...; each side's samples are pooled. */
    pairs: number;
  };
  plotScaling: {
    smallRows: number;
    largeRows: number;
    appendRows: number;
    /** --interval of the plot service in this part, so the redraw timer adds little to the figure. */
    intervalSeconds: number;
    /** Appends measured per file size (the median is reported). */
    repeats: number;
  };
  joinMemory: {
    halves: number;
    /** --join-ttl: longer than the time to take in every half, so they are all pending at once. */
    ttlSeconds: number;
  };
}

export const FULL: BenchSettings = {
  mode: 'full',
  throughput: { pairs: 2, warmupSeconds: 2, windowSeconds: 6, maxInFlight: 300 },
  latency: { rowsPerSecond: 1000, warmupRows: 5000, measuredRows: 10_000, pairs: 2 },
  plotScaling: {
    smallRows: 10_000,
    largeRows: 1_000_000,
    appendRows: 10_000,
    intervalSeconds: 0.1,
    repeats: 3,
  },
  // 1,000,000 halves take the metric service minutes to take in, so the 3-minute run fills the join with
  // fewer; run `--only join --join-halves 1000000 --join-ttl 300` (~7.5 min) for the full figure.
  joinMemory: { halves: 30_000, ttlSeconds: 20 },
};

export const QUICK: BenchSettings = {
  mode: 'quick',
  throughput: { pairs: 1, warmupSeconds: 1, windowSeconds: 1.5, maxInFlight: 300 },
  latency: { rowsPerSecond: 1000, warmupRows: 50, measuredRows: 300, pairs: 1 },
  plotScaling: { smallRows: 1_000, largeRows: 10_000, appendRows: 500, intervalSeconds: 0.1, repeats: 1 },
  joinMemory: { halves: 500, ttlSeconds: 3 },
};
