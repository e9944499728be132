// The `predstream` command tree: one subcommand per service, plus `up`, `predict` and `dead-letters`.
import { Command } from 'commander';
import { BrokerUnreachableError } from './broker/errors.js';
import type { CommandName, ConfigOf } from './config/options.js';
import { ConfigError, addOptions, configFromCommand } from './config/parse.js';
import { createLogger, type Logger } from './util/logger.js';
import { packageVersion } from './util/paths.js';
import { createShutdown, type Shutdown } from './util/shutdown.js';
import { addUpCommand } from './services/up/command.js';
import { addDeadLettersCommand } from './deadLetters/command.js';

/** Exit codes: 0 done, 1 failed, 2 bad usage or configuration, 3 RabbitMQ unreachable. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export type ServiceMain<C extends CommandName> = (
  config: ConfigOf<C>,
  log: Logger,
  shutdown: Shutdown,
) => Promise<void>;

export async function runService<C extends CommandName>(
  name: C,
  cmd: Command,
  load: () => Promise<ServiceMain<C>>,
): Promise<never> {
  let config: ConfigOf<C>;
  try {
    config = configFromCommand(name, cmd);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`predstream ${name}: ${err.message}\nSee 'predstream ${name} --help'.\n`);
      process.exit(EXIT.usage);
    }
    throw err;
  }
  const { logLevel, logFormat } = config as { logLevel: string; logFormat: 'auto' | 'json' | 'pretty' };
  const stderr = name === 'predict' || name === 'dead-letters';
  // `up` talks to a person: its own lines are plain text unless JSON is asked for.
  const format = name === 'up' && logFormat === 'auto' ? 'pretty' : logFormat;
  const log = createLogger({ service: name, level: logLevel, format, stderr });
  const shutdown = createShutdown(log);
  process.on('unhandledRejection', (err) => {
    log.fatal({ err: String(err) }, 'unhandled error; exiting');
    process.exit(EXIT.failed);
  });
  let code: number = EXIT.ok;
  try {
    const main = await load();
    await main(config, log, shutdown);
  } catch (err) {
    const exitCode = (err as { exitCode?: unknown }).exitCode;
    code =
      typeof exitCode === 'number'
        ? exitCode
        : err instanceof BrokerUnreachableError
          ? EXIT.unreachable
          : EXIT.failed;
    log.fatal(err instanceof Error ? err.message : String(err));
  }
  await shutdown.run();
  process.exit(code);
}

function serviceCommand<C extends CommandName>(
  program: Command,
  name: C,
  summary: string,
  load: () => Promise<ServiceMain<C>>,
): Command {
  const cmd = program.command(name).description(summary);
  addOptions(cmd, name);
  cmd.action(async () => {
    await runService(name, cmd, load);
  });
  return cmd;
}

export function buildProgram(): Command {
  const program = new Command('predstream')
    .description(
      'A real-time ML pipeline over RabbitMQ: features -> model -> metric -> plot.\n' +
        'Each service is its own process; `predstream up` runs all four.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false });

  serviceCommand(
    program,
    'features',
    'publish dataset rows: the feature vector to `features`, the true value to `y_true`, under one id',
    async () => (await import('./services/features/service.js')).runFeaturesService,
  );
  serviceCommand(
    program,
    'model',
    'consume `features`, predict with a scikit-learn or ONNX model, publish to `y_pred`',
    async () => (await import('./services/model/service.js')).runModelService,
  );
  serviceCommand(
    program,
    'metric',
    'join `y_true` and `y_pred` by id and append to metric_log.csv and labels_log.txt',
    async () => (await import('./services/metric/service.js')).runMetricService,
  );
  serviceCommand(
    program,
    'plot',
    'follow metric_log.csv, redraw error_distribution.png and serve the live dashboard',
    async () => (await import('./services/plot/service.js')).runPlotService,
  );
  serviceCommand(
    program,
    'predict',
    'read one JSON array of features per line on stdin, print one prediction per line (no broker)',
    async () => (await import('./services/model/predictCommand.js')).runPredictCommand,
  );
  addUpCommand(program, runService);
  addDeadLettersCommand(program, runService);
  return program;
}
