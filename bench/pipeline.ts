// Starts the real services (node dist/cli.js <service>) or the ceiling's three processes under one prefix.
import type { QueueName } from '../src/contract/wire.js';
import { AMQP_URL, waitForConsumers } from './broker.js';
import { assertAlive, type BenchContext, type PartScope } from './context.js';
import { CLI, DATASET, ceilingScript, plotServiceBuilt } from './paths.js';
import { CeilingChild, startNode, type Child } from './processes.js';

const CONSUMED: QueueName[] = ['features', 'y_true', 'y_pred'];

export interface Pipeline {
  /** metric, model and (when built) plot; features joins them with startFeatures. */
  consumers: Child[];
  plotIncluded: boolean;
  startFeatures(args: string[]): Child;
}

export interface PipelineOptions {
  withPlot: boolean;
  /** Serve the metric service's /metrics on this port (0: off). */
  metricMetricsPort?: number;
  metricArgs?: string[];
}

/** Starts metric, model and plot and waits until metric and model consume; features is started later. */
export async function startPipeline(
  ctx: BenchContext,
  scope: PartScope,
  opts: PipelineOptions,
): Promise<Pipeline> {
  const common = ['--metrics-port', '0', '--log-format', 'json'];
  const broker = ['--queue-prefix', scope.prefix, ...common];
  const metricArgs = ['metric', '--queue-prefix', scope.prefix, '--log-format', 'json', '--logs', scope.dir];
  metricArgs.push('--metrics-port', String(opts.metricMetricsPort ?? 0), ...(opts.metricArgs ?? []));
  const consumers: Child[] = [
    startNode('metric', CLI, metricArgs, scope.dir),
    startNode('model', CLI, ['model', ...broker], scope.dir),
  ];
  const plotIncluded = opts.withPlot && plotServiceBuilt();
  if (plotIncluded) {
    consumers.push(
      startNode(
        'plot',
        CLI,
        ['plot', ...common, '--logs', scope.dir, '--interval', '2', '--http-port', '0'],
        scope.dir,
      ),
    );
  }
  await waitForConsumers(ctx.conn, scope.prefix, CONSUMED, 30_000, () => assertAlive(consumers));
  return {
    consumers,
    plotIncluded,
    startFeatures: (args) => startNode('features', CLI, ['features', ...broker, ...args], scope.dir),
  };
}

export interface Ceiling {
  joiner: CeilingChild;
  forwarder: CeilingChild;
  startProducer(args: string[]): CeilingChild;
}

/** Starts the joiner and the forwarder and waits until they consume; the producer is started later. */
export async function startCeiling(scope: PartScope): Promise<Ceiling> {
  const base = ['--queue-prefix', scope.prefix, '--amqp-url', AMQP_URL];
  const joiner = new CeilingChild('joiner', ceilingScript('joiner'), base, scope.dir);
  const forwarder = new CeilingChild('forwarder', ceilingScript('forwarder'), base, scope.dir);
  await Promise.all([joiner.when('ready', 30_000), forwarder.when('ready', 30_000)]);
  return {
    joiner,
    forwarder,
    startProducer: (args) =>
      new CeilingChild(
        'producer',
        ceilingScript('producer'),
        [...base, '--dataset', DATASET, ...args],
        scope.dir,
      ),
  };
}
