// The `up` process's own logger while the status block is shown: the same pretty lines, through the painter.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Like the CLI's pretty terminal logger (src/util/logger.ts), but every line goes to `sink` so the
 * painter can print it above the status block instead of into it.
 */
export function createPaintedLogger(level: string, sink: (text: string) => void): Logger {
  const prettify = pretty.prettyFactory({
    colorize: true,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
  return pino(
    {
      level,
      base: { service: 'up' },
      redact: { paths: ['password', '*.password', 'url.password'], censor: '***' },
    },
    { write: (line: string) => sink(prettify(line)) },
  );
}
