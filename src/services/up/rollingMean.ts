// Mean of the last N values in a ring buffer (the rolling MAE of the status block).

export class RollingMean {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  private sum = 0;
  private evictions = 0;

  constructor(readonly capacity = 1000) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`rolling window capacity must be a positive integer, got ${capacity}`);
    this.ring = new Float64Array(capacity);
  }

  add(value: number): void {
    if (this.filled === this.capacity) {
      this.sum -= this.ring[this.next] ?? 0;
      // Subtracting leaves rounding behind; summing afresh once per full turn keeps it bounded.
      if (++this.evictions >= this.capacity) {
        this.evictions = 0;
        this.ring[this.next] = value;
        this.sum = this.ring.reduce((a, b) => a + b, 0);
        this.next = (this.next + 1) % this.capacity;
        return;
      }
    } else this.filled++;
    this.ring[this.next] = value;
    this.sum += value;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Values in the window (at most `capacity`). */
  get count(): number {
    return this.filled;
  }

  /** Mean of the values in the window, or undefined while it is empty. */
  mean(): number | undefined {
    return this.filled === 0 ? undefined : this.sum / this.filled;
  }
}
