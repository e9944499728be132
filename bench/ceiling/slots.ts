// A bound on concurrent work that costs O(1) per acquire, unlike awaiting Promise.race over everything in flight.

export class Slots {
  private used = 0;
  private waiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly size: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Resolves once a slot is free and taken. */
  async acquire(): Promise<void> {
    while (this.used >= this.size) await new Promise<void>((r) => this.waiters.push(r));
    this.used += 1;
  }

  release(): void {
    this.used -= 1;
    this.waiters.shift()?.();
    if (this.used === 0) for (const r of this.idleWaiters.splice(0)) r();
  }

  /** Resolves when no slot is taken. */
  idle(): Promise<void> {
    return this.used === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }
}
