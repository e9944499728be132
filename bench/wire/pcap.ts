// Reads the TCP segments of a classic pcap file (as `tcpdump -w` writes it) over IPv4 or IPv6. Pure.

/** One TCP segment that opens a connection (SYN) or carries data, as captured. */
export interface TcpSegment {
  /** Capture time, ms since the epoch (the kernel's wall clock, sub-ms). */
  atMs: number;
  /** "address:port" of each end, so the two directions of a connection are told apart. */
  from: string;
  to: string;
  seq: number;
  /** A SYN: a new connection on these ports starts here (its data starts at seq + 1). */
  syn: boolean;
  /** The capture kept only part of the packet (its snapshot length): the payload is incomplete. */
  truncated: boolean;
  payload: Buffer;
}

/** Bytes before the IP header, per link type (`tcpdump -i lo` writes Ethernet, `-i any` Linux cooked). */
const LINK_HEADER_BYTES: Record<number, number> = { 0: 4, 1: 14, 113: 16, 276: 20 };

export class PcapError extends Error {}

function ipv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function ipv6(b: Buffer, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(o + i).toString(16));
  return `[${parts.join(':')}]`;
}

/** Every TCP segment that carries data or opens a connection (SYN), in capture order; others are skipped. */
export function* tcpSegments(file: Buffer): Generator<TcpSegment> {
  if (file.length < 24) throw new PcapError('not a pcap file: shorter than its 24-byte header');
  const magic = file.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else
    throw new PcapError(
      'not a classic pcap file (pcapng?): capture with `tcpdump -w FILE`, or convert with `editcap -F pcap`',
    );
  const nano = (le ? magic : file.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20);
  const linkBytes = LINK_HEADER_BYTES[linkType];
  if (linkBytes === undefined) throw new PcapError(`pcap link type ${linkType} is not supported`);
  let at = 24;
  while (at + 16 <= file.length) {
    const seconds = u32(at);
    const fraction = u32(at + 4);
    const captured = u32(at + 8);
    const original = u32(at + 12);
    const packet = file.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    const atMs = seconds * 1000 + fraction / (nano ? 1e6 : 1e3);
    const segment = parsePacket(packet, linkBytes, atMs, captured < original);
    if (segment) yield segment;
  }
}

function parsePacket(
  packet: Buffer,
  linkBytes: number,
  atMs: number,
  truncated: boolean,
): TcpSegment | undefined {
  const ip = packet.subarray(linkBytes);
  if (ip.length < 20) return undefined;
  const version = ip[0]! >> 4;
  let tcpAt: number;
  let end: number;
  let src: string;
  let dst: string;
  if (version === 4) {
    // Not TCP, or a fragment (loopback TCP is never fragmented; a fragment has no whole segment).
    if (ip[9] !== 6 || (ip.readUInt16BE(6) & 0x3fff) !== 0) return undefined;
    tcpAt = (ip[0]! & 0x0f) * 4;
    // A total length of 0: a segment larger than IPv4 allows, handed over before segmentation.
    const total = ip.readUInt16BE(2);
    end = total === 0 ? ip.length : Math.min(ip.length, total);
    src = ipv4(ip, 12);
    dst = ipv4(ip, 16);
  } else if (version === 6) {
    // Extension headers are not followed: loopback TCP has none.
    if (ip.length < 40 || ip[6] !== 6) return undefined;
    tcpAt = 40;
    end = Math.min(ip.length, 40 + ip.readUInt16BE(4));
    src = ipv6(ip, 8);
    dst = ipv6(ip, 24);
  } else {
    return undefined;
  }
  if (end < tcpAt + 20) return undefined;
  const tcp = ip.subarray(tcpAt, end);
  const dataAt = (tcp[12]! >> 4) * 4;
  const syn = (tcp[13]! & 0x02) !== 0;
  if (tcp.length <= dataAt && !syn && !truncated) return undefined;
  return {
    atMs,
    from: `${src}:${tcp.readUInt16BE(0)}`,
    to: `${dst}:${tcp.readUInt16BE(2)}`,
    seq: tcp.readUInt32BE(4),
    syn,
    truncated,
    payload: tcp.subarray(Math.min(dataAt, tcp.length)),
  };
}
