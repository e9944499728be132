// The lines of features' --published-log: what was sent (before each publish) and what was confirmed. Pure.
//
//   sent <id> <row> <publishedAtMs>   before the publish of a row's two halves
//   ok <id>                           after the broker confirmed both
//
// <id> is the id's JSON (idKey: a string id in quotes, so it may hold spaces), <row> the dataset row, and
// <publishedAtMs> the whole ms of the time (ms since epoch, sub-ms) the messages carry in their
// published-at header (lines written before it was added have no time).

export interface SentLine {
  kind: 'sent';
  /** The id's JSON, as written. */
  idJson: string;
  row: number;
  /** Undefined in lines of an older predstream. */
  publishedAtMs: number | undefined;
}

export interface OkLine {
  kind: 'ok';
  idJson: string;
}

export type PublishedLogLine = SentLine | OkLine;

export function formatSentLine(idJson: string, row: number, publishedAtMs: number): string {
  return `sent ${idJson} ${row} ${publishedAtMs}\n`;
}

export function formatOkLine(idJson: string): string {
  return `ok ${idJson}\n`;
}

// Lazy id: a JSON string id may contain spaces but ends in a quote, a number id has none.
const SENT = /^sent (.+?) (\d+)(?: (\d+))?$/;
const OK = /^ok (.+)$/;

/** One line (without its newline); undefined when it is neither form. The id's JSON is not checked here. */
export function parsePublishedLogLine(line: string): PublishedLogLine | undefined {
  const sent = SENT.exec(line);
  if (sent) {
    return {
      kind: 'sent',
      idJson: sent[1]!,
      row: Number(sent[2]),
      publishedAtMs: sent[3] === undefined ? undefined : Number(sent[3]),
    };
  }
  const ok = OK.exec(line);
  return ok ? { kind: 'ok', idJson: ok[1]! } : undefined;
}
