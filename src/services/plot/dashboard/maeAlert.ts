// The --alert-mae rule: raised while the rolling (window) MAE is above the threshold, cleared when it falls back.

/** What the dashboard shows about the alert. */
export interface AlertStatus {
  /** The threshold (--alert-mae); null when no alert is configured. */
  threshold: number | null;
  active: boolean;
  /** When the alert was raised (ms since epoch); null while inactive. */
  since: number | null;
  /** The rolling MAE last observed; null before the first row. */
  value: number | null;
}

export type AlertTransition = 'raised' | 'cleared';

/**
 * Compares each observed rolling MAE with the threshold and reports only the changes, so the caller logs
 * one line per change rather than one per row. A value that is not a number (an empty window after the
 * metric log was reset) clears the alert: there is nothing to alarm about.
 */
export class MaeAlert {
  private readonly threshold: number | undefined;
  private active = false;
  private since: number | null = null;
  private value: number | null = null;

  constructor(threshold: number | undefined) {
    if (threshold !== undefined && !(threshold > 0 && Number.isFinite(threshold))) {
      throw new RangeError(`alert threshold must be a finite number > 0 (--alert-mae), got ${threshold}`);
    }
    this.threshold = threshold;
  }

  observe(rollingMae: number, nowMs: number): AlertTransition | undefined {
    this.value = Number.isFinite(rollingMae) ? rollingMae : null;
    if (this.threshold === undefined) return undefined;
    const above = this.value !== null && this.value > this.threshold;
    if (above === this.active) return undefined;
    this.active = above;
    this.since = above ? nowMs : null;
    return above ? 'raised' : 'cleared';
  }

  get status(): AlertStatus {
    return { threshold: this.threshold ?? null, active: this.active, since: this.since, value: this.value };
  }
}

/**
 * `value` with the fewest significant digits (3 to 8) that do not print as the threshold, so a line never
 * reads "rolling MAE 45 is above 45".
 */
export function formatAgainst(value: number, threshold: number): string {
  let digits = 3;
  let text = String(Number(value.toPrecision(digits)));
  while (digits < 8 && Number(text) === threshold && value !== threshold) {
    digits++;
    text = String(Number(value.toPrecision(digits)));
  }
  return text;
}

/** The log line for an alert change. */
export function alertMessage(change: AlertTransition, status: AlertStatus, windowRows: number): string {
  const threshold = status.threshold ?? NaN;
  if (change === 'raised') {
    return `alert: rolling MAE ${formatAgainst(status.value ?? NaN, threshold)} over the last ${windowRows} rows is above --alert-mae ${threshold}`;
  }
  if (status.value === null) return 'alert cleared: the metric log was reset, no rows to judge yet';
  return `alert cleared: rolling MAE ${formatAgainst(status.value, threshold)} over the last ${windowRows} rows is back at or below --alert-mae ${threshold}`;
}
