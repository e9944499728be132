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

/**
 * At most one `sync()` runs at a time. When it ends, the next one starts at once if commits arrived
 * meanwhile, so under load the syncs run back to back and each covers every commit made before it began;
 * a commit never waits for more than the sync in progress plus its own. `sync` must make durable
 * everything written before it was called (fdatasync of the written file).
 */
export function createCoalescedSync(sync: () => Promise<void>): CoalescedSync {
  let committed = 0;
  let durable = 0;
  let running: Promise<void> | undefined;
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
    if (running) return;
    if (durable >= committed) {
      for (const r of idleWaiters.splice(0)) r();
      return;
    }
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
      if (!running && durable >= committed) return Promise.resolve();
      return new Promise<void>((r) => idleWaiters.push(r));
    },
  };
}
