// Why the metric store refuses to start or to go on; each message names the cause and the fix.

export type MetricStoreErrorCode =
  /** Another process holds metric_state.sqlite: two writers would corrupt metric_log.csv. */
  | 'STATE_LOCKED'
  /** metric_state.sqlite was written by a newer predstream. */
  | 'STATE_TOO_NEW'
  /** metric_log.csv exists but is not a metric log we can continue. */
  | 'CSV_UNUSABLE'
  /** metric_state.sqlite contradicts itself (a bug, or a file edited by hand). */
  | 'STATE_CORRUPT'
  /** A statement on metric_state.sqlite failed with rows already written: the service must restart and repair. */
  | 'STATE_FAILED'
  /** A write to metric_log.csv or labels_log.txt failed (a full disk, say): restart and repair. */
  | 'WRITE_FAILED'
  /** The store was used after close(). */
  | 'CLOSED'
  /** A disk sync failed: what was written since may be lost, so the service must restart and repair. */
  | 'SYNC_FAILED';

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
