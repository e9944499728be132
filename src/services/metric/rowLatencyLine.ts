// The lines of the metric's --row-latency-log: when each row's data was published, and when the row was
// in metric_log.csv. Pure.
//
//   <id> <publishedAtMs> <writtenAtMs>
//
// <id> is the id's JSON (idKey: a string id in quotes, so it may hold spaces); both times are ms since
// the epoch with three decimals (the features service stamps its published-at header with a sub-ms wall
// clock, the metric reads the same clock right after its write of the row returned). The difference is
// the row's publish-to-CSV latency, measured like the bench's broker-only ceiling measures its own.

export interface RowLatency {
  /** The id's JSON, as written. */
  idJson: string;
  publishedAtMs: number;
  writtenAtMs: number;
}

export function formatRowLatencyLine(idJson: string, publishedAtMs: number, writtenAtMs: number): string {
  return `${idJson} ${publishedAtMs.toFixed(3)} ${writtenAtMs.toFixed(3)}\n`;
}

// The id is everything before the last two fields (a JSON string may hold spaces); the two times are
// anchored at the end of the line.
const LINE = /^(.+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/;

/** One line (without its newline); undefined when it is not of this form. The id's JSON is not checked. */
export function parseRowLatencyLine(line: string): RowLatency | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return { idJson: m[1]!, publishedAtMs: Number(m[2]), writtenAtMs: Number(m[3]) };
}
