// The plot service: follows metric_log.csv, keeps error statistics in memory, redraws the PNG when rows arrive.
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ConfigOf } from '../../config/options.js';
import { createServiceMetrics } from '../../observability/metrics.js';
import type { Logger } from '../../util/logger.js';
import type { Shutdown } from '../../util/shutdown.js';
import { startMetricsPort } from '../runtime.js';
import { writeFileAtomic } from '../../util/atomicWrite.js';
import { buildErrorChartSpec } from './chartSpec.js';
import { MaeAlert, alertMessage } from './dashboard/maeAlert.js';
import { MetricRowParser } from './csvTail.js';
import { ErrorStats } from './errorStats.js';
import { ChartRenderer } from './renderPng.js';
import { TailFollower } from './tailFollower.js';

export const METRIC_LOG = 'metric_log.csv';
export const ERROR_PNG = 'error_distribution.png';

/** What the dashboard needs from the plot service: the live statistics and a signal when they change. */
export interface PlotState {
  stats: ErrorStats;
  csvPath: string;
  /** Emits 'rows' (count added) and 'reset'. */
  events: EventEmitter;
}

export async function runPlotService(
  config: ConfigOf<'plot'>,
  log: Logger,
  shutdown: Shutdown,
): Promise<void> {
  await mkdir(config.logs, { recursive: true }); // the PNG goes there even before metric has run
  const csvPath = path.join(config.logs, METRIC_LOG);
  const pngPath = path.join(config.logs, ERROR_PNG);
  const metrics = createServiceMetrics('plot');
  const stats = new ErrorStats({ windowSize: config.window });
  const parser = new MetricRowParser();
  const events = new EventEmitter();
  let dirty = true; // draw once at start, so the picture exists ("waiting for rows") from the first second
  let following = false;
  let waitingLogged = false;

  await startMetricsPort(
    'plot',
    config,
    metrics,
    () => (following ? undefined : `waiting for ${csvPath}`),
    log,
    shutdown,
    () => metrics.ready.set(following ? 1 : 0),
  );

  const follower = new TailFollower(csvPath, {
    onLines: (lines) => {
      following = true;
      const malformedBefore = parser.malformed;
      const rows = parser.parse(lines);
      if (parser.malformed > malformedBefore) {
        metrics.plotMalformedRows.inc(parser.malformed - malformedBefore);
        log.warn(
          `skipped ${parser.malformed - malformedBefore} malformed line(s): ${parser.lastMalformedReason}`,
        );
      }
      if (rows.length === 0) return;
      stats.addRows(rows, Date.now());
      metrics.plotRowsRead.inc(rows.length);
      dirty = true;
      events.emit('rows', rows.length);
    },
    onReset: (reason) => {
      log.warn(`${csvPath} was ${reason}; reading it again from the start`);
      stats.reset();
      dirty = true;
      events.emit('reset');
    },
    onError: (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        if (!waitingLogged) log.info(`waiting for ${csvPath} to appear`);
        waitingLogged = true;
        return;
      }
      log.warn(`cannot read ${csvPath}: ${err.message}`);
    },
  }).start();
  shutdown.add('tail follower', () => follower.close());

  const renderer = new ChartRenderer();
  shutdown.add('chart renderer', () => renderer.close());
  const redraw = async () => {
    if (!dirty) return;
    dirty = false;
    const t0 = performance.now();
    const spec = buildErrorChartSpec(stats.snapshot().total, { source: csvPath });
    const png = await renderer.png(spec);
    await writeFileAtomic(pngPath, png);
    metrics.plotRenders.inc();
    metrics.plotRenderSeconds.observe((performance.now() - t0) / 1000);
    log.debug({ rows: stats.count, ms: Math.round(performance.now() - t0) }, `redrew ${pngPath}`);
  };

  let drawing: Promise<void> = Promise.resolve();
  const tick = () => {
    drawing = drawing
      .then(redraw)
      .catch((err: unknown) => log.error(`cannot draw ${pngPath}: ${String(err)}`));
  };
  const timer = setInterval(tick, config.interval * 1000);
  tick();
  shutdown.add('final redraw', async () => {
    clearInterval(timer);
    await follower.poll().catch(() => undefined);
    tick();
    await drawing;
  });

  const state: PlotState = { stats, csvPath, events };
  if (config.httpPort === 0 && config.alertMae !== undefined) {
    // Without the dashboard (which watches the alert itself and shows it), the alert still reaches the log.
    const alert = new MaeAlert(config.alertMae);
    events.on('rows', () => {
      const change = alert.observe(stats.window.mean, Date.now());
      if (!change) return;
      const message = alertMessage(change, alert.status, stats.window.size);
      if (change === 'raised') log.warn({ rollingMae: alert.status.value }, message);
      else log.info({ rollingMae: alert.status.value }, message);
    });
  }
  if (config.httpPort !== 0) {
    const { startDashboard } = await import('./dashboard/server.js');
    const dashboard = await startDashboard({
      host: config.httpHost,
      port: config.httpPort,
      state,
      alertMae: config.alertMae,
      logsDir: config.logs,
      log,
    });
    log.info(`dashboard on ${dashboard.url}`);
    shutdown.add('dashboard', () => dashboard.close());
  }
  log.info(
    { csv: csvPath, png: pngPath },
    `following ${csvPath}; drawing ${pngPath} every ${config.interval} s`,
  );
  await shutdown.requested;
}
