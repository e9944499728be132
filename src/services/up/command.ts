// `predstream up`: the whole pipeline on one machine, each service its own process, with the same options.
import type { Command } from 'commander';
import { open } from 'node:fs/promises';
import path from 'node:path';
import {
  COMMAND_OPTIONS,
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
import { Supervisor, type ChildSpec } from './supervisor.js';

const SERVICES = ['metric', 'plot', 'model', 'features'] as const;
type Service = (typeof SERVICES)[number];
/** Producer first, so nothing new arrives while the consumers drain and flush. */
const STOP_ORDER: Service[] = ['features', 'model', 'metric', 'plot'];

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

/** Counts data rows appended to metric_log.csv since `up` started, by reading only the new bytes. */
export class CsvRowCounter {
  private offset = -1;
  rows = 0;
  constructor(private readonly file: string) {}

  async poll(): Promise<number> {
    let handle;
    try {
      handle = await open(this.file, 'r');
    } catch {
      if (this.offset < 0) this.offset = 0;
      return this.rows;
    }
    try {
      const { size } = await handle.stat();
      if (this.offset < 0) {
        // First look: rows already there belong to earlier runs.
        this.offset = size;
        return this.rows;
      }
      if (size < this.offset) this.offset = size; // repaired (cut line removed) or replaced
      if (size === this.offset) return this.rows;
      const buf = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
      let lines = 0;
      let lastNewline = -1;
      for (let i = 0; i < bytesRead; i++) {
        if (buf[i] === 10) {
          lines += 1;
          lastNewline = i;
        }
      }
      if (this.offset === 0 && lines > 0) lines -= 1; // the header
      this.offset += lastNewline + 1;
      this.rows += lines;
      return this.rows;
    } finally {
      await handle.close();
    }
  }
}

export async function runUp(config: ConfigOf<'up'>, log: Logger, shutdown: Shutdown): Promise<number> {
  const colour = process.stdout.isTTY === true;
  const childFormat = config.logFormat === 'json' ? 'json' : 'pretty';
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: childFormat };
  delete env.METRICS_PORT;
  if (colour && childFormat === 'pretty') env.FORCE_COLOR = '1';

  let fatal: number | undefined;
  const specs: ChildSpec[] = SERVICES.map((service, i) => ({
    name: service,
    args: [
      CLI_ENTRY,
      ...childArgs(service, config, config.metricsPortBase === 0 ? 0 : config.metricsPortBase + i),
    ],
    env,
    mayFinish: service === 'features',
  }));
  const supervisor = new Supervisor(specs, log, {
    onFatal: (_name, code) => {
      fatal = code;
      shutdown.request('a service failed');
    },
  });
  const counter = new CsvRowCounter(path.join(config.logs, 'metric_log.csv'));
  await counter.poll();
  supervisor.start();
  log.info(
    { pids: supervisor.pids() },
    `pipeline started${config.httpPort ? `; dashboard on http://${config.httpHost}:${config.httpPort}` : ''}` +
      (config.count ? `; stopping after ${config.count} rows` : '; Ctrl-C stops it'),
  );

  let lastReport = Date.now();
  const poller = setInterval(() => {
    void counter.poll().then((rows) => {
      if (config.count && rows >= config.count) shutdown.request(`${rows} rows written`);
      if (Date.now() - lastReport >= 5_000) {
        lastReport = Date.now();
        log.info(`rows written to metric_log.csv: ${rows}${config.count ? ` of ${config.count}` : ''}`);
      }
    });
  }, 200);
  const reason = await shutdown.requested;
  clearInterval(poller);
  log.info(`stopping the pipeline (${reason})`);
  await supervisor.stop(STOP_ORDER);
  const rows = await counter.poll();
  log.info(`stopped; ${rows} rows written to ${path.join(config.logs, 'metric_log.csv')} in this run`);
  return fatal ?? 0;
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
