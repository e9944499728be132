// Turns the option table into commander options and validates what the user gave: flag, then env, then default.
import { Command, Option } from 'commander';
import {
  COMMAND_OPTIONS,
  OPTIONS,
  type CommandName,
  type ConfigOf,
  type OptionKey,
  type OptionSpec,
} from './options.js';

/** A bad option value: the message names the option, the value and what is allowed. Exit code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function specOf(key: OptionKey): OptionSpec {
  return OPTIONS[key] as OptionSpec;
}

/** Adds the options of `command` to a commander command. */
export function addOptions(cmd: Command, command: CommandName): Command {
  for (const key of COMMAND_OPTIONS[command]) {
    const spec = specOf(key);
    const flags = spec.value ? `--${spec.flag} ${spec.value}` : `--${spec.flag}`;
    // Booleans read their env var themselves: commander treats any defined value, even "false", as true.
    const description = spec.value ? spec.description : `${spec.description} (env: ${spec.env})`;
    const option = new Option(flags, description);
    if (spec.value) option.env(spec.env);
    if (spec.value && spec.default !== undefined && spec.default !== '') option.default(spec.default);
    cmd.addOption(option);
  }
  return cmd;
}

function describeSource(spec: OptionSpec, source: string | undefined): string {
  if (source === 'env') return `environment variable ${spec.env}`;
  if (source === 'default') return `default of --${spec.flag}`;
  return `--${spec.flag}`;
}

/**
 * Validates the values commander collected (or the environment, for boolean switches)
 * into the typed config of `command`. Throws ConfigError naming the option.
 */
export function readConfig<C extends CommandName>(
  command: C,
  values: Record<string, unknown>,
  sourceOf: (attribute: string) => string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<C> {
  const config: Record<string, unknown> = {};
  for (const key of COMMAND_OPTIONS[command]) {
    const spec = specOf(key);
    let raw = values[key];
    let source = sourceOf(key);
    if (!spec.value && raw === undefined) {
      raw = env[spec.env] ?? spec.default;
      source = env[spec.env] !== undefined ? 'env' : 'default';
    }
    if (raw === undefined) raw = spec.default;
    if (raw === undefined || raw === '') {
      if (spec.default === '') config[key] = '';
      else config[key] = undefined;
      continue;
    }
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(
        `invalid value ${JSON.stringify(String(raw))} for ${describeSource(spec, source)}: ${why}` +
          (source === 'env' ? ` (unset it or pass --${spec.flag})` : ''),
      );
    }
    config[key] = parsed.data;
  }
  return config as ConfigOf<C>;
}

/** Reads and validates the options of a commander command after it parsed its arguments. */
export function configFromCommand<C extends CommandName>(command: C, cmd: Command): ConfigOf<C> {
  return readConfig(command, cmd.opts(), (attr) => cmd.getOptionValueSource(attr));
}
