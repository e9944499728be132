// Server-Sent Events framing: the exact bytes an EventSource reads as one event, comment or retry hint.

// A field value ends at any of CR, LF or CRLF, so a payload line must be split on all three.
const LINE_BREAK = /\r\n|\r|\n/;

/**
 * One event: `event:` names it (what `addEventListener(name)` receives), each line of `data` becomes its
 * own `data:` field (the browser joins them back with "\n"), and a blank line ends the event.
 */
export function sseEvent(event: string, data: string, id?: string): string {
  if (!/^[A-Za-z][\w.-]*$/.test(event)) {
    throw new RangeError(
      `SSE event name must be a word without spaces or line breaks, got ${JSON.stringify(event)}`,
    );
  }
  if (id !== undefined && /[\r\n\0]/.test(id)) {
    throw new RangeError(`SSE id must not contain line breaks or NUL, got ${JSON.stringify(id)}`);
  }
  const lines = data.split(LINE_BREAK).map((line) => `data: ${line}\n`);
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\n${lines.join('')}\n`;
}

/** A comment line: ignored by EventSource, but it keeps idle connections (and proxies) from timing out. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** Tells EventSource how long to wait before reconnecting after the connection drops. */
export function sseRetry(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0)
    throw new RangeError(`SSE retry must be a whole number of ms >= 0, got ${ms}`);
  return `retry: ${ms}\n\n`;
}
