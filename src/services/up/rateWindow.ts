// Per-second rate of a growing counter from its readings over the last few seconds.

interface Reading {
  at: number;
  value: number;
}

/**
 * Keeps the readings of the last `spanMs` and answers (newest - oldest) / elapsed. A reading lower than
 * the one before means the counter started again (its process restarted): the history is dropped.
 */
export class RateWindow {
  private readings: Reading[] = [];

  constructor(private readonly spanMs = 3_000) {}

  add(at: number, value: number): void {
    const last = this.readings[this.readings.length - 1];
    if (last && (value < last.value || at <= last.at)) {
      if (value < last.value) this.readings = [];
      else return;
    }
    this.readings.push({ at, value });
    // One reading older than the span stays, so the span is always covered once it can be.
    while (this.readings.length > 2 && (this.readings[1]?.at ?? at) <= at - this.spanMs)
      this.readings.shift();
  }

  reset(): void {
    this.readings = [];
  }

  /** Units per second, or undefined before two readings. */
  rate(): number | undefined {
    const first = this.readings[0];
    const last = this.readings[this.readings.length - 1];
    if (!first || !last || last.at === first.at) return undefined;
    return ((last.value - first.value) * 1000) / (last.at - first.at);
  }
}
