// The plot service with its dashboard on real files (no broker), and the monitoring deploy files.
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { ConfigOf } from '../../src/config/options.js';
import { METRIC_STATUS_FILE, type MetricStatus } from '../../src/contract/status.js';
import { createServiceMetrics } from '../../src/observability/metrics.js';
import { buildErrorChartSpec } from '../../src/services/plot/chartSpec.js';
import type { SnapshotMessage, UpdateMessage } from '../../src/services/plot/dashboard/dashboardFeed.js';
import { SseTestClient } from '../../src/services/plot/dashboard/sseTestClient.js';
import { ErrorHistogram } from '../../src/services/plot/errorHistogram.js';
import { runPlotService } from '../../src/services/plot/service.js';
import { seededRandom } from '../support/seededRandom.js';
import type { Shutdown } from '../../src/util/shutdown.js';
import { captureLogger } from '../support/logger.js';
import { freePort } from '../support/ports.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

// The real shutdown installs signal handlers on the test process; this one only runs the steps.
function testShutdown(): Shutdown {
  const steps: Array<{ name: string; step: () => Promise<void> | void }> = [];
  let resolveRequested!: (reason: string) => void;
  const requested = new Promise<string>((r) => (resolveRequested = r));
  let isRequested = false;
  let running: Promise<void> | undefined;
  return {
    add: (name, step) => steps.push({ name, step }),
    requested,
    isRequested: () => isRequested,
    request: (reason) => {
      isRequested = true;
      resolveRequested(reason);
    },
    run: () =>
      (running ??= (async () => {
        for (const { step } of steps.slice().reverse()) await step();
      })()),
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const parse = <T>(m: { data: string }) => JSON.parse(m.data) as T;

describe('plot service with its dashboard, on real files', () => {
  const logs = mkdtempSync(path.join(tmpdir(), 'predstream-dashboard-it-'));
  const csv = path.join(logs, 'metric_log.csv');
  afterAll(() => rmSync(logs, { recursive: true, force: true }));

  it('pushes rows appended to metric_log.csv within a second, with the PNG’s own chart and exact figures', async () => {
    const port = await freePort();
    const config = {
      logLevel: 'debug',
      logFormat: 'json',
      metricsHost: '127.0.0.1',
      metricsPort: 0,
      logs,
      interval: 1,
      httpHost: '127.0.0.1',
      httpPort: port,
      window: 100,
      alertMae: undefined,
    } satisfies ConfigOf<'plot'>;
    const { log, lines } = captureLogger();
    const shutdown = testShutdown();
    const running = runPlotService(config, log, shutdown);
    let client: SseTestClient | undefined;
    try {
      await waitFor('the dashboard', () => lines().find((l) => String(l.msg).startsWith('dashboard on')));
      client = await SseTestClient.connect(`http://127.0.0.1:${port}/events`);
      const first = parse<SnapshotMessage>(await client.next());
      expect(first.figures.rows).toBe(0);
      expect(JSON.stringify(first.chart)).toContain('Waiting for rows');

      const rand = seededRandom(7);
      const errors = Array.from({ length: 300 }, () => Math.round(-Math.log(1 - rand()) * 4000) / 100);
      const body = errors.map((e, i) => `run-${i},${100 + e},100,${e}\n`).join('');
      const seen = client.messages.length;
      const written = Date.now();
      appendFileSync(csv, `id,y_true,y_pred,absolute_error\n${body}`);
      const update = parse<UpdateMessage>(
        await client.next(
          (m) => m.event === 'update' && parse<UpdateMessage>(m).figures.rows === 300,
          3000,
          seen,
        ),
      );
      expect(Date.now() - written).toBeLessThan(1000);
      const mae = errors.reduce((a, b) => a + b, 0) / errors.length;
      expect(update.figures.total?.mean).toBeCloseTo(mae, 9);
      const last100 = errors.slice(-100);
      expect(update.figures.recent?.mean).toBeCloseTo(last100.reduce((a, b) => a + b, 0) / 100, 9);
      expect(update.figures.recent?.max).toBe(Math.max(...last100));
      // The chart is what buildErrorChartSpec makes of these rows: the spec that draws the PNG.
      const histogram = new ErrorHistogram();
      for (const e of errors) histogram.add(e);
      expect(update.chart).toEqual(buildErrorChartSpec(histogram.summary(), { source: csv }));

      const status: MetricStatus = {
        updatedAt: Date.now(),
        rowsWritten: 300,
        pending: 5,
        expired: 0,
        duplicates: 1,
        deadLetters: { features: 0, y_true: 0, y_pred: 2 },
        latencyMs: { p50: 4, p90: 7, p99: 12, max: 15, samples: 300 },
      };
      writeFileSync(path.join(logs, METRIC_STATUS_FILE), JSON.stringify(status));
      const withStatus = await client.next(
        (m) => m.event === 'update' && parse<UpdateMessage>(m).figures.metric !== null,
      );
      expect(parse<UpdateMessage>(withStatus).figures.metric).toMatchObject({
        pending: 5,
        deadLettersTotal: 2,
      });

      // A replaced log is read again from the start, and every page gets the full state again.
      const beforeReset = client.messages.length;
      truncateSync(csv, 0);
      appendFileSync(csv, 'id,y_true,y_pred,absolute_error\na,1,3,2\nb,1,5,4\n');
      const reset = await client.next((m) => m.event === 'snapshot', 3000, beforeReset);
      expect(parse<SnapshotMessage>(reset).figures.rows).toBeLessThanOrEqual(2);
      const after = await client.next(
        (m) => (m.event === 'update' || m.event === 'snapshot') && parse<UpdateMessage>(m).figures.rows === 2,
        3000,
        beforeReset,
      );
      expect(parse<UpdateMessage>(after).figures.total?.mean).toBe(3);
      await waitFor('the PNG', () =>
        existsSync(path.join(logs, 'error_distribution.png')) ? true : undefined,
      );
    } finally {
      shutdown.request('test done');
      await running;
      await shutdown.run();
    }
    await client.ended;
  });
});

describe('monitoring deploy files (docker compose --profile monitoring)', () => {
  const compose = parseYaml(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<
      string,
      { profiles?: string[]; environment?: Record<string, string>; volumes?: string[]; image?: string }
    >;
  };
  const prometheus = parseYaml(readFileSync(path.join(ROOT, 'deploy', 'prometheus.yml'), 'utf8')) as {
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };
  const dashboard = JSON.parse(
    readFileSync(path.join(ROOT, 'deploy', 'grafana', 'dashboards', 'predstream.json'), 'utf8'),
  ) as {
    uid: string;
    panels: Array<{
      type: string;
      title: string;
      datasource?: { uid: string };
      targets?: Array<{ expr: string }>;
    }>;
  };
  const datasources = parseYaml(
    readFileSync(
      path.join(ROOT, 'deploy', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'),
      'utf8',
    ),
  ) as { datasources: Array<{ uid: string; url: string; type: string }> };
  const providers = parseYaml(
    readFileSync(
      path.join(ROOT, 'deploy', 'grafana', 'provisioning', 'dashboards', 'predstream.yml'),
      'utf8',
    ),
  ) as { providers: Array<{ options: { path: string } }> };

  it('keeps the pipeline services out of the profile and puts prometheus and grafana in it', () => {
    for (const name of ['rabbitmq', 'features', 'model', 'metric', 'plot']) {
      expect(compose.services[name], name).toBeDefined();
      expect(compose.services[name]!.profiles, name).toBeUndefined();
    }
    expect(compose.services.prometheus?.profiles).toEqual(['monitoring']);
    expect(compose.services.grafana?.profiles).toEqual(['monitoring']);
  });

  it('scrapes each service on the port compose gives it, on an address Prometheus can reach', () => {
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    expect(targets.sort()).toEqual(['features:9101', 'metric:9103', 'model:9102', 'plot:9104']);
    for (const target of targets) {
      const [host, port] = target.split(':');
      const env = compose.services[host!]?.environment ?? {};
      expect(env.METRICS_PORT, target).toBe(port);
      expect(env.METRICS_HOST, `${host} must bind 0.0.0.0 to be scraped from another container`).toBe(
        '0.0.0.0',
      );
    }
  });

  it('mounts the files Prometheus and Grafana are configured to read', () => {
    expect(compose.services.prometheus?.volumes).toContain(
      './deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
    const grafanaVolumes = compose.services.grafana?.volumes ?? [];
    const mounted = grafanaVolumes.map((v) => v.split(':')[1]);
    expect(mounted).toContain('/etc/grafana/provisioning');
    expect(mounted).toContain(providers.providers[0]!.options.path);
    for (const volume of [...grafanaVolumes, ...(compose.services.prometheus?.volumes ?? [])]) {
      expect(existsSync(path.join(ROOT, volume.split(':')[0]!)), volume).toBe(true);
    }
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
  });

  it('has a dashboard whose panels use the provisioned data source and only metrics predstream exports', () => {
    const registry = createServiceMetrics('deploy-test').registry;
    const exported = new Map(registry.getMetricsAsArray().map((m) => [m.name, String(m.type)]));
    const known = (name: string) => {
      if (exported.has(name)) return true;
      const base = name.replace(/_(bucket|sum|count)$/, '');
      return base !== name && exported.get(base) === 'histogram';
    };
    const dataPanels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(dataPanels.length).toBeGreaterThanOrEqual(10);
    const used = new Set<string>();
    for (const panel of dataPanels) {
      expect(panel.datasource?.uid, panel.title).toBe(datasources.datasources[0]!.uid);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets ?? []) {
        const names = expr.match(/\bpredstream_[a-z0-9_]+/g) ?? [];
        expect(names.length, expr).toBeGreaterThan(0);
        for (const name of names) {
          expect(known(name), `${panel.title}: ${name} is not a predstream metric`).toBe(true);
          used.add(name.replace(/_(bucket|sum|count)$/, ''));
        }
      }
    }
    for (const name of [
      'predstream_messages_consumed_total',
      'predstream_messages_published_total',
      'predstream_messages_rejected_total',
      'predstream_messages_dead_lettered_total',
      'predstream_processing_seconds',
      'predstream_model_inference_seconds',
      'predstream_end_to_end_seconds',
      'predstream_join_pending',
      'predstream_rows_written_total',
      'predstream_csv_bytes',
      'predstream_ready',
      'predstream_plot_rows_read_total',
      'predstream_plot_render_seconds',
    ]) {
      expect(used.has(name), `the dashboard shows ${name}`).toBe(true);
    }
  });
});
