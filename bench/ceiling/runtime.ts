// What every ceiling process starts with: the services' own broker runtime, settings and shutdown.
import { OPTIONS } from '../../src/config/options.js';
import { startBrokerRuntime, type BrokerRuntime } from '../../src/services/runtime.js';
import { createLogger, type Logger } from '../../src/util/logger.js';
import { createShutdown, type Shutdown } from '../../src/util/shutdown.js';
import { argOf } from './protocol.js';

/** The services' defaults, so the ceiling runs with the same flow control and retry settings. */
export const SERVICE_DEFAULTS = {
  prefetch: Number(OPTIONS.prefetch.default),
  maxAttempts: Number(OPTIONS.maxAttempts.default),
  maxInFlight: Number(OPTIONS.maxInFlight.default),
};

export interface CeilingProcess {
  rt: BrokerRuntime;
  log: Logger;
  shutdown: Shutdown;
}

/**
 * Connects exactly as the service in `role` does (startBrokerRuntime: same connection options,
 * topology, confirmed publisher, dead-letterer), without the /metrics port. Stops on SIGTERM or when
 * the bench goes away.
 */
export async function startCeilingProcess(role: 'features' | 'model' | 'metric'): Promise<CeilingProcess> {
  const log = createLogger({ service: `ceiling-${role}`, level: 'warn', format: 'json' });
  const shutdown = createShutdown(log);
  process.on('disconnect', () => shutdown.request('the bench went away'));
  const rt = await startBrokerRuntime(
    role,
    {
      amqpUrl: argOf('amqp-url'),
      queuePrefix: argOf('queue-prefix'),
      queueType: 'classic',
      legacyQueues: false,
      connectTimeout: 10,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      maxAttempts: SERVICE_DEFAULTS.maxAttempts,
    },
    log,
    shutdown,
  );
  return { rt, log, shutdown };
}

/** Runs the close steps and exits: 0 after a requested stop, 1 after a failure. */
export async function finish(shutdown: Shutdown, log: Logger, err?: unknown): Promise<never> {
  if (err !== undefined) log.fatal({ err: String(err) }, 'ceiling process failed');
  await shutdown.run();
  process.exit(err === undefined ? 0 : 1);
}
