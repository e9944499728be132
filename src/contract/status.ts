// The metric service's status file, read by the plot service's dashboard (services share files, not code).

/** Nearest-rank percentiles of the publish-to-row latency of the most recent rows, in ms. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  samples: number;
}

/** Written atomically to `<logs>/metric_status.json` about once a second. */
export interface MetricStatus {
  /** When this was written (ms since epoch). */
  updatedAt: number;
  rowsWritten: number;
  /** Halves waiting for their partner. */
  pending: number;
  /** Halves dropped after --join-ttl since the service started. */
  expired: number;
  /** Redelivered or repeated halves ignored since the service started. */
  duplicates: number;
  /** Messages now in each dead-letter queue (features, y_true, y_pred), as RabbitMQ counts them. */
  deadLetters: Record<string, number>;
  /** Publish-to-row latency of the most recent rows, in ms (undefined before the first row). */
  latencyMs: LatencySummary | undefined;
}

export const METRIC_STATUS_FILE = 'metric_status.json';
