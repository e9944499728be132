import { describe, expect, it } from 'vitest';
import { idOf, publishedAtOf, wireMessages } from '../../bench/wire/amqpMessages.js';
import { PcapError, tcpSegments } from '../../bench/wire/pcap.js';
import { splitAtBroker } from '../../bench/wire/wireSplit.js';
import { HEADER_PUBLISHED_AT } from '../../src/contract/wire.js';

// AMQP 0-9-1 frames, written by hand from the spec, as a publisher and the broker send them.
function frame(type: number, channel: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([0xce])]);
}
const short = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

function headerFrame(
  channel: number,
  bodySize: number,
  stamp: { tag: 'd' | 'l'; value: number } | undefined,
): Buffer {
  const size = Buffer.alloc(8);
  size.writeBigUInt64BE(BigInt(bodySize));
  let props = Buffer.concat([u16(0)]);
  if (stamp) {
    const value = Buffer.alloc(8);
    if (stamp.tag === 'd') value.writeDoubleBE(stamp.value);
    else value.writeBigInt64BE(BigInt(stamp.value));
    const entry = Buffer.concat([short(HEADER_PUBLISHED_AT), Buffer.from(stamp.tag), value]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(entry.length);
    props = Buffer.concat([u16(0x2000), len, entry]);
  }
  return frame(2, channel, Buffer.concat([u16(60), u16(0), size, props]));
}

function message(
  kind: 'publish' | 'deliver',
  queue: string,
  id: string | number,
  stamp?: { tag: 'd' | 'l'; value: number },
  channel = 1,
): Buffer {
  const method =
    kind === 'publish'
      ? Buffer.concat([u16(60), u16(40), u16(0), short(''), short(queue), Buffer.from([0])])
      : Buffer.concat([
          u16(60),
          u16(60),
          short('ctag-1'),
          Buffer.alloc(8, 1),
          Buffer.from([0]),
          short(''),
          short(queue),
        ]);
  const body = Buffer.from(JSON.stringify({ id, body: 151 }));
  return Buffer.concat([
    frame(1, channel, method),
    headerFrame(channel, body.length, stamp),
    frame(3, channel, body),
  ]);
}

// A classic pcap of Ethernet + IPv4 + TCP packets.
interface Packet {
  atMs: number;
  fromPort: number;
  toPort: number;
  seq: number;
  payload: Buffer;
  syn?: boolean;
  /** Bytes the capture left out at the end (as a short snapshot length does). */
  cut?: number;
}

function pcap(packets: Packet[]): Buffer {
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(262144, 16);
  global.writeUInt32LE(1, 20);
  const parts = [global];
  for (const p of packets) {
    const ether = Buffer.alloc(14);
    ether.writeUInt16BE(0x0800, 12);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 20 + p.payload.length, 2);
    ip[9] = 6;
    ip.set([127, 0, 0, 1], 12);
    ip.set([127, 0, 0, 1], 16);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(p.fromPort, 0);
    tcp.writeUInt16BE(p.toPort, 2);
    tcp.writeUInt32BE(p.seq >>> 0, 4);
    tcp[12] = 5 << 4;
    tcp[13] = p.syn ? 0x02 : 0x18;
    const whole = Buffer.concat([ether, ip, tcp, p.payload]);
    const data = whole.subarray(0, whole.length - (p.cut ?? 0));
    const head = Buffer.alloc(16);
    head.writeUInt32LE(Math.floor(p.atMs / 1000), 0);
    head.writeUInt32LE(Math.round((p.atMs % 1000) * 1000), 4);
    head.writeUInt32LE(data.length, 8);
    head.writeUInt32LE(whole.length, 12);
    parts.push(head, data);
  }
  return Buffer.concat(parts);
}

/** Cuts `bytes` into segments at `cuts` (offsets), numbered from `seq`. */
function segments(bytes: Buffer, seq: number, cuts: number[]): { seq: number; payload: Buffer }[] {
  const edges = [0, ...cuts, bytes.length];
  return edges.slice(1).map((end, i) => ({ seq: seq + edges[i]!, payload: bytes.subarray(edges[i]!, end) }));
}

const T = 1_796_000_000_000;

describe('bench wire split (AMQP messages in a packet capture)', () => {
  it('follows publishes and deliveries across segments, retransmissions and capture reordering', () => {
    const publisher = Buffer.concat([
      Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'),
      message('publish', 'p.y_true', 'run-1', { tag: 'd', value: T + 0.25 }),
      message('publish', 'p.y_true', 'run-2', { tag: 'd', value: T + 1 }),
    ]);
    const broker = Buffer.concat([
      message('deliver', 'p.y_true', 'run-1'),
      message('deliver', 'p.y_true', 'run-2'),
      message('deliver', 'p.y_true', 'run-1'), // a redelivery: not the message's way through
    ]);
    const runOneEnds = 8 + message('publish', 'p.y_true', 'run-1', { tag: 'd', value: 0 }).length;
    const [p1, p2, p3] = segments(publisher, 1000, [runOneEnds - 5, runOneEnds]);
    const deliverOne = message('deliver', 'p.y_true', 'run-1').length;
    const [b1, b2, b3] = segments(broker, 4_294_967_200, [deliverOne - 3, deliverOne * 2]); // wraps around 2^32
    const file = pcap([
      { atMs: T + 1, fromPort: 40000, toPort: 5672, ...p1! },
      { atMs: T + 2, fromPort: 40000, toPort: 5672, ...p2! }, // completes run-1's publish
      { atMs: T + 3, fromPort: 5672, toPort: 40001, ...b1! },
      { atMs: T + 3.5, fromPort: 40000, toPort: 5672, ...p2! }, // a retransmission
      // Seen bytes and new ones at once (a retransmission that takes in what was queued since): run-2's publish.
      {
        atMs: T + 4,
        fromPort: 40000,
        toPort: 5672,
        seq: p2!.seq,
        payload: Buffer.concat([p2!.payload, p3!.payload]),
      },
      { atMs: T + 9, fromPort: 5672, toPort: 40001, ...b3! }, // captured before the segment ahead of it
      { atMs: T + 9, fromPort: 5672, toPort: 40001, ...b2! }, // completes both deliveries
    ]);
    const capture = wireMessages(tcpSegments(file));
    expect(capture.skipped).toEqual([]);
    expect(capture.messages.map((m) => [m.kind, m.id, m.atMs - T])).toEqual([
      ['publish', 'run-1', 2],
      ['publish', 'run-2', 4],
      ['deliver', 'run-1', 9],
      ['deliver', 'run-2', 9],
      ['deliver', 'run-1', 9],
    ]);
    const [split] = splitAtBroker(capture.messages);
    expect(split!.queue).toBe('p.y_true');
    expect(split!.toConsumer.rows).toBe(2);
    // run-1: stamped at +0.25, on the wire at +2, delivered at +9; run-2: +1, +4, +9.
    expect(split!.toBroker.maxMs).toBeCloseTo(3, 3);
    expect(split!.toBroker.p50Ms).toBeCloseTo(1.75, 3);
    expect(split!.inBroker.maxMs).toBeCloseTo(7, 3);
    expect(split!.inBroker.p50Ms).toBeCloseTo(5, 3);
    expect(split!.toConsumer.maxMs).toBeCloseTo(8.75, 3);
  });

  it('reads an integer publish time and a number id, and leaves out the warm-up ids', () => {
    const pub = Buffer.concat([
      message('publish', 'q.features', 'w-1', { tag: 'l', value: T }),
      message('publish', 'q.features', 'w-7', { tag: 'l', value: T }),
      message('publish', 'q.features', 42, { tag: 'l', value: T }),
    ]);
    const del = Buffer.concat([
      message('deliver', 'q.features', 'w-1'),
      message('deliver', 'q.features', 'w-7'),
      message('deliver', 'q.features', 42),
    ]);
    const file = pcap([
      { atMs: T + 2, fromPort: 40000, toPort: 5672, seq: 7, payload: pub },
      { atMs: T + 5, fromPort: 5672, toPort: 40001, seq: 9, payload: del },
    ]);
    const { messages } = wireMessages(tcpSegments(file));
    expect(messages.filter((m) => m.kind === 'publish').map((m) => m.id)).toEqual(['w-1', 'w-7', '42']);
    expect(splitAtBroker(messages)[0]!.toConsumer.rows).toBe(3);
    const split = splitAtBroker(messages, { afterSeq: 5 })[0]!;
    expect(split.toConsumer.rows).toBe(2); // w-7 and 42 (its seq is 42)
    expect(split.toConsumer.maxMs).toBeCloseTo(5, 3);
  });

  it('skips a connection captured from mid-stream and says why; refuses what is not a pcap', () => {
    const whole = message('deliver', 'q.y_pred', 'a-1');
    const file = pcap([{ atMs: T, fromPort: 5672, toPort: 40002, seq: 1, payload: whole.subarray(3) }]);
    const capture = wireMessages(tcpSegments(file));
    expect(capture.messages).toEqual([]);
    expect(capture.skipped).toEqual([
      { stream: '127.0.0.1:5672>127.0.0.1:40002', problem: expect.stringContaining('mid-connection') },
    ]);
    expect(() => [...tcpSegments(Buffer.from('\x0a\x0d\x0d\x0a and more bytes than a header'))]).toThrow(
      PcapError,
    );
  });

  it('follows a new connection on the same ports from its SYN, interleaved channels, and late publishes', () => {
    const first = message('publish', 'r.y_pred', 'c-1', { tag: 'd', value: T });
    // Two channels, their frames interleaved; ids 151 and "151" are two messages.
    const a = message('publish', 'r.y_pred', 151, { tag: 'd', value: T }, 1);
    const b = message('publish', 'r.y_pred', '151', { tag: 'd', value: T + 1 }, 2);
    const frames = (m: Buffer) => {
      const out: Buffer[] = [];
      for (let at = 0; at < m.length;) {
        const end = at + 8 + m.readUInt32BE(at + 3);
        out.push(m.subarray(at, end));
        at = end;
      }
      return out;
    };
    const [a1, a2, a3] = frames(a);
    const [b1, b2, b3] = frames(b);
    const second = Buffer.concat([a1!, b1!, a2!, b2!, b3!, a3!]);
    const deliveries = Buffer.concat([
      message('deliver', 'r.y_pred', '151'),
      message('deliver', 'r.y_pred', 151),
    ]);
    const [s1, s2] = segments(second, 5_000_001, [a1!.length]);
    const file = pcap([
      { atMs: T + 1, fromPort: 40000, toPort: 5672, seq: 77, payload: Buffer.alloc(0), syn: true },
      { atMs: T + 2, fromPort: 40000, toPort: 5672, seq: 78, payload: first },
      // The same ports again, a new connection with a sequence number "behind" the old one's.
      { atMs: T + 3, fromPort: 40000, toPort: 5672, seq: 5_000_000, payload: Buffer.alloc(0), syn: true },
      { atMs: T + 5, fromPort: 40000, toPort: 5672, ...s2! }, // captured first, held for s1
      { atMs: T + 6, fromPort: 5672, toPort: 40001, seq: 1, payload: deliveries }, // parsed before s1
      { atMs: T + 7, fromPort: 40000, toPort: 5672, ...s1! },
      { atMs: T + 8, fromPort: 5672, toPort: 40009, seq: 1, payload: first, cut: 10 },
    ]);
    const capture = wireMessages(tcpSegments(file));
    expect(capture.messages.map((m) => [m.kind, m.idJson, m.atMs - T])).toEqual([
      ['publish', '"c-1"', 2],
      ['publish', '"151"', 5],
      ['publish', '151', 5],
      ['deliver', '"151"', 6],
      ['deliver', '151', 6],
    ]);
    expect(capture.skipped).toEqual([
      { stream: '127.0.0.1:5672>127.0.0.1:40009', problem: expect.stringContaining('tcpdump -s 0') },
    ]);
    const [split] = splitAtBroker(capture.messages);
    expect(split!.toConsumer.rows).toBe(2);
    expect(split!.toBroker.maxMs).toBeCloseTo(5, 3); // 151: stamped at T, its last byte on the wire at +5
    expect(split!.inBroker.maxMs).toBeCloseTo(1, 3);
  });

  it('finds the publish time by its key and the id in a body', () => {
    expect(publishedAtOf(headerFrame(1, 10, { tag: 'd', value: 12.5 }).subarray(7, -1))).toBe(12.5);
    expect(publishedAtOf(headerFrame(1, 10, undefined).subarray(7, -1))).toBeUndefined();
    expect(idOf(Buffer.from('{"id": "x \\" y-3", "body": 1}'))).toEqual({
      id: 'x " y-3',
      idJson: '"x \\" y-3"',
    });
    expect(idOf(Buffer.from('{"id": 151, "body": 1}'))).toEqual({ id: '151', idJson: '151' });
    expect(idOf(Buffer.from('{"body": 1}'))).toBeUndefined();
  });
});
