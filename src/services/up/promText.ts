// Reads the Prometheus text exposition format (what a service's /metrics answers) into samples.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

// Case-insensitive, as Prometheus reads them (Go's ParseFloat): prom-client 15 writes NaN as "Nan".
const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity };

function parseValue(text: string): number {
  const special = SPECIAL[text.toLowerCase()];
  if (special !== undefined) return special;
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new Error(`'${text}' is not a sample value`);
  return n;
}

/** Labels from just after `{`; returns them and the index just after `}`. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const name = LABEL_NAME.exec(line.slice(i))?.[0];
    if (!name) throw new Error(`bad label name at column ${i + 1}`);
    i += name.length;
    if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`expected ="..." after label ${name}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error(`unterminated value of label ${name}`);
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const e = line[i++];
        value += e === 'n' ? '\n' : (e ?? '');
      } else value += c;
    }
    labels[name] = value;
    while (line[i] === ' ') i++;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`expected , or } after label ${name}`);
  }
}

/**
 * Every sample of a /metrics body; comment lines (`# HELP`, `# TYPE`) are skipped. Throws on a line
 * that is not a sample, naming it, so a scrape of something that is not a metrics port fails loudly.
 */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      const name = NAME.exec(line)?.[0];
      if (!name) throw new Error('no metric name');
      let i = name.length;
      let labels: Record<string, string> = {};
      if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i + 1));
      const [value, timestamp, ...rest] = line.slice(i).trim().split(/\s+/);
      if (value === undefined || rest.length > 0 || (timestamp !== undefined && !/^-?\d+$/.test(timestamp)))
        throw new Error('expected a value and an optional integer timestamp');
      samples.push({ name, labels, value: parseValue(value) });
    } catch (err) {
      throw new Error(
        `line ${n + 1} is not Prometheus text (${(err as Error).message}): ${line.slice(0, 120)}`,
      );
    }
  }
  return samples;
}

/** Sum of the samples named `name` (over all label sets), or undefined when there is none. */
export function sumSamples(samples: readonly PromSample[], name: string): number | undefined {
  let sum: number | undefined;
  for (const s of samples) if (s.name === name) sum = (sum ?? 0) + s.value;
  return sum;
}
