// Why the metric store refuses to start or to go on; each message names the cause and the fix.

export type MetricStoreErrorCode =
  /** Another process holds metric_state.sqlite: two writers would corrupt metric_log.csv. */
  | 'STATE_LOCKED'
  /** metric_state.sqlite was written by a newer predstream. */
  | 'STATE_TOO_NEW'
  /** metric_log.csv exists but is not a metric log we can continue. */
  | 'CSV_UNUSABLE';

export class MetricStoreError extends Error {
  override readonly name = 'MetricStoreError';
  constructor(
    readonly code: MetricStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
