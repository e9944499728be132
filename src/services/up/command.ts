// `predstream up`: the whole pipeline on one machine, each service its own process, with the same options.
import type { Command } from 'commander';
import path from 'node:path';
import {
  COMMAND_OPTIONS,
  METRICS_PORT_DEFAULTS,
  OPTIONS,
  type ConfigOf,
  type OptionKey,
  type OptionSpec,
} from '../../config/options.js';
import { addOptions } from '../../config/parse.js';
import type { Logger } from '../../util/logger.js';
import { CLI_ENTRY } from '../../util/paths.js';
import type { Shutdown } from '../../util/shutdown.js';
import type { runService as RunService } from '../../program.js';
import { METRIC_STATUS_FILE } from '../../contract/status.js';
import { QUEUES, queueName } from '../../contract/wire.js';
import { CsvRowCounter } from './csvRowCounter.js';
import { createPaintedLogger } from './paintedLogger.js';
import { QueueDepthProbe } from './queueDepthProbe.js';
import { readMetricStatus, scrapeService } from './statusSources.js';
import { StatusTracker, type Scrape, type ServiceProfile } from './statusTracker.js';
import { formatStatusLine, renderStatusBlock } from './statusView.js';
import { Supervisor, type ChildSpec } from './supervisor.js';
import { TerminalPainter } from './terminalPainter.js';

const SERVICES = ['metric', 'plot', 'model', 'features'] as const;
type Service = (typeof SERVICES)[number];
/** Producer first, so nothing new arrives while the consumers drain and flush. */
const STOP_ORDER: Service[] = ['features', 'model', 'metric', 'plot'];
/** Rows in the status block's rolling MAE. */
const MAE_WINDOW_ROWS = 1000;

/** The flags that hand a service the options `up` was given (every value, so env and flags agree). */
export function childArgs(service: Service, config: ConfigOf<'up'>, metricsPort: number): string[] {
  const args: string[] = [service];
  const values = config as Record<string, unknown>;
  for (const key of COMMAND_OPTIONS[service] as readonly OptionKey[]) {
    const spec = OPTIONS[key] as OptionSpec;
    if (key === 'metricsPort') {
      args.push(`--${spec.flag}`, String(metricsPort));
      continue;
    }
    if (key === 'logFormat') continue;
    const value = values[key];
    if (value === undefined || value === '') continue;
    if (!spec.value) {
      if (value === true) args.push(`--${spec.flag}`);
      continue;
    }
    args.push(`--${spec.flag}`, String(value));
  }
  return args;
}

export { CsvRowCounter } from './csvRowCounter.js';

/** The /metrics port of a service under `--metrics-port-base`: the defaults' order (features 9101, ...). */
export function metricsPortOf(service: Service, base: number): number {
  return base === 0 ? 0 : base + METRICS_PORT_DEFAULTS[service] - METRICS_PORT_DEFAULTS.features;
}

/** In pipeline order: the queues each service consumes (their depth is shown) and its work counters. */
const PROFILES: ServiceProfile[] = [
  { name: 'features', reads: [], outCounter: 'predstream_messages_published_total' },
  {
    name: 'model',
    reads: ['features'],
    inCounter: 'predstream_messages_consumed_total',
    outCounter: 'predstream_messages_published_total',
  },
  {
    name: 'metric',
    reads: ['y_true', 'y_pred'],
    inCounter: 'predstream_messages_consumed_total',
    outCounter: 'predstream_rows_written_total',
  },
  { name: 'plot', reads: [], inCounter: 'predstream_plot_rows_read_total' },
];
const STATUS_EVERY_MS = 1_000;
const LOG_STATUS_EVERY_MS = 5_000;

/** A pseudo-terminal nobody sized (e.g. under `script`) reports 0 columns. */
const terminalColumns = () => process.stdout.columns || 80;

export async function runUp(config: ConfigOf<'up'>, baseLog: Logger, shutdown: Shutdown): Promise<number> {
  const startedAt = Date.now();
  const colour = process.stdout.isTTY === true;
  // JSON was asked for by a machine; a dumb terminal cannot move the cursor.
  const painter =
    colour && config.logFormat !== 'json' && process.env.TERM !== 'dumb'
      ? new TerminalPainter(process.stdout)
      : undefined;
  const log = painter ? createPaintedLogger(config.logLevel, (text) => painter.log(text)) : baseLog;
  const childFormat = config.logFormat === 'json' ? 'json' : 'pretty';
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: childFormat };
  delete env.METRICS_PORT;
  if (colour && childFormat === 'pretty') env.FORCE_COLOR = '1';

  let fatal: number | undefined;
  const specs: ChildSpec[] = SERVICES.map((service) => ({
    name: service,
    args: [CLI_ENTRY, ...childArgs(service, config, metricsPortOf(service, config.metricsPortBase))],
    env,
    mayFinish: service === 'features',
  }));
  const supervisor = new Supervisor(
    specs,
    log,
    {
      onFatal: (_name, code) => {
        fatal = code;
        shutdown.request('a service failed');
      },
    },
    painter ? (line) => painter.log(line) : undefined,
  );
  const dashboardUrl = config.httpPort ? `http://${config.httpHost}:${config.httpPort}` : undefined;
  const tracker = new StatusTracker({
    startedAt,
    maeWindow: MAE_WINDOW_ROWS,
    targetRows: config.count || undefined,
    dashboardUrl,
    metricsPorts: config.metricsPortBase !== 0,
    services: PROFILES,
  });
  const counter = new CsvRowCounter(path.join(config.logs, 'metric_log.csv'), (errors) =>
    tracker.addAbsoluteErrors(errors),
  );
  const probe = new QueueDepthProbe({
    amqpUrl: config.amqpUrl,
    connectTimeout: config.connectTimeout,
    queues: Object.fromEntries(QUEUES.map((q) => [q, queueName(config.queuePrefix, q)])),
    log,
  });
  const statusFile = path.join(config.logs, METRIC_STATUS_FILE);

  let lastLogged = Date.now();
  let finalShown = false;
  const paint = () => {
    if (finalShown) return; // a sample still in flight when the pipeline stopped
    const view = tracker.view(Date.now());
    if (painter) painter.show(renderStatusBlock(view, terminalColumns()));
    else if (Date.now() - lastLogged >= LOG_STATUS_EVERY_MS) {
      lastLogged = Date.now();
      log.info(formatStatusLine(view));
    }
  };
  const sample = async () => {
    const children = supervisor.status();
    const scrapes = new Map<string, Scrape | undefined>();
    if (config.metricsPortBase !== 0) {
      await Promise.all(
        children
          .filter((c) => c.phase === 'running')
          .map(async (c) => {
            const port = metricsPortOf(c.name as Service, config.metricsPortBase);
            scrapes.set(c.name, await scrapeService(config.metricsHost, port));
          }),
      );
    }
    tracker.observeChildren(Date.now(), children, scrapes);
    tracker.observeQueueDepths(await probe.read());
    tracker.observeMetricStatus(await readMetricStatus(statusFile));
  };
  let sampling = false;
  const statusTimer = setInterval(() => {
    if (sampling) return;
    sampling = true;
    sample()
      .then(paint)
      .catch((err: unknown) => log.debug(`status sample failed: ${String(err)}`))
      .finally(() => (sampling = false));
  }, STATUS_EVERY_MS);
  const onResize = () => paint();
  // Runs before the shutdown's own handler, which logs straight to the terminal, not through the painter.
  const onSignal = () => painter?.erase();
  if (painter) {
    process.stdout.on('resize', onResize);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.prependListener(signal, onSignal);
  }

  try {
    await counter.poll();
    supervisor.start();
    probe.start();
    log.info(
      { pids: supervisor.pids() },
      `pipeline started${dashboardUrl ? `; dashboard on ${dashboardUrl}` : ''}` +
        (config.count ? `; stopping after ${config.count} rows` : '; Ctrl-C stops it'),
    );
    tracker.observeChildren(Date.now(), supervisor.status(), new Map());
    paint();

    const poller = setInterval(() => {
      void counter.poll().then((rows) => {
        tracker.observeRows(Date.now(), rows);
        if (config.count && rows >= config.count) shutdown.request(`${rows} rows written`);
      });
    }, 200);
    const reason = await shutdown.requested;
    clearInterval(poller);
    tracker.setStopping(reason);
    paint();
    log.info(`stopping the pipeline (${reason})`);
    await supervisor.stop(STOP_ORDER);
    clearInterval(statusTimer);
    const rows = await counter.poll();
    tracker.observeRows(Date.now(), rows);
    tracker.observeChildren(Date.now(), supervisor.status(), new Map());
    // The last block stays on screen (and in the scrollback) as the run's summary.
    finalShown = true;
    painter?.close(renderStatusBlock(tracker.view(Date.now()), terminalColumns()).slice(1));
    log.info(`stopped; ${rows} rows written to ${path.join(config.logs, 'metric_log.csv')} in this run`);
    return fatal ?? 0;
  } finally {
    clearInterval(statusTimer);
    process.stdout.off('resize', onResize);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, onSignal);
    painter?.close();
    await probe.close();
  }
}

export function addUpCommand(program: Command, runService: typeof RunService): void {
  const cmd = program
    .command('up')
    .description(
      'run the whole pipeline (metric, plot, model, features) as four processes with the same options',
    );
  addOptions(cmd, 'up');
  cmd.action(async () => {
    await runService('up', cmd, async () => async (config, log, shutdown) => {
      const code = await runUp(config, log, shutdown);
      if (code !== 0)
        throw Object.assign(new Error('the pipeline stopped because a service failed'), { exitCode: code });
    });
  });
}
