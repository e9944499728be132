// The process logger: structured pino lines, pretty on a terminal; secrets are redacted before they leave.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  service: string;
  level: string;
  format: 'auto' | 'json' | 'pretty';
  /** Log to stderr: for commands whose stdout is their output (predict, dead-letters). */
  stderr?: boolean;
}

export function createLogger({ service, level, format, stderr = false }: LoggerOptions): Logger {
  const out = stderr ? process.stderr : process.stdout;
  const usePretty = format === 'pretty' || (format === 'auto' && out.isTTY === true);
  const base = { service };
  const options = {
    level,
    base,
    redact: { paths: ['password', '*.password', 'url.password'], censor: '***' },
  };
  if (!usePretty) return pino(options, pino.destination({ fd: stderr ? 2 : 1, sync: true }));
  const stream = pretty({
    sync: true,
    colorize: process.env.FORCE_COLOR === '1' || out.isTTY === true,
    destination: stderr ? 2 : 1,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
  return pino(options, stream);
}
