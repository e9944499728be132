// What every broker-connected service starts with: logger, metrics port, connection, topology, publishers.
import { AMQPConnectionError, type Connection } from 'rabbitmq-client';
import { connectionReady, whenConnected } from '../broker/coalescedWrites.js';
import { connectBroker } from '../broker/connection.js';
import { createDeadLetterer, type DeadLetterer } from '../broker/deadLetters.js';
import { createConfirmPublisher, type ConfirmPublisher } from '../broker/publisher.js';
import { declareTopology, type Topology, type TopologyOptions } from '../broker/topology.js';
import { METRICS_PORT_DEFAULTS } from '../config/options.js';
import { createServiceMetrics, type ServiceMetrics } from '../observability/metrics.js';
import { startStatusServer } from '../observability/statusServer.js';
import type { Logger } from '../util/logger.js';
import type { Shutdown } from '../util/shutdown.js';

export type ServiceName = keyof typeof METRICS_PORT_DEFAULTS;

export interface BrokerSettings {
  amqpUrl: string;
  queuePrefix: string;
  queueType: 'classic' | 'quorum';
  legacyQueues: boolean;
  connectTimeout: number;
  metricsHost: string;
  metricsPort: number | undefined;
  maxAttempts?: number;
}

export interface BrokerRuntime {
  conn: Connection;
  topology: Topology;
  /** Confirmed publisher for the pipeline's own queues (and retries). */
  publisher: ConfirmPublisher;
  deadLetters: DeadLetterer;
  metrics: ServiceMetrics;
  /** Set by the service once it consumes or publishes; read by /readyz. */
  setWorking(working: boolean): void;
}

/** Starts the /metrics, /healthz and /readyz port of a service unless it is off (0). */
export async function startMetricsPort(
  service: ServiceName,
  settings: Pick<BrokerSettings, 'metricsHost' | 'metricsPort'>,
  metrics: ServiceMetrics,
  notReadyReason: () => string | undefined,
  log: Logger,
  shutdown: Shutdown,
  beforeScrape?: () => void,
): Promise<void> {
  const port = settings.metricsPort ?? METRICS_PORT_DEFAULTS[service];
  if (port === 0) return;
  const status = await startStatusServer({
    host: settings.metricsHost,
    port,
    registry: metrics.registry,
    notReadyReason,
    beforeScrape,
  });
  log.info({ port: status.port }, `metrics on http://${settings.metricsHost}:${status.port}/metrics`);
  shutdown.add('status server', () => status.close());
}

/** The connection dropped (a socket error such as ECONNRESET, or the client's connection error), not a refusal. */
function isConnectionLoss(err: unknown): boolean {
  if (err instanceof AMQPConnectionError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** Declares the topology; if the connection drops meanwhile, waits for the reconnect and declares again. */
async function declareTopologyOnceConnected(
  conn: Connection,
  opts: TopologyOptions,
  timeoutMs: number,
): Promise<Topology> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await declareTopology(conn, opts);
    } catch (err) {
      if (!isConnectionLoss(err) || Date.now() >= deadline) throw err;
      opts.log.warn(
        { err: String(err) },
        'lost the RabbitMQ connection while declaring the queues; declaring them again once reconnected',
      );
      await new Promise((r) => setTimeout(r, 200)); // the client may not have noticed the loss yet
      await whenConnected(conn, Math.max(1, deadline - Date.now()), true);
    }
  }
}

/** Starts the metrics port first (so /healthz answers while we wait for RabbitMQ), then connects. */
export async function startBrokerRuntime(
  service: ServiceName,
  settings: BrokerSettings,
  log: Logger,
  shutdown: Shutdown,
): Promise<BrokerRuntime> {
  const metrics = createServiceMetrics(service);
  // Read by /readyz, which answers before the connection exists.
  const live: { conn?: Connection; publishConn?: Connection; working: boolean } = { working: false };
  const notReadyReason = (): string | undefined => {
    if (!connectionReady(live.conn) || !connectionReady(live.publishConn)) return 'not connected to RabbitMQ';
    if (!live.working) return 'not consuming yet';
    return undefined;
  };
  await startMetricsPort(service, settings, metrics, notReadyReason, log, shutdown, () =>
    metrics.ready.set(notReadyReason() === undefined ? 1 : 0),
  );

  const conn = await connectBroker({
    url: settings.amqpUrl,
    connectTimeout: settings.connectTimeout,
    connectionName: `predstream-${service}`,
    log,
  });
  live.conn = conn;
  shutdown.add('connection', () => conn.close());
  // Publishing gets its own connection: when RabbitMQ throttles a publishing connection (flow control)
  // it stops reading from it, which would also hold back the acks of a consumer sharing it.
  const publishConn = await connectBroker({
    url: settings.amqpUrl,
    connectTimeout: settings.connectTimeout,
    connectionName: `predstream-${service}-publish`,
    log,
  });
  live.publishConn = publishConn;
  shutdown.add('publish connection', () => publishConn.close());
  const topology = await declareTopologyOnceConnected(
    conn,
    {
      prefix: settings.queuePrefix,
      queueType: settings.queueType,
      legacyQueues: settings.legacyQueues,
      maxAttempts: settings.maxAttempts ?? 5,
      log,
    },
    settings.connectTimeout * 1000,
  );
  const publisher = createConfirmPublisher(
    publishConn,
    Object.values(topology.queues).map((q) => q.declaration),
  );
  shutdown.add('publisher', () => publisher.close());
  return {
    conn,
    topology,
    publisher,
    deadLetters: createDeadLetterer(topology, publisher),
    metrics,
    setWorking: (w) => (live.working = w),
  };
}
