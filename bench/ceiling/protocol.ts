// Messages between the bench and its ceiling processes (Node IPC), and the child side's helpers.
/** `latencyFromSeq`: also send the latency samples of rows with a higher sequence number (only at the end of a
 * run: the periodic count requests must not make the child copy its samples). */
export type ToCeiling = { type: 'stats'; requestId: number; latencyFromSeq?: number };

export interface CeilingStats {
  type: 'stats';
  requestId: number;
  /** When the counters were read (ms since epoch, sub-ms). */
  atMs: number;
  /** Rows published and confirmed (producer), forwarded (forwarder) or matched (joiner). */
  count: number;
  /**
   * When asked for (`latencyFromSeq`), of the rows with a higher sequence number, in ms: publish-to-match
   * latency (joiner), or publish-to-delivery latency of the features message (forwarder).
   */
  latencyMs?: number[];
  /** Joiner only, when asked for: publish -> the joiner has that half, ms, of the same rows. */
  halvesMs?: { y_true: number[]; y_pred: number[] };
}

export type FromCeiling =
  | { type: 'ready' }
  | CeilingStats
  /** Producer only: it has published and confirmed `count` rows, all it was asked for. */
  | { type: 'done'; count: number; atMs: number };

export function tellParent(message: FromCeiling): void {
  process.send?.(message);
}

/** Latency samples, each with its row's sequence number, so the warm-up rows can be left out. */
export class SamplesBySeq {
  private readonly seqs: number[] = [];
  private readonly values: number[] = [];

  add(seq: number, value: number): void {
    this.seqs.push(seq);
    this.values.push(value);
  }

  /** The samples of rows with a sequence number above `fromSeq`; undefined when not asked for. */
  after(fromSeq: number | undefined): number[] | undefined {
    return fromSeq === undefined ? undefined : this.values.filter((_, i) => this.seqs[i]! > fromSeq);
  }
}

/** Answers the bench's stats requests with `read(latencyFromSeq)`. */
export function answerStats(
  read: (latencyFromSeq: number | undefined) => Omit<CeilingStats, 'type' | 'requestId'>,
): void {
  process.on('message', (raw: unknown) => {
    const msg = raw as ToCeiling;
    if (msg?.type !== 'stats') return;
    tellParent({ type: 'stats', requestId: msg.requestId, ...read(msg.latencyFromSeq) });
  });
}

/** The value of `--name` in argv, or the fallback. */
export function argOf(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value !== undefined) return value;
  if (fallback !== undefined) return fallback;
  throw new Error(`missing --${name}: the bench passes it to every ceiling process`);
}

/** The sequence number of an id made by createIdGenerator (`<run>-<seq>`). */
export function seqOf(id: string | number): number {
  const s = String(id);
  return Number(s.slice(s.lastIndexOf('-') + 1));
}
