// Prometheus metrics of one service process (prom-client), with names shared by all services.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServiceMetrics {
  registry: Registry;
  consumed: Counter<'queue'>;
  published: Counter<'queue'>;
  rejected: Counter<'queue' | 'reason'>;
  deadLettered: Counter<'queue'>;
  retried: Counter<'queue'>;
  processingSeconds: Histogram<'queue'>;
  inferenceSeconds: Histogram;
  endToEndSeconds: Histogram;
  joinPending: Gauge;
  joinExpired: Counter;
  joinDuplicates: Counter<'queue'>;
  rowsWritten: Counter;
  csvBytes: Gauge;
  ready: Gauge;
  plotRowsRead: Counter;
  plotMalformedRows: Counter;
  plotRenders: Counter;
  plotRenderSeconds: Histogram;
}

/** Short machine-readable kind of a rejection reason, for a bounded label set. */
export function reasonKind(reason: string): string {
  const r = reason.toLowerCase();
  if (r.includes('utf-8')) return 'bad_utf8';
  if (r.includes('content type')) return 'content_type';
  if (r.includes('exceeds the limit')) return 'too_large';
  if (r.includes('empty body')) return 'empty';
  if (r.includes('not valid json')) return 'not_json';
  if (r.includes('"id"')) return 'bad_id';
  if (r.includes('"body"')) return 'bad_body';
  if (r.includes('json object')) return 'not_object';
  if (r.includes('duplicate')) return 'conflict';
  if (r.includes('features vector')) return 'wrong_length';
  if (r.includes('failed')) return 'processing_failed';
  return 'other';
}

export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'predstream_' });
  const registers = [registry];
  return {
    registry,
    consumed: new Counter({
      name: 'predstream_messages_consumed_total',
      help: 'Messages received from a queue',
      labelNames: ['queue'],
      registers,
    }),
    published: new Counter({
      name: 'predstream_messages_published_total',
      help: 'Messages published and confirmed by RabbitMQ',
      labelNames: ['queue'],
      registers,
    }),
    rejected: new Counter({
      name: 'predstream_messages_rejected_total',
      help: 'Messages that failed validation or processing, by reason kind',
      labelNames: ['queue', 'reason'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'predstream_messages_dead_lettered_total',
      help: 'Messages sent to a dead-letter queue',
      labelNames: ['queue'],
      registers,
    }),
    retried: new Counter({
      name: 'predstream_messages_retried_total',
      help: 'Messages sent back to their queue after a processing failure',
      labelNames: ['queue'],
      registers,
    }),
    processingSeconds: new Histogram({
      name: 'predstream_processing_seconds',
      help: 'Time from receiving a message to acknowledging it',
      labelNames: ['queue'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    inferenceSeconds: new Histogram({
      name: 'predstream_model_inference_seconds',
      help: 'Time spent in model.predict for one row',
      buckets: [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2],
      registers,
    }),
    endToEndSeconds: new Histogram({
      name: 'predstream_end_to_end_seconds',
      help: 'From the features publish to the row being durable in metric_log.csv',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    joinPending: new Gauge({
      name: 'predstream_join_pending',
      help: 'y_true or y_pred halves waiting for their partner',
      registers,
    }),
    joinExpired: new Counter({
      name: 'predstream_join_expired_total',
      help: 'Halves dropped after --join-ttl without a partner',
      registers,
    }),
    joinDuplicates: new Counter({
      name: 'predstream_join_duplicates_total',
      help: 'Redelivered or repeated halves ignored (no second row written)',
      labelNames: ['queue'],
      registers,
    }),
    rowsWritten: new Counter({
      name: 'predstream_rows_written_total',
      help: 'Rows appended to metric_log.csv by this process',
      registers,
    }),
    csvBytes: new Gauge({
      name: 'predstream_csv_bytes',
      help: 'Size of metric_log.csv in bytes',
      registers,
    }),
    ready: new Gauge({
      name: 'predstream_ready',
      help: '1 when connected to RabbitMQ and consuming (or publishing)',
      registers,
    }),
    plotRowsRead: new Counter({
      name: 'predstream_plot_rows_read_total',
      help: 'Rows of metric_log.csv read by the plot service',
      registers,
    }),
    plotMalformedRows: new Counter({
      name: 'predstream_plot_malformed_rows_total',
      help: 'Lines of metric_log.csv the plot service could not parse (skipped)',
      registers,
    }),
    plotRenders: new Counter({
      name: 'predstream_plot_renders_total',
      help: 'Times error_distribution.png was redrawn',
      registers,
    }),
    plotRenderSeconds: new Histogram({
      name: 'predstream_plot_render_seconds',
      help: 'Time to draw and write error_distribution.png',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
  };
}
