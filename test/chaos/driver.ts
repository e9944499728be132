// Runs features, model and metric as real processes under a fault plan, waits for the drain, and accounts for every row.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'rabbitmq-client';
import { cleanupPrefix, openTestConnection, uniquePrefix } from '../support/broker.js';
import {
  account,
  emptyPublishedLog,
  parseMetricCsv,
  parsePublishedLog,
  promiseHeld,
  type Accounting,
  type PublishedLog,
} from './accounting.js';
import { describeExit, signalChild, spawnService, waitForExit, type ServiceChild } from './children.js';
import { cutBrokerConnections } from './connectionCut.js';
import { loadExpected } from './expected.js';
import { describeFault, planFaults, type Fault, type KillableService } from './faultPlan.js';
import { queueDepths, startBrokerApp, stopBrokerApp, type QueueDepths } from './rabbitmq.js';

export interface ChaosOptions {
  /** Rows features must get confirmed in total, over all its restarts. */
  rows: number;
  /** Rows per second (`--rate`). */
  rate: number;
  /** Seeds the fault plan and the features row order; print it to replay a run. */
  seed: number;
  /** The built CLI (dist/cli.js). */
  cli: string;
  dataset: string;
  model: string;
  kills: Record<KillableService, number>;
  /** TCP resets of a service's connections to RabbitMQ (`ss -K`); the process must reconnect by itself. */
  cuts: Record<KillableService, number>;
  brokerRestarts: number;
  /** Port RabbitMQ listens on, to find the services' connections to cut. */
  brokerPort: number;
  /** Hard limit for the whole run, clean-up included; past it the run is abandoned with an error. */
  budgetMs: number;
  /** Longest wait for the pipeline to drain once features is done. */
  drainTimeoutMs: number;
  /** Keep the temp folder (service output, published logs, metric_log.csv) even when the run is clean. */
  keepFiles: boolean;
  log(line: string): void;
}

export interface ChildRecord {
  label: string;
  pid: number;
  /** How it ended: `killed by us`, `stopped (exit code 0)`, ... */
  end: string;
}

export interface ChaosReport {
  accounting: Accounting;
  seed: number;
  prefix: string;
  /** Temp folder with every service's output, the published logs and logs/metric_log.csv. */
  dir: string;
  faults: Fault[];
  /** Faults carried out, as `kill model`, `cut metric`, `broker-restart`, ... */
  done: Record<string, number>;
  /** Model or metric exits nobody asked for, and features exits other than a clean finish. */
  unplannedExits: string[];
  /** Things worth a look that do not break the promise by themselves. */
  notes: string[];
  children: ChildRecord[];
  /** Dead-lettered messages and messages left ready when the run was stopped. */
  depths: QueueDepths | undefined;
  publishedLogMalformed: string[];
  timings: { trafficMs: number; drainMs: number; totalMs: number };
}

const STOP_GRACE_MS = 15_000;
const KILL_WAIT_MS = 10_000;
const UNPLANNED_RESTART_MS = 500;
/** A cut waits this long at most for a (re)started service to be connected. */
const CUT_WAIT_MS = 15_000;
const DRAIN_POLL_MS = 500;
/** The CSV must stop growing for this long, with the queues empty, before the run counts as drained. */
const DRAIN_QUIET_MS = 3_000;
/** With the queues empty and the CSV still, stop waiting after this even if rows are missing: they are lost. */
const DRAIN_GIVE_UP_QUIET_MS = 15_000;

class BudgetExceeded extends Error {}

/** One service's current process; restarts get a new process, a new output file and (features) a new log. */
interface Slot {
  service: KillableService;
  current: ServiceChild | undefined;
  starts: number;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const startedAt = Date.now();
  const deadlineAt = startedAt + opts.budgetMs;
  const elapsed = () => `+${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
  const log = (line: string) => opts.log(`[chaos ${elapsed()}] ${line}`);
  if (!existsSync(opts.cli)) {
    throw new Error(`${opts.cli} does not exist: build predstream first (npm run build)`);
  }

  const prefix = uniquePrefix('chaos');
  const dir = await mkdtemp(path.join(tmpdir(), 'predstream-chaos-'));
  const logsDir = path.join(dir, 'logs');
  await mkdir(logsDir);
  const csvPath = path.join(logsDir, 'metric_log.csv');
  const faults = planFaults({
    seed: opts.seed,
    startMs: 1_500,
    endMs: Math.max(3_000, ((opts.rows / opts.rate) * 1000 * 0.8) | 0),
    kills: opts.kills,
    cuts: opts.cuts,
    brokerRestarts: opts.brokerRestarts,
    maxRestartDelayMs: 2_000,
    brokerDownMs: [2_000, 5_000],
  });
  log(`seed ${opts.seed}, prefix ${prefix}, files in ${dir}`);
  for (const f of faults) log(`plan: ${describeFault(f)}`);

  const done: Record<string, number> = {};
  const unplannedExits: string[] = [];
  const notes: string[] = [];
  const children: ChildRecord[] = [];
  const killedByUs = new Set<ServiceChild>();
  const running = new Set<ServiceChild>();
  let stopping = false;
  let brokerMayBeStopped = false;
  let conn: Connection | undefined;
  let depths: QueueDepths | undefined;
  let trafficMs = 0;
  let drainMs = 0;
  let featuresT0 = 0;
  let clean = false;

  let resolveFeaturesDone!: () => void;
  const featuresDone = new Promise<void>((r) => (resolveFeaturesDone = r));

  const withinBudget = async <T>(p: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new BudgetExceeded(`chaos run went over its ${opts.budgetMs} ms budget while ${what}`)),
        Math.max(0, deadlineAt - Date.now()),
      );
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  };

  const publishedLogs = async (): Promise<PublishedLog> => {
    const into = emptyPublishedLog();
    for (const name of (await readdir(dir)).filter((n) => n.startsWith('published-')).sort()) {
      parsePublishedLog(await readFile(path.join(dir, name), 'utf8'), into);
    }
    return into;
  };
  const readCsv = async () => (existsSync(csvPath) ? parseMetricCsv(await readFile(csvPath, 'utf8')) : []);

  const slots: Record<KillableService, Slot> = {
    features: { service: 'features', current: undefined, starts: 0 },
    model: { service: 'model', current: undefined, starts: 0 },
    metric: { service: 'metric', current: undefined, starts: 0 },
  };
  // --connect-timeout 60: a service restarted while RabbitMQ is down waits for it instead of exiting.
  const common = [
    '--queue-prefix',
    prefix,
    ...'--metrics-port 0 --log-format json --connect-timeout 60'.split(' '),
  ];

  const start = async (slot: Slot): Promise<void> => {
    if (stopping) return;
    slot.starts += 1;
    const args = [...common];
    if (slot.service === 'features') {
      const confirmed = (await publishedLogs()).ok.size;
      const remainder = opts.rows - confirmed;
      if (remainder <= 0) {
        log(`features: all ${opts.rows} rows confirmed; not starting it again`);
        resolveFeaturesDone();
        return;
      }
      const publishedLog = path.join(dir, `published-${slot.starts}.log`);
      args.push(
        '--rate',
        String(opts.rate),
        '--count',
        String(remainder),
        '--seed',
        String(opts.seed + slot.starts),
      );
      args.push('--dataset', opts.dataset, '--published-log', publishedLog);
    } else if (slot.service === 'model') {
      args.push('--model', opts.model);
    } else {
      args.push('--logs', logsDir);
    }
    const label = `${slot.service}#${slot.starts}`;
    const child = spawnService({
      cli: opts.cli,
      command: slot.service,
      args,
      label,
      outputFile: path.join(dir, `${slot.service}-${slot.starts}.out`),
    });
    slot.current = child;
    running.add(child);
    const detail = slot.service === 'features' ? ` with ${args.slice(-8, -4).join(' ')}` : '';
    log(`started ${label} (pid ${child.pid})${detail}`);
    void child.exited.then((exit) => {
      running.delete(child);
      const how = describeExit(exit);
      if (killedByUs.has(child)) {
        children.push({ label, pid: child.pid, end: 'killed by us (SIGKILL)' });
        return;
      }
      children.push({ label, pid: child.pid, end: stopping ? `stopped (${how})` : how });
      if (stopping) return;
      if (slot.service === 'features' && exit.code === 0) {
        log(`${label} finished its rows`);
        resolveFeaturesDone();
        return;
      }
      unplannedExits.push(
        `${label} (pid ${child.pid}) exited by itself: ${how}; see ${dir}/${label.replace('#', '-')}.out`,
      );
      log(`UNPLANNED: ${label} exited by itself (${how}); starting it again`);
      void sleep(UNPLANNED_RESTART_MS)
        .then(() => start(slot))
        .catch((err: unknown) => notes.push(`could not start ${slot.service} again: ${String(err)}`));
    });
  };

  const killAndRestart = async (fault: Extract<Fault, { kind: 'kill' }>): Promise<void> => {
    const slot = slots[fault.service];
    const child = slot.current;
    if (!child?.isRunning() || stopping) {
      notes.push(`${fault.service} was not running at its planned kill (+${fault.atMs} ms); kill skipped`);
      log(`kill of ${fault.service} skipped: not running`);
      return;
    }
    killedByUs.add(child);
    signalChild(child, 'SIGKILL');
    await waitForExit(child, KILL_WAIT_MS);
    done[`kill ${fault.service}`] = (done[`kill ${fault.service}`] ?? 0) + 1;
    log(`SIGKILLed ${child.label} (pid ${child.pid}); restart in ${fault.restartAfterMs} ms`);
    await sleep(fault.restartAfterMs);
    await start(slot);
  };

  const cutConnection = async (fault: Extract<Fault, { kind: 'cut' }>): Promise<void> => {
    const slot = slots[fault.service];
    const until = Date.now() + CUT_WAIT_MS;
    while (!stopping && Date.now() < until) {
      const child = slot.current;
      if (child?.isRunning()) {
        const cut = await cutBrokerConnections(child.pid, opts.brokerPort);
        if (cut > 0) {
          done[`cut ${fault.service}`] = (done[`cut ${fault.service}`] ?? 0) + 1;
          log(`cut ${cut} connection(s) of ${child.label} (pid ${child.pid}) to RabbitMQ`);
          return;
        }
      }
      await sleep(200);
    }
    if (!stopping) {
      notes.push(`${fault.service} had no connection to cut for ${CUT_WAIT_MS} ms after +${fault.atMs} ms`);
      log(`cut of ${fault.service} skipped: no connection to RabbitMQ`);
    }
  };

  const restartBroker = async (fault: Extract<Fault, { kind: 'broker-restart' }>): Promise<void> => {
    if (stopping) return;
    brokerMayBeStopped = true;
    log('rabbitmqctl stop_app');
    await stopBrokerApp();
    log(`RabbitMQ stopped; starting it again in ${fault.downMs} ms`);
    await sleep(fault.downMs);
    await startBrokerApp();
    brokerMayBeStopped = false;
    done['broker-restart'] = (done['broker-restart'] ?? 0) + 1;
    log('RabbitMQ started again');
  };

  /** A service's faults run in order on its own timeline; the services' and the broker's overlap freely. */
  const timeline = async (list: Fault[]): Promise<void> => {
    for (const fault of list) {
      await sleep(Math.max(0, featuresT0 + fault.atMs - Date.now()));
      if (stopping) return;
      if (fault.kind === 'kill') await killAndRestart(fault);
      else if (fault.kind === 'cut') await cutConnection(fault);
      else await restartBroker(fault);
    }
  };

  /** Waits until the queues are empty and the CSV has stopped growing (and holds every confirmed id, or gives up). */
  const drain = async (): Promise<boolean> => {
    const until = Math.min(Date.now() + opts.drainTimeoutMs, deadlineAt - 2 * STOP_GRACE_MS);
    let lastSize = -1;
    let quietSince = Date.now();
    while (Date.now() < until) {
      const size = existsSync(csvPath) ? (await stat(csvPath)).size : 0;
      if (size !== lastSize) {
        lastSize = size;
        quietSince = Date.now();
      }
      const quietMs = Date.now() - quietSince;
      let empty = false;
      try {
        conn ??= await openTestConnection();
        const d = await withinBudget(queueDepths(conn, prefix), 'reading queue depths');
        empty = d.ready.features === 0 && d.ready.y_true === 0 && d.ready.y_pred === 0;
      } catch (err) {
        if (err instanceof BudgetExceeded) throw err;
        log(`queue depths not readable yet: ${String(err)}`);
      }
      if (empty && quietMs >= DRAIN_QUIET_MS) {
        const published = await publishedLogs();
        const written = new Set((await readCsv()).map((r) => JSON.stringify(r.idField)));
        const missing = [...published.ok].filter((k) => !written.has(k)).length;
        if (missing === 0) return true;
        if (quietMs >= DRAIN_GIVE_UP_QUIET_MS) {
          log(
            `queues empty and metric_log.csv still for ${quietMs} ms, yet ${missing} confirmed ids have no row`,
          );
          return true;
        }
      }
      await sleep(DRAIN_POLL_MS);
    }
    return false;
  };

  try {
    const expected = await loadExpected(opts.dataset, opts.model);
    await start(slots.metric);
    await start(slots.model);
    featuresT0 = Date.now();
    await start(slots.features);

    const of = (service: KillableService) =>
      faults.filter((f) => f.kind !== 'broker-restart' && f.service === service);
    await withinBudget(
      Promise.all([
        timeline(of('features')),
        timeline(of('model')),
        timeline(of('metric')),
        timeline(faults.filter((f) => f.kind === 'broker-restart')),
      ]),
      'carrying out the faults',
    );
    log('all faults carried out; waiting for features to finish');
    await withinBudget(featuresDone, 'waiting for features to publish every row');
    trafficMs = Date.now() - featuresT0;

    const drainStart = Date.now();
    const drained = await drain();
    drainMs = Date.now() - drainStart;
    if (!drained) notes.push(`the pipeline did not drain within ${opts.drainTimeoutMs} ms`);
    log(drained ? `drained in ${drainMs} ms` : `NOT drained after ${drainMs} ms; stopping anyway`);
    if (conn) depths = await withinBudget(queueDepths(conn, prefix), 'reading final queue depths');

    stopping = true;
    const toStop = [...running];
    for (const child of toStop) signalChild(child, 'SIGTERM');
    for (const child of toStop) {
      const exit = await waitForExit(child, STOP_GRACE_MS);
      if (!exit.graceful) notes.push(`${child.label} did not stop within ${STOP_GRACE_MS} ms of SIGTERM`);
      else if (exit.code !== 0) notes.push(`${child.label} stopped with ${describeExit(exit)} after SIGTERM`);
    }

    const published = await publishedLogs();
    const accounting = account({ published, rows: await readCsv(), expected });
    clean = promiseHeld(accounting) && unplannedExits.length === 0;
    return {
      accounting,
      seed: opts.seed,
      prefix,
      dir,
      faults,
      done,
      unplannedExits,
      notes,
      children,
      depths,
      publishedLogMalformed: published.malformed,
      timings: { trafficMs, drainMs, totalMs: Date.now() - startedAt },
    };
  } finally {
    stopping = true;
    if (brokerMayBeStopped) {
      log('the run ended with RabbitMQ possibly stopped: rabbitmqctl start_app');
      await startBrokerApp().catch((err: unknown) => log(`could not start RabbitMQ again: ${String(err)}`));
    }
    for (const child of [...running]) {
      signalChild(child, 'SIGKILL');
      await waitForExit(child, KILL_WAIT_MS);
    }
    await conn?.close().catch(() => undefined);
    await cleanupPrefix(prefix).catch((err: unknown) => log(`could not delete the queues: ${String(err)}`));
    if (clean && !opts.keepFiles) await rm(dir, { recursive: true, force: true });
    else log(`kept ${dir} for inspection`);
  }
}
