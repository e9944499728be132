// The statistics of absolute error over a set of rows, whether all rows (histogram) or the recent window.

/** Quantiles are nearest-rank (the ceil(q * n)-th smallest); how exact they are depends on the source. */
export interface ErrorSummary {
  count: number;
  min: number;
  max: number;
  /** The MAE. */
  mean: number;
  /** sqrt of the mean of squared errors. */
  rmse: number;
  median: number;
  p90: number;
  p99: number;
}
