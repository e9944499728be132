// A JoinStore in plain Maps: for unit tests and for callers that need no durability.
import type { DoneRecord, JoinStore, PendingHalf } from './join.js';

export class MemoryJoinStore implements JoinStore {
  // Map iteration follows insertion order, which is receipt order when halves arrive in time order.
  readonly pending = new Map<string, PendingHalf>();
  readonly done = new Map<string, DoneRecord>();

  getPending(key: string): PendingHalf | undefined {
    return this.pending.get(key);
  }

  putPending(key: string, half: PendingHalf): void {
    this.pending.set(key, { ...half });
  }

  deletePending(key: string): void {
    this.pending.delete(key);
  }

  getDone(key: string): DoneRecord | undefined {
    return this.done.get(key);
  }

  markDone(key: string, record: DoneRecord): void {
    this.done.set(key, { ...record });
  }

  deletePendingOlderThan(cutoff: number, limit: number): number {
    const expired = [...this.pending]
      .filter(([, half]) => half.receivedAt < cutoff)
      .sort(([, a], [, b]) => a.receivedAt - b.receivedAt)
      .slice(0, limit);
    for (const [key] of expired) this.pending.delete(key);
    return expired.length;
  }

  pendingCount(): number {
    return this.pending.size;
  }
}
