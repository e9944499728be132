// Every option of every command, in one table: flag, environment variable, default, validation, help text.
import { z } from 'zod';

export interface OptionSpec<T = unknown> {
  /** Long flag without the leading dashes, e.g. `queue-prefix`. */
  flag: string;
  /** Placeholder shown in --help, e.g. `<url>`; absent for boolean switches. */
  value?: string;
  env: string;
  description: string;
  /** Default as the user would type it (undefined: no default). */
  default?: string;
  schema: z.ZodType<T>;
}

const text = (what: string) => z.string().min(1, `${what} must not be empty`);

const positiveNumber = z.coerce
  .number({ error: 'expected a number' })
  .refine((n) => Number.isFinite(n) && n > 0, 'expected a number greater than 0');

const positiveInt = z.coerce
  .number({ error: 'expected a whole number' })
  .refine((n) => Number.isInteger(n) && n > 0, 'expected a whole number greater than 0');

const nonNegativeInt = z.coerce
  .number({ error: 'expected a whole number' })
  .refine((n) => Number.isInteger(n) && n >= 0, 'expected a whole number, 0 or more');

const port = z.coerce
  .number({ error: 'expected a port number' })
  .refine((n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'expected a port number 0..65535 (0 = off)');

/** Booleans from the environment are written 1/0, true/false, yes/no, on/off. */
const booleanFlag = z.preprocess(
  (v) => {
    if (typeof v === 'boolean') return v;
    const s = String(v).trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
    return v;
  },
  z.boolean({ error: 'expected true or false (1/0, yes/no)' }),
);

const amqpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'amqp:' || u.protocol === 'amqps:';
  } catch {
    return false;
  }
}, 'expected a URL like amqp://user:password@host:5672/vhost');

const queuePrefix = z
  .string()
  .max(200, 'at most 200 characters')
  .regex(/^[A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only');

export type Rate = number | 'max';
const rate = z.preprocess(
  (v) => (String(v).trim().toLowerCase() === 'max' ? 'max' : Number(v)),
  z.custom<Rate>(
    (v) => v === 'max' || (typeof v === 'number' && Number.isFinite(v) && v > 0),
    "expected rows per second (a number > 0) or 'max'",
  ),
);

export const OPTIONS = {
  amqpUrl: {
    flag: 'amqp-url',
    value: '<url>',
    env: 'AMQP_URL',
    default: 'amqp://guest:guest@127.0.0.1:5672',
    description: 'RabbitMQ connection URL',
    schema: amqpUrl,
  },
  queuePrefix: {
    flag: 'queue-prefix',
    value: '<prefix>',
    env: 'QUEUE_PREFIX',
    default: '',
    description: 'prepended to the queue names features, y_true, y_pred (t1. gives t1.features ...)',
    schema: queuePrefix,
  },
  queueType: {
    flag: 'queue-type',
    value: '<type>',
    env: 'QUEUE_TYPE',
    default: 'classic',
    description: 'classic (one node) or quorum (replicated, for clusters); durable either way',
    schema: z.enum(['classic', 'quorum'], { error: 'expected classic or quorum' }),
  },
  legacyQueues: {
    flag: 'legacy-queues',
    env: 'LEGACY_QUEUES',
    default: 'false',
    description:
      'declare the queues exactly as the original Python services do (not durable, no arguments); weaker guarantees',
    schema: booleanFlag,
  },
  connectTimeout: {
    flag: 'connect-timeout',
    value: '<seconds>',
    env: 'CONNECT_TIMEOUT',
    default: '30',
    description: 'how long to keep retrying the first connection to RabbitMQ before exiting',
    schema: positiveNumber,
  },
  prefetch: {
    flag: 'prefetch',
    value: '<n>',
    env: 'PREFETCH',
    default: '500',
    description: 'unacknowledged messages RabbitMQ may push to each consumer (flow control window)',
    schema: positiveInt,
  },
  maxAttempts: {
    flag: 'max-attempts',
    value: '<n>',
    env: 'MAX_ATTEMPTS',
    default: '5',
    description: 'processing attempts before a message that keeps failing is dead-lettered',
    schema: positiveInt,
  },
  logLevel: {
    flag: 'log-level',
    value: '<level>',
    env: 'LOG_LEVEL',
    default: 'info',
    description: 'fatal, error, warn, info, debug or trace',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected fatal, error, warn, info, debug, trace or silent',
    }),
  },
  logFormat: {
    flag: 'log-format',
    value: '<format>',
    env: 'LOG_FORMAT',
    default: 'auto',
    description: 'json (one object per line), pretty, or auto (pretty on a terminal, json otherwise)',
    schema: z.enum(['auto', 'json', 'pretty'], { error: 'expected auto, json or pretty' }),
  },
  metricsHost: {
    flag: 'metrics-host',
    value: '<host>',
    env: 'METRICS_HOST',
    default: '127.0.0.1',
    description: 'address the /metrics port binds (0.0.0.0 to let Prometheus in another container scrape it)',
    schema: text('host'),
  },
  metricsPort: {
    flag: 'metrics-port',
    value: '<port>',
    env: 'METRICS_PORT',
    description:
      'HTTP port for /metrics, /healthz, /readyz (defaults: features 9101, model 9102, metric 9103, plot 9104; 0 = off)',
    schema: port,
  },
  // features
  dataset: {
    flag: 'dataset',
    value: '<path>',
    env: 'DATASET_PATH',
    description: 'CSV with a header row to stream rows from (default: the bundled diabetes dataset)',
    schema: text('dataset path'),
  },
  target: {
    flag: 'target',
    value: '<column>',
    env: 'TARGET_COLUMN',
    default: 'target',
    description: 'name of the target column in --dataset; every other column is a feature',
    schema: text('target column'),
  },
  seed: {
    flag: 'seed',
    value: '<n>',
    env: 'FEATURES_SEED',
    description: 'seed for a reproducible row order (default: random)',
    schema: nonNegativeInt,
  },
  rate: {
    flag: 'rate',
    value: '<rows/s>',
    env: 'FEATURES_RATE',
    default: '1',
    description: "rows published per second, or 'max' (as fast as the broker confirms)",
    schema: rate,
  },
  count: {
    flag: 'count',
    value: '<n>',
    env: 'FEATURES_COUNT',
    default: '0',
    description: 'stop after publishing this many rows (0 = run until stopped)',
    schema: nonNegativeInt,
  },
  maxInFlight: {
    flag: 'max-in-flight',
    value: '<n>',
    env: 'MAX_IN_FLIGHT',
    default: '300',
    description: 'rows published but not yet confirmed by RabbitMQ, at most',
    schema: positiveInt,
  },
  publishedLog: {
    flag: 'published-log',
    value: '<path>',
    env: 'PUBLISHED_LOG',
    description:
      'append a "sent <id> <row> <ms>" line before each publish and "ok <id>" after its confirm to this file (for audits and the chaos test)',
    schema: text('published log path'),
  },
  // model
  model: {
    flag: 'model',
    value: '<path>',
    env: 'MODEL_PATH',
    description: 'scikit-learn model pickle, or ONNX model (default: the bundled models/myfile.pkl)',
    schema: text('model path'),
  },
  // metric and plot
  logs: {
    flag: 'logs',
    value: '<dir>',
    env: 'LOGS_DIR',
    default: './logs',
    description: 'folder for metric_log.csv, labels_log.txt, error_distribution.png (created if missing)',
    schema: text('logs folder'),
  },
  joinTtl: {
    flag: 'join-ttl',
    value: '<seconds>',
    env: 'JOIN_TTL',
    default: '600',
    description: 'drop a y_true or y_pred that found no partner after this long (counted)',
    schema: positiveNumber,
  },
  batchSize: {
    flag: 'batch-size',
    value: '<n>',
    env: 'BATCH_SIZE',
    default: '500',
    description:
      'metric: messages in one group commit, at most (groups committed close together share one disk sync: --sync-interval); rows are written as their pairs complete',
    schema: positiveInt,
  },
  batchWait: {
    flag: 'batch-wait',
    value: '<ms>',
    env: 'BATCH_WAIT_MS',
    default: '1',
    description:
      'metric: how long a group commit waits for more messages after its first (it starts sooner when the previous sync lands; 0: the same turn of the event loop)',
    schema: nonNegativeInt,
  },
  syncInterval: {
    flag: 'sync-interval',
    value: '<ms>',
    env: 'SYNC_INTERVAL_MS',
    default: '10',
    description:
      'metric: least time between the starts of two disk syncs that make group commits durable (their messages are acked after it); rows are in metric_log.csv at once either way; higher: fewer syncs, less CPU, later acks; 0: back to back; at most 1000',
    schema: nonNegativeInt.refine((n) => n <= 1000, 'expected at most 1000 ms (acks wait this long)'),
  },
  rowLatencyLog: {
    flag: 'row-latency-log',
    value: '<path>',
    env: 'ROW_LATENCY_LOG',
    description:
      'metric: append "<id> <published ms> <written ms>" for each row once it is in metric_log.csv, when the half that completed it carries the features publish-time header (sub-ms); appended every 100 ms; for the bench and audits',
    schema: text('row latency log path'),
  },
  interval: {
    flag: 'interval',
    value: '<seconds>',
    env: 'PLOT_INTERVAL',
    default: '2',
    description: 'plot: redraw error_distribution.png at most this often, when rows were added',
    schema: positiveNumber,
  },
  httpHost: {
    flag: 'http-host',
    value: '<host>',
    env: 'HTTP_HOST',
    default: '127.0.0.1',
    description: 'plot: dashboard address to bind (0.0.0.0 to expose it)',
    schema: text('host'),
  },
  httpPort: {
    flag: 'http-port',
    value: '<port>',
    env: 'HTTP_PORT',
    default: '8080',
    description: 'plot: dashboard port (0 = off)',
    schema: port,
  },
  window: {
    flag: 'window',
    value: '<rows>',
    env: 'WINDOW_ROWS',
    default: '1000',
    description: 'plot: rows in the recent window for rolling MAE and percentiles',
    schema: positiveInt,
  },
  alertMae: {
    flag: 'alert-mae',
    value: '<x>',
    env: 'ALERT_MAE',
    description: 'plot: warn when the rolling MAE exceeds this value (default: no alert)',
    schema: positiveNumber,
  },
  // dead-letters
  deadLetterQueue: {
    flag: 'queue',
    value: '<name>',
    env: 'DEAD_LETTER_QUEUE',
    description: 'dead-letters: only this queue (features, y_true or y_pred; default: all three)',
    schema: z.enum(['features', 'y_true', 'y_pred'], { error: 'expected features, y_true or y_pred' }),
  },
  limit: {
    flag: 'limit',
    value: '<n>',
    env: 'DEAD_LETTER_LIMIT',
    default: '100',
    description: 'dead-letters: at most this many messages per queue',
    schema: positiveInt,
  },
  // up
  metricsPortBase: {
    flag: 'metrics-port-base',
    value: '<port>',
    env: 'METRICS_PORT_BASE',
    default: '9101',
    description: 'up: first of four consecutive /metrics ports (features, model, metric, plot); 0 = off',
    schema: port,
  },
} satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;
type SchemaOf<K extends OptionKey> = (typeof OPTIONS)[K]['schema'];
export type OptionValue<K extends OptionKey> = z.infer<SchemaOf<K>>;

const CONNECTION = ['amqpUrl', 'queuePrefix', 'queueType', 'legacyQueues', 'connectTimeout'] as const;
const COMMON = ['logLevel', 'logFormat', 'metricsHost', 'metricsPort'] as const;
const CONSUMER = ['prefetch', 'maxAttempts'] as const;

/** Which options each command takes; `up` takes them all and hands each service its own. */
export const COMMAND_OPTIONS = {
  features: [
    ...CONNECTION,
    ...COMMON,
    'dataset',
    'target',
    'seed',
    'rate',
    'count',
    'maxInFlight',
    'publishedLog',
  ],
  model: [...CONNECTION, ...COMMON, ...CONSUMER, 'model'],
  metric: [
    ...CONNECTION,
    ...COMMON,
    ...CONSUMER,
    'logs',
    'joinTtl',
    'batchSize',
    'batchWait',
    'syncInterval',
    'rowLatencyLog',
  ],
  plot: [...COMMON, 'logs', 'interval', 'httpHost', 'httpPort', 'window', 'alertMae'],
  predict: ['model', 'logLevel', 'logFormat'],
  up: [
    ...CONNECTION,
    'logLevel',
    'logFormat',
    'metricsHost',
    'metricsPortBase',
    'prefetch',
    'maxAttempts',
    'dataset',
    'target',
    'seed',
    'rate',
    'count',
    'maxInFlight',
    'publishedLog',
    'model',
    'logs',
    'joinTtl',
    'batchSize',
    'batchWait',
    'syncInterval',
    'rowLatencyLog',
    'interval',
    'httpHost',
    'httpPort',
    'window',
    'alertMae',
  ],
  'dead-letters': [...CONNECTION, 'logLevel', 'logFormat', 'deadLetterQueue', 'limit'],
} as const satisfies Record<string, readonly OptionKey[]>;

export type CommandName = keyof typeof COMMAND_OPTIONS;

/** The typed, validated configuration of one command. Options without a default may be undefined. */
export type ConfigOf<C extends CommandName> = {
  [K in (typeof COMMAND_OPTIONS)[C][number]]: (typeof OPTIONS)[K] extends { default: string }
    ? OptionValue<K>
    : OptionValue<K> | undefined;
};

/** Per-service defaults for options whose default depends on the service. */
export const METRICS_PORT_DEFAULTS = { features: 9101, model: 9102, metric: 9103, plot: 9104 } as const;
