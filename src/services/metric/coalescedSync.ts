// Many commits, few fsyncs: each commit waits for a sync that started after it, and one sync serves all of them.

export interface CoalescedSync {
  /**
   * Call right after a commit (its data is written, not yet durable). Resolves once a sync that started
   * after this call has completed; rejects if that sync failed.
   */
  afterCommit(): Promise<void>;
  /** Commits still waiting for their sync. */
  readonly waiting: number;
  /** Resolves when no sync is running and none is waiting. */
  idle(): Promise<void>;
}

interface Waiter {
  seq: number;
  resolve(): void;
  reject(err: unknown): void;
}

export interface CoalescedSyncOptions {
  /**
   * Least time (ms) from the start of one sync to the start of the next; 0 (the default): the next
   * starts as soon as the previous one ends. Commits made meanwhile wait for it, so fewer, larger syncs
   * cover them: each sync has a fixed cost in the kernel, whatever it writes.
   */
  minIntervalMs?: number;
  /** A monotonic clock in ms (tests pass their own). */
  now?: () => number;
}

/**
 * At most one `sync()` runs at a time. When it ends, the next one starts (at once, or once
 * `minIntervalMs` has passed since the last one started) if commits arrived meanwhile, so under load
 * each sync covers every commit made before it began; a commit never waits for more than the sync in
 * progress (or the interval) plus its own. `sync` must make durable everything written before it was
 * called (fdatasync of the written file).
 */
export function createCoalescedSync(
  sync: () => Promise<void>,
  options: CoalescedSyncOptions = {},
): CoalescedSync {
  const minIntervalMs = options.minIntervalMs ?? 0;
  const now = options.now ?? (() => performance.now());
  let committed = 0;
  let durable = 0;
  let running: Promise<void> | undefined;
  // Set while the next sync waits for `minIntervalMs` to pass.
  let paced: NodeJS.Timeout | undefined;
  let lastStartAt = Number.NEGATIVE_INFINITY;
  const waiters: Waiter[] = [];
  const idleWaiters: Array<() => void> = [];

  const settle = (upTo: number, err: unknown, failed: boolean) => {
    while (waiters.length > 0 && waiters[0]!.seq <= upTo) {
      const w = waiters.shift()!;
      if (failed) w.reject(err);
      else w.resolve();
    }
  };

  const kick = () => {
    if (running || paced) return;
    if (durable >= committed) {
      for (const r of idleWaiters.splice(0)) r();
      return;
    }
    const wait = lastStartAt + minIntervalMs - now();
    if (wait > 0) {
      // Whole ms: Node's timer clock lags performance.now(), so a fractional wait often fires a little
      // early and would re-arm for a sub-ms rest (rounded up to 1 ms): two wake-ups for one sync.
      paced = setTimeout(() => {
        paced = undefined;
        kick();
      }, Math.ceil(wait));
      return;
    }
    lastStartAt = now();
    const target = committed;
    let started: Promise<void>;
    try {
      started = sync(); // now, so it covers exactly the commits counted in `target`
    } catch (err) {
      started = Promise.reject(err);
    }
    running = started
      .then(
        () => {
          durable = target;
          settle(target, undefined, false);
        },
        (err: unknown) => {
          // Those commits are not known to be durable; later ones get a sync of their own.
          durable = target;
          settle(target, err, true);
        },
      )
      .finally(() => {
        running = undefined;
        kick();
      });
  };

  return {
    afterCommit() {
      committed += 1;
      const seq = committed;
      const done = new Promise<void>((resolve, reject) => waiters.push({ seq, resolve, reject }));
      kick();
      return done;
    },
    get waiting() {
      return waiters.length;
    },
    idle() {
      if (!running && !paced && durable >= committed) return Promise.resolve();
      return new Promise<void>((r) => idleWaiters.push(r));
    },
  };
}
