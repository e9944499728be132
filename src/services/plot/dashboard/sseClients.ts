// The open Server-Sent Events connections: one write per broadcast, slow readers dropped rather than buffered without end.
import type { ServerResponse } from 'node:http';

/** What a connection needs to be: a Node response, or anything that writes and ends like one. */
export type SseSink = Pick<ServerResponse, 'write' | 'end' | 'destroy' | 'writableLength' | 'once'>;

export interface SseClientsOptions {
  /** Most connections at once; more are refused (a page left open in many tabs must not starve the service). */
  maxClients?: number;
  /** A connection with more than this many bytes not yet sent is dropped; its page reconnects and gets the full state. */
  maxBufferedBytes?: number;
}

const DEFAULT_OPTIONS: Required<SseClientsOptions> = { maxClients: 64, maxBufferedBytes: 4 * 1024 * 1024 };

export class SseClients {
  private readonly sinks = new Set<SseSink>();
  private readonly opts: Required<SseClientsOptions>;

  constructor(options: SseClientsOptions = {}) {
    this.opts = { ...DEFAULT_OPTIONS, ...options };
  }

  get size(): number {
    return this.sinks.size;
  }

  get full(): boolean {
    return this.sinks.size >= this.opts.maxClients;
  }

  /** Starts broadcasting to `sink` after writing `first` (the full state) to it alone. */
  add(sink: SseSink, first: string): void {
    sink.write(first);
    this.sinks.add(sink);
    sink.once('close', () => this.sinks.delete(sink));
  }

  /** Writes the same bytes to every connection; returns how many it reached. */
  broadcast(text: string): number {
    let reached = 0;
    for (const sink of this.sinks) {
      if (sink.writableLength > this.opts.maxBufferedBytes) {
        this.sinks.delete(sink);
        sink.destroy();
        continue;
      }
      sink.write(text);
      reached++;
    }
    return reached;
  }

  /** Ends every connection (the pages' EventSource then reconnects, to this server's successor). */
  closeAll(): void {
    for (const sink of this.sinks) sink.end();
    this.sinks.clear();
  }
}
