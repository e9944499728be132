// Follows the AMQP 0-9-1 frames of captured TCP connections and reports each message published to, or
// delivered by, the broker: its routing key, its JSON id, the publish time in its header, and the capture
// time of the segment that completed it. Pure: fed segments in capture order; reports messages sorted by
// that time.
import { HEADER_PUBLISHED_AT } from '../../src/contract/wire.js';
import type { TcpSegment } from './pcap.js';

export interface WireMessage {
  kind: 'publish' | 'deliver';
  routingKey: string;
  /** The message's `id`, as text (a number id as its digits). */
  id: string;
  /** The `id` as canonical JSON, so the number 151 and the string "151" stay two ids (as `idKey` keeps them). */
  idJson: string;
  /** The `x-predstream-published-at` header (ms), when the message has one. */
  publishedAtMs: number | undefined;
  /** When the segment holding the last byte of its body was captured. */
  atMs: number;
  /** The TCP connection and direction it went on ("from>to"). */
  stream: string;
}

/** Segments held while one before them is missing; past this, the missing one is taken as lost. */
const MAX_EARLY_SEGMENTS = 64;
const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_HEARTBEAT = 8;
const FRAME_TYPES = new Set([FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT]);
/** Far above any frame_max a client negotiates (RabbitMQ's default is 128 KiB). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const FRAME_END = 0xce;
const BASIC = 60;
const BASIC_PUBLISH = 40;
const BASIC_DELIVER = 60;
const PROTOCOL_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
const HEADER_KEY = Buffer.from(HEADER_PUBLISHED_AT, 'latin1');
/** `"id":` then a JSON string or number, as the wire contract encodes it. */
const ID_PATTERN = /"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)/;

/** The value of a numeric field-table entry whose type tag is at `at`, or undefined. */
function numberAt(b: Buffer, at: number): number | undefined {
  switch (String.fromCharCode(b[at] ?? 0)) {
    case 'd':
      return b.length >= at + 9 ? b.readDoubleBE(at + 1) : undefined;
    case 'f':
      return b.length >= at + 5 ? b.readFloatBE(at + 1) : undefined;
    case 'l':
      return b.length >= at + 9 ? Number(b.readBigInt64BE(at + 1)) : undefined;
    case 'I':
      return b.length >= at + 5 ? b.readInt32BE(at + 1) : undefined;
    default:
      return undefined;
  }
}

/** The publish time in a content header frame's payload: found by its key in the headers table. */
export function publishedAtOf(headerPayload: Buffer): number | undefined {
  const key = headerPayload.indexOf(HEADER_KEY);
  if (key < 1 || headerPayload[key - 1] !== HEADER_KEY.length) return undefined;
  return numberAt(headerPayload, key + HEADER_KEY.length);
}

/** The id of a JSON body `{"id": ..., "body": ...}`: as text, and as canonical JSON; or undefined. */
export function idOf(body: Buffer): { id: string; idJson: string } | undefined {
  const m = ID_PATTERN.exec(body.toString('utf8'));
  if (!m) return undefined;
  try {
    const value: unknown = JSON.parse(m[1]!);
    return { id: String(value), idJson: JSON.stringify(value) };
  } catch {
    return undefined;
  }
}

/** How far sequence number `a` is past `b` (negative when before), in TCP's wrapping 32-bit arithmetic. */
function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

function shortString(b: Buffer, at: number): [string, number] {
  const n = b[at]!;
  return [b.toString('latin1', at + 1, at + 1 + n), at + 1 + n];
}

interface Pending {
  kind: WireMessage['kind'];
  routingKey: string;
  publishedAtMs: number | undefined;
  bodySize: number;
  body: Buffer[];
  bodyBytes: number;
}

/** One direction of one TCP connection. */
class Direction {
  private buffered: Buffer[] = [];
  /** Segments captured ahead of one still missing, by sequence number. */
  private readonly early = new Map<number, TcpSegment>();
  /** Why this direction is no longer followed, once it is not. */
  problem: string | undefined;
  private started = false;
  /** Per channel: the message whose frames are arriving. */
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly name: string,
    /** The next sequence number expected; known from the start when the connection's SYN was captured. */
    private nextSeq?: number,
  ) {}

  feed(segment: TcpSegment, out: WireMessage[]): void {
    if (this.problem !== undefined) return;
    if (this.nextSeq !== undefined) {
      const ahead = seqDelta(segment.seq, this.nextSeq);
      if (ahead > 0) {
        // Captured before a segment sent just before it (two cores capturing): hold it until that one.
        this.early.set(segment.seq, segment);
        if (this.early.size > MAX_EARLY_SEGMENTS) {
          this.problem = `${ahead} bytes missing from the capture (dropped by the kernel? capture with a bigger buffer: tcpdump -B 131072)`;
        }
        return;
      }
    }
    this.take(segment, out);
    for (let next = this.heldAtNextSeq(); next && this.problem === undefined; next = this.heldAtNextSeq()) {
      this.early.delete(next.seq);
      this.take(next, out);
    }
  }

  /** A held segment holding the next byte expected; drops those a retransmission has covered since. */
  private heldAtNextSeq(): TcpSegment | undefined {
    for (const [seq, s] of this.early) {
      const taken = seqDelta(this.nextSeq!, seq); // its bytes already taken
      if (taken < 0) continue; // it starts later
      if (taken < s.payload.length) return s;
      this.early.delete(seq);
    }
    return undefined;
  }

  private take(segment: TcpSegment, out: WireMessage[]): void {
    if (this.problem !== undefined) return;
    if (segment.truncated) {
      this.problem = 'packets cut short by the capture (its snapshot length): capture with tcpdump -s 0';
      return;
    }
    let payload = segment.payload;
    if (this.nextSeq !== undefined && segment.seq !== this.nextSeq) {
      // A retransmission: keep only the part not seen yet.
      const seen = seqDelta(this.nextSeq, segment.seq);
      if (seen >= payload.length) return;
      payload = payload.subarray(seen);
    }
    this.nextSeq = (segment.seq + segment.payload.length) >>> 0;
    this.buffered.push(payload);
    let data = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    let at = 0;
    if (!this.started) {
      if (data.length < PROTOCOL_HEADER.length && PROTOCOL_HEADER.subarray(0, data.length).equals(data)) {
        this.buffered = [data];
        return;
      }
      if (data.subarray(0, PROTOCOL_HEADER.length).equals(PROTOCOL_HEADER)) at = PROTOCOL_HEADER.length;
      this.started = true;
    }
    while (data.length - at >= 8) {
      const type = data[at]!;
      const channel = data.readUInt16BE(at + 1);
      const size = data.readUInt32BE(at + 3);
      if (!FRAME_TYPES.has(type) || size > MAX_FRAME_BYTES) {
        this.problem = 'no AMQP frame where one should start (did the capture start mid-connection?)';
        this.buffered = [];
        return;
      }
      if (data.length - at < size + 8) break;
      if (data[at + 7 + size] !== FRAME_END) {
        this.problem = 'no AMQP frame end where one should be (did the capture start mid-connection?)';
        this.buffered = [];
        return;
      }
      this.onFrame(type, channel, data.subarray(at + 7, at + 7 + size), segment.atMs, out);
      at += size + 8;
    }
    data = data.subarray(at);
    this.buffered = data.length > 0 ? [Buffer.from(data)] : [];
  }

  private onFrame(type: number, channel: number, payload: Buffer, atMs: number, out: WireMessage[]): void {
    if (type === FRAME_METHOD) {
      this.pending.delete(channel);
      if (payload.length < 4 || payload.readUInt16BE(0) !== BASIC) return;
      const method = payload.readUInt16BE(2);
      if (method === BASIC_PUBLISH) {
        const [, afterExchange] = shortString(payload, 6);
        const [routingKey] = shortString(payload, afterExchange);
        this.pending.set(channel, { kind: 'publish', routingKey, ...emptyBody() });
      } else if (method === BASIC_DELIVER) {
        const [, afterTag] = shortString(payload, 4);
        const [, afterExchange] = shortString(payload, afterTag + 9);
        const [routingKey] = shortString(payload, afterExchange);
        this.pending.set(channel, { kind: 'deliver', routingKey, ...emptyBody() });
      }
      return;
    }
    const p = this.pending.get(channel);
    if (!p) return;
    if (type === FRAME_HEADER) {
      if (payload.length < 14) {
        this.problem = `a content header of ${payload.length} bytes, shorter than AMQP allows`;
        return;
      }
      p.bodySize = Number(payload.readBigUInt64BE(4));
      p.publishedAtMs = publishedAtOf(payload);
    } else if (type === FRAME_BODY) {
      p.body.push(payload);
      p.bodyBytes += payload.length;
    } else {
      return;
    }
    if (p.bodySize >= 0 && p.bodyBytes >= p.bodySize) {
      this.pending.delete(channel);
      const id = idOf(Buffer.concat(p.body));
      if (id !== undefined) {
        out.push({
          kind: p.kind,
          routingKey: p.routingKey,
          ...id,
          publishedAtMs: p.publishedAtMs,
          atMs,
          stream: this.name,
        });
      }
    }
  }
}

function emptyBody(): Pick<Pending, 'publishedAtMs' | 'bodySize' | 'body' | 'bodyBytes'> {
  return { publishedAtMs: undefined, bodySize: -1, body: [], bodyBytes: 0 };
}

export interface WireCapture {
  /** Every message published or delivered, in capture order. */
  messages: WireMessage[];
  /** Directions of connections that could not be followed to the end, with why. */
  skipped: { stream: string; problem: string }[];
}

/** The messages published or delivered on the captured connections to `brokerPort`. */
export function wireMessages(segments: Iterable<TcpSegment>, brokerPort = 5672): WireCapture {
  const directions = new Map<string, Direction>();
  const skipped: WireCapture['skipped'] = [];
  const out: WireMessage[] = [];
  const port = `:${brokerPort}`;
  const report = (name: string, d: Direction) => {
    if (d.problem !== undefined) skipped.push({ stream: name, problem: d.problem });
  };
  for (const s of segments) {
    if (!s.from.endsWith(port) && !s.to.endsWith(port)) continue;
    const name = `${s.from}>${s.to}`;
    let d = directions.get(name);
    if (s.syn) {
      // A new connection on the same ports: follow it from its first byte.
      if (d) report(name, d);
      directions.set(name, new Direction(name, (s.seq + 1) >>> 0));
      continue;
    }
    if (!d) directions.set(name, (d = new Direction(name)));
    d.feed(s, out);
  }
  for (const [name, d] of directions) report(name, d);
  // Held segments are taken late: put the messages back in the order their last bytes were captured.
  out.sort((a, b) => a.atMs - b.atMs);
  return { messages: out, skipped };
}
