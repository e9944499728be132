import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ConfigError, addOptions, readConfig } from './parse.js';

function parse(command: Parameters<typeof addOptions>[1], argv: string[], env: NodeJS.ProcessEnv = {}) {
  const saved = { ...process.env };
  // commander reads env vars from process.env while parsing
  for (const k of Object.keys(process.env))
    if (/^(AMQP_URL|QUEUE_|FEATURES_|LEGACY_|LOG_|METRICS_|JOIN_|PLOT_|HTTP_|PREFETCH)/.test(k))
      delete process.env[k];
  Object.assign(process.env, env);
  try {
    const cmd = addOptions(new Command(command).exitOverride(), command);
    cmd.parse(argv, { from: 'user' });
    return readConfig(command, cmd.opts(), (a) => cmd.getOptionValueSource(a), process.env);
  } finally {
    process.env = saved;
  }
}

describe('configuration: flag, then environment, then default', () => {
  it('uses defaults when nothing is given', () => {
    const c = parse('features', []);
    expect(c.amqpUrl).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(c.queuePrefix).toBe('');
    expect(c.rate).toBe(1);
    expect(c.count).toBe(0);
    expect(c.legacyQueues).toBe(false);
    expect(c.seed).toBeUndefined();
  });

  it('takes the environment over the default and the flag over the environment', () => {
    expect(parse('features', [], { FEATURES_RATE: '250' }).rate).toBe(250);
    expect(parse('features', ['--rate', 'max'], { FEATURES_RATE: '250' }).rate).toBe('max');
    expect(parse('metric', [], { QUEUE_PREFIX: 't1.' }).queuePrefix).toBe('t1.');
  });

  it('reads boolean switches from the environment by their value, not their presence', () => {
    expect(parse('model', [], { LEGACY_QUEUES: 'false' }).legacyQueues).toBe(false);
    expect(parse('model', [], { LEGACY_QUEUES: '1' }).legacyQueues).toBe(true);
    expect(parse('model', ['--legacy-queues'], {}).legacyQueues).toBe(true);
  });

  it.each([
    ['features', ['--rate', '0'], /--rate: expected rows per second \(a number > 0\) or 'max'/],
    ['features', ['--rate', 'fast'], /invalid value "fast" for --rate/],
    ['features', ['--count', '-1'], /--count: expected a whole number, 0 or more/],
    ['features', ['--count', '1.5'], /--count/],
    ['model', ['--prefetch', '0'], /--prefetch: expected a whole number greater than 0/],
    ['model', ['--amqp-url', 'http://x'], /--amqp-url: expected a URL like amqp:/],
    ['model', ['--queue-type', 'stream'], /--queue-type: expected classic or quorum/],
    ['metric', ['--join-ttl', 'abc'], /--join-ttl/],
    ['metric', ['--sync-interval', '5000'], /--sync-interval: expected at most 1000 ms/],
    ['metric', ['--sync-interval', '-1'], /--sync-interval: expected a whole number, 0 or more/],
    ['plot', ['--http-port', '70000'], /--http-port: expected a port number/],
    ['model', ['--queue-prefix', 'a b'], /--queue-prefix: letters, digits/],
  ] as const)('%s %j is refused with a message naming the option', (command, argv, message) => {
    expect(() => parse(command, [...argv])).toThrow(ConfigError);
    expect(() => parse(command, [...argv])).toThrow(message);
  });

  it('names the environment variable when the bad value came from there', () => {
    expect(() => parse('features', [], { FEATURES_RATE: 'soon' })).toThrow(
      /environment variable FEATURES_RATE.*unset it or pass --rate/,
    );
  });
});
