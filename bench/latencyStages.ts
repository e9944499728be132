// Where a pipeline row's latency goes, from the metric's labels_log.txt: when each half was received, when
// its row was joined, and when the row was written (--row-latency-log). Pure: the caller reads the files.
import { summariseLatency, type LatencySummary } from './stats.js';

/** The stages in order; each is a span of every measured row's publish-to-row latency. */
export const STAGES = ['yTrueReceived', 'yPredReceived', 'joined', 'written'] as const;
export type StageName = (typeof STAGES)[number];

export const STAGE_LABELS: Record<StageName, string> = {
  yTrueReceived: 'publish -> metric has y_true',
  yPredReceived: 'publish -> metric has y_pred (via model)',
  joined: 'later half in -> row joined',
  written: 'row joined -> written to the CSV',
};

export type StageSamples = Record<StageName, number[]>;

/** The times (ms) labels_log.txt gives one id: each half's receipt, and when its row was joined. */
export interface LabelTimes {
  yTrue?: number;
  yPred?: number;
  row?: number;
}

// `<ISO time> queue=<q> id=<id JSON> value=<v>` for a half, `<ISO time> row id=<id JSON> ...` for a row.
const LINE = /^(\S+) (?:queue=(y_true|y_pred)|(row)) id=("(?:[^"\\]|\\.)*"|\S+)/;

/**
 * Label-log times by id (the id as a string, like the CSV's). The first receipt of a half counts (a
 * redelivery logs it again); lines that are not the metric's are skipped.
 */
export function parseLabelsLog(text: string): Map<string, LabelTimes> {
  const byId = new Map<string, LabelTimes>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const at = Date.parse(m[1]!);
    let id: string;
    try {
      id = String(JSON.parse(m[4]!));
    } catch {
      continue;
    }
    if (!Number.isFinite(at)) continue;
    const times = byId.get(id) ?? {};
    const field = m[3] ? 'row' : m[2] === 'y_true' ? 'yTrue' : 'yPred';
    times[field] ??= at;
    byId.set(id, times);
  }
  return byId;
}

/**
 * Splits each measured row's latency into the stages. `sentAt` and `writtenAt` are by id; rows whose label
 * times are incomplete are left out. The label log has whole milliseconds, so a stage is +-1 ms.
 */
export function stageSamples(
  labels: ReadonlyMap<string, LabelTimes>,
  sentAt: ReadonlyMap<string, number>,
  writtenAt: ReadonlyMap<string, number>,
  measured: (id: string) => boolean,
): StageSamples {
  const out: StageSamples = { yTrueReceived: [], yPredReceived: [], joined: [], written: [] };
  for (const [id, written] of writtenAt) {
    const sent = sentAt.get(id);
    const t = labels.get(id);
    if (sent === undefined || !measured(id) || t?.yTrue === undefined || t.yPred === undefined) continue;
    if (t.row === undefined) continue;
    out.yTrueReceived.push(t.yTrue - sent);
    out.yPredReceived.push(t.yPred - sent);
    out.joined.push(t.row - Math.max(t.yTrue, t.yPred));
    out.written.push(written - t.row);
  }
  return out;
}

export function summariseStages(samples: StageSamples): Record<StageName, LatencySummary> {
  return Object.fromEntries(STAGES.map((s) => [s, summariseLatency(samples[s])])) as Record<
    StageName,
    LatencySummary
  >;
}

export function concatStages(all: readonly StageSamples[]): StageSamples {
  return Object.fromEntries(STAGES.map((s) => [s, all.flatMap((x) => x[s])])) as StageSamples;
}
