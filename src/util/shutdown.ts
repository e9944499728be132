// Graceful shutdown: on SIGTERM/SIGINT run the owners' close steps in reverse order, bounded in time.
import type { Logger } from './logger.js';

export interface Shutdown {
  /** Registers a close step; steps run last-registered first. */
  add(name: string, step: () => Promise<void> | void): void;
  /** Resolves when a stop was requested (signal or `request`). */
  readonly requested: Promise<string>;
  isRequested(): boolean;
  request(reason: string): void;
  /** Runs every step once; later calls return the same promise. */
  run(): Promise<void>;
}

export function createShutdown(log: Logger, deadlineMs = 9_000): Shutdown {
  const steps: Array<{ name: string; step: () => Promise<void> | void }> = [];
  let resolveRequested!: (reason: string) => void;
  const requested = new Promise<string>((r) => (resolveRequested = r));
  let isRequested = false;
  let running: Promise<void> | undefined;

  const request = (reason: string) => {
    if (isRequested) return;
    isRequested = true;
    resolveRequested(reason);
  };

  const run = () => {
    running ??= (async () => {
      const timer = setTimeout(() => {
        log.error(`shutdown took longer than ${deadlineMs} ms; exiting anyway`);
        process.exit(1);
      }, deadlineMs);
      timer.unref();
      for (const { name, step } of steps.slice().reverse()) {
        try {
          await step();
        } catch (err) {
          log.warn({ step: name, err: String(err) }, 'a shutdown step failed');
        }
      }
      clearTimeout(timer);
    })();
    return running;
  };

  let firstSignalAt: number | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (firstSignalAt !== undefined) {
        // Ctrl-C under `up` reaches a service twice (the terminal's SIGINT, then up's SIGTERM): only a
        // signal well after the first means someone wants it gone now.
        if (Date.now() - firstSignalAt < 3_000) return;
        log.warn(`second ${signal}: exiting now`);
        process.exit(130);
      }
      firstSignalAt = Date.now();
      log.info(`${signal} received: stopping`);
      request(signal);
    });
  }
  return {
    add: (name, step) => steps.push({ name, step }),
    requested,
    isRequested: () => isRequested,
    request,
    run,
  };
}
