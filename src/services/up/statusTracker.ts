// Turns what `up` observes (children, scrapes, rows, queue depths, the metric status) into a StatusView.
import type { MetricStatus } from '../../contract/status.js';
import { type PromSample, sumSamples } from './promText.js';
import { RateWindow } from './rateWindow.js';
import { RollingMean } from './rollingMean.js';
import type { ChildPhase, ChildStatus } from './supervisor.js';
import type { ServiceView, StatusView } from './statusView.js';

/** What one look at a child's metrics port gave; undefined when it did not answer. */
export interface Scrape {
  /** /readyz answered 200. */
  ready: boolean;
  samples: PromSample[];
}

/** Queue depths by logical queue name, or 'down' when RabbitMQ cannot be reached. */
export type QueueDepths = Record<string, number> | 'down';

/** A metric status older than this describes a metric service that is not writing it any more. */
const STATUS_FRESH_MS = 5_000;

/** `wasReady`: this process has been ready before (so it lost RabbitMQ, rather than still starting). */
export function describeState(
  phase: ChildPhase,
  restarts: number,
  ready: boolean | undefined,
  wasReady = false,
): string {
  if (phase === 'finished' || phase === 'stopped') return phase;
  if (phase === 'restarting') return `restarting (${restarts})`;
  // Without a metrics port there is no readiness to wait for: alive is all we know.
  if (ready === undefined || ready) return 'running';
  if (wasReady) return 'not ready';
  return restarts > 0 ? `restarting (${restarts})` : 'starting';
}

interface ServiceRates {
  pid: number | undefined;
  ready: boolean | undefined;
  wasReady: boolean;
  in: RateWindow;
  out: RateWindow;
}

export interface StatusTrackerOptions {
  startedAt: number;
  /** Rows in the rolling MAE. */
  maeWindow: number;
  targetRows: number | undefined;
  dashboardUrl: string | undefined;
  /** Whether the children have metrics ports (readiness and rates come from them). */
  metricsPorts: boolean;
  /** Per service, in the order to show them: what it reads and which counters measure its work. */
  services: readonly ServiceProfile[];
}

export interface ServiceProfile {
  name: string;
  /** Logical queues it consumes. */
  reads: readonly string[];
  /** Counter (summed over labels) of what it takes in, e.g. predstream_messages_consumed_total. */
  inCounter?: string;
  /** Counter of what it gives out. */
  outCounter?: string;
}

export class StatusTracker {
  private readonly mae: RollingMean;
  private readonly rowRate = new RateWindow();
  private rows = 0;
  private readonly services = new Map<string, ServiceRates>();
  private children: ChildStatus[] = [];
  private depths: QueueDepths | undefined;
  private metricStatus: MetricStatus | undefined;
  private stopping: string | undefined;

  private readonly profiles: Map<string, ServiceProfile>;

  constructor(private readonly opts: StatusTrackerOptions) {
    this.mae = new RollingMean(opts.maeWindow);
    this.profiles = new Map(opts.services.map((p) => [p.name, p]));
  }

  addAbsoluteErrors(errors: readonly number[]): void {
    for (const e of errors) this.mae.add(e);
  }

  observeRows(at: number, rows: number): void {
    this.rows = rows;
    this.rowRate.add(at, rows);
  }

  /** The children as the supervisor sees them, and what their metrics ports answered (by name). */
  observeChildren(
    at: number,
    children: ChildStatus[],
    scrapes: ReadonlyMap<string, Scrape | undefined>,
  ): void {
    this.children = children;
    for (const child of children) {
      let rates = this.services.get(child.name);
      if (!rates || rates.pid !== child.pid) {
        // A new process starts its counters at zero: rates from before mean nothing for it.
        rates = {
          pid: child.pid,
          ready: undefined,
          wasReady: false,
          in: new RateWindow(),
          out: new RateWindow(),
        };
        this.services.set(child.name, rates);
      }
      const scrape = scrapes.get(child.name);
      rates.ready = this.opts.metricsPorts ? (scrape?.ready ?? false) : undefined;
      if (rates.ready) rates.wasReady = true;
      const profile = this.profiles.get(child.name);
      if (!scrape || !profile) continue;
      // A labelled counter has no sample before its first increment: that is zero, not unknown.
      if (profile.inCounter) rates.in.add(at, sumSamples(scrape.samples, profile.inCounter) ?? 0);
      if (profile.outCounter) rates.out.add(at, sumSamples(scrape.samples, profile.outCounter) ?? 0);
    }
  }

  observeQueueDepths(depths: QueueDepths): void {
    this.depths = depths;
  }

  observeMetricStatus(status: MetricStatus | undefined): void {
    this.metricStatus = status;
  }

  setStopping(reason: string): void {
    this.stopping = reason;
  }

  view(at: number): StatusView {
    const status =
      this.metricStatus &&
      this.metricStatus.updatedAt >= this.opts.startedAt &&
      at - this.metricStatus.updatedAt <= STATUS_FRESH_MS
        ? this.metricStatus
        : undefined;
    const depths = this.depths;
    const known = this.opts.services.map((p) => p.name);
    const rank = (name: string) => (known.includes(name) ? known.indexOf(name) : known.length);
    const children = [...this.children].sort((a, b) => rank(a.name) - rank(b.name));
    const services: ServiceView[] = children.map((child) => {
      const rates = this.services.get(child.name);
      const running = child.phase === 'running';
      return {
        name: child.name,
        state: describeState(child.phase, child.restarts, rates?.ready, rates?.wasReady),
        pid: child.pid,
        inPerSec: running ? rates?.in.rate() : undefined,
        outPerSec: running ? rates?.out.rate() : undefined,
        queues: (this.profiles.get(child.name)?.reads ?? []).map((queue) => ({
          queue,
          ready: depths === undefined || depths === 'down' ? undefined : depths[queue],
          dead: status?.deadLetters[queue],
        })),
      };
    });
    const mae = this.mae.mean();
    return {
      elapsedMs: at - this.opts.startedAt,
      services,
      brokerDown: depths === 'down',
      rows: this.rows,
      targetRows: this.opts.targetRows,
      rowsPerSec: this.rowRate.rate(),
      mae: mae === undefined ? undefined : { value: mae, rows: this.mae.count },
      latencyMs: status?.latencyMs ? { p50: status.latencyMs.p50, p99: status.latencyMs.p99 } : undefined,
      pending: status?.pending,
      dashboardUrl: this.opts.dashboardUrl,
      stopping: this.stopping,
    };
  }
}
