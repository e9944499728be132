// A small EventSource for tests in Node: reads a text/event-stream response and parses it as a browser would.
import http from 'node:http';

export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * Parses the stream by the WHATWG rules (lines end at CRLF, CR or LF; `:` starts a comment; a blank line
 * dispatches; one space after the colon is dropped), independently of the server's framing code.
 */
export class SseTestClient {
  readonly messages: SseMessage[] = [];
  comments = 0;
  retry: number | undefined;
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  /** Resolves when the server ends the stream (or the connection drops). */
  readonly ended: Promise<void>;
  private request: http.ClientRequest | undefined;
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private waiters: Array<() => void> = [];
  private endedResolve!: () => void;

  private constructor() {
    this.ended = new Promise((resolve) => (this.endedResolve = resolve));
  }

  /** Parses a whole stream given as text (no connection). */
  static parse(text: string): SseTestClient {
    const client = new SseTestClient();
    client.feed(text);
    return client;
  }

  static connect(url: string): Promise<SseTestClient> {
    const client = new SseTestClient();
    return new Promise((resolve, reject) => {
      // A connection of its own (no pooled keep-alive socket), as a browser's EventSource has.
      const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        client.status = res.statusCode ?? 0;
        client.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => client.feed(chunk));
        res.on('end', () => client.finish());
        res.on('close', () => client.finish());
        resolve(client);
      });
      req.on('error', (err) => {
        client.finish();
        reject(err);
      });
      client.request = req;
    });
  }

  /** The first message (from `from` on) matching `predicate`, waiting up to `timeoutMs`. */
  async next(
    predicate: (m: SseMessage) => boolean = () => true,
    timeoutMs = 3000,
    from = 0,
  ): Promise<SseMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no matching SSE message within ${timeoutMs} ms; got ${this.messages.map((m) => m.event).join(', ')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.request?.destroy();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone CR at the end may be the first half of CRLF: wait for more.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        this.messages.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
        for (const wake of this.waiters.splice(0)) wake();
      }
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id') this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }

  private finish(): void {
    this.endedResolve();
    for (const wake of this.waiters.splice(0)) wake();
  }
}
