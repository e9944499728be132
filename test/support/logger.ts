// A silent logger for tests that keeps the lines it was given, to assert on warnings.
import { pino } from 'pino';
import { Writable } from 'node:stream';

export function captureLogger(): { log: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines: () => lines };
}
