// A small reader for the JA4 reference captures (shared/testdata/ja4): pcap and pcapng, Ethernet / BSD loopback /
// raw IP / Linux cooked link layers, IPv4 and IPv6, TCP. It reassembles each direction of each TCP connection
// into its byte stream, which is all the JA4 vector tests need. Test code, never shipped.

export interface TcpFlow {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  /** The reassembled payload of this direction, up to the first gap. */
  readonly bytes: Buffer;
}

interface Packet {
  readonly linkType: number;
  readonly data: Buffer;
}

interface Segment {
  readonly seq: number;
  readonly syn: boolean;
  readonly payload: Buffer;
}

function readPcap(file: Buffer): Packet[] {
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20) & 0xffff;
  const packets: Packet[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const captured = u32(at + 8);
    packets.push({ linkType, data: file.subarray(at + 16, at + 16 + captured) });
    at += 16 + captured;
  }
  return packets;
}

function readPcapng(file: Buffer): Packet[] {
  const packets: Packet[] = [];
  let le = true;
  let links: number[] = [];
  for (let at = 0; at + 12 <= file.length; ) {
    const type = file.readUInt32LE(at);
    if (type === 0x0a0d0d0a) {
      le = file.readUInt32LE(at + 8) === 0x1a2b3c4d;
      links = [];
    }
    const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
    const u16 = (o: number): number => (le ? file.readUInt16LE(o) : file.readUInt16BE(o));
    const length = u32(at + 4);
    if (length < 12) break;
    const blockType = u32(at);
    if (blockType === 1) links.push(u16(at + 8));
    else if (blockType === 6) {
      const captured = u32(at + 20);
      packets.push({ linkType: links[u32(at + 8)] ?? 1, data: file.subarray(at + 28, at + 28 + captured) });
    } else if (blockType === 3) {
      const original = u32(at + 8);
      packets.push({
        linkType: links[0] ?? 1,
        data: file.subarray(at + 12, at + 12 + Math.min(original, length - 16)),
      });
    }
    at += length;
  }
  return packets;
}

// The IP packet inside a link-layer frame, or undefined for anything else (ARP, ...).
function ipOf(packet: Packet): Buffer | undefined {
  const d = packet.data;
  switch (packet.linkType) {
    case 0: // BSD loopback: a 4-byte address family in host order
    case 108:
      return d.subarray(4);
    case 101: // raw IP
      return d;
    case 113: // Linux cooked v1
      return d.subarray(16);
    case 276: // Linux cooked v2
      return d.subarray(20);
    case 1: {
      let at = 12;
      let etherType = d.readUInt16BE(at);
      while (etherType === 0x8100 || etherType === 0x88a8) {
        at += 4;
        etherType = d.readUInt16BE(at);
      }
      return etherType === 0x0800 || etherType === 0x86dd ? d.subarray(at + 2) : undefined;
    }
    default:
      return undefined;
  }
}

// The compressed form (RFC 5952), as the expected values write it; URL does the compressing.
function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

function tcpOf(ip: Buffer): { src: string; dst: string; tcp: Buffer } | undefined {
  const version = ip[0]! >> 4;
  if (version === 4) {
    if (ip[9] !== 6) return undefined;
    const headerLength = (ip[0]! & 0x0f) * 4;
    const total = ip.readUInt16BE(2);
    return {
      src: [...ip.subarray(12, 16)].join("."),
      dst: [...ip.subarray(16, 20)].join("."),
      tcp: ip.subarray(headerLength, Math.min(total, ip.length)),
    };
  }
  if (version === 6) {
    if (ip[6] !== 6) return undefined;
    const payload = ip.readUInt16BE(4);
    return {
      src: ipv6Text(ip.subarray(8, 24)),
      dst: ipv6Text(ip.subarray(24, 40)),
      tcp: ip.subarray(40, 40 + payload),
    };
  }
  return undefined;
}

/** Every TCP flow (one per direction) of a pcap or pcapng file, reassembled. */
export function tcpFlows(file: Buffer): TcpFlow[] {
  const packets = file.readUInt32LE(0) === 0x0a0d0d0a ? readPcapng(file) : readPcap(file);
  const flows = new Map<
    string,
    { src: string; srcPort: number; dst: string; dstPort: number; segments: Segment[] }
  >();
  for (const packet of packets) {
    const ip = ipOf(packet);
    const parsed = ip === undefined ? undefined : tcpOf(ip);
    if (parsed === undefined || parsed.tcp.length < 20) continue;
    const { tcp } = parsed;
    const srcPort = tcp.readUInt16BE(0);
    const dstPort = tcp.readUInt16BE(2);
    const id = `${parsed.src}:${srcPort}>${parsed.dst}:${dstPort}`;
    let flow = flows.get(id);
    if (flow === undefined) {
      flow = { src: parsed.src, srcPort, dst: parsed.dst, dstPort, segments: [] };
      flows.set(id, flow);
    }
    const offset = (tcp[12]! >> 4) * 4;
    flow.segments.push({
      seq: tcp.readUInt32BE(4),
      syn: (tcp[13]! & 0x02) !== 0,
      payload: tcp.subarray(offset),
    });
  }
  return [...flows.values()].map((f) => ({ ...f, bytes: reassemble(f.segments) }));
}

function reassemble(segments: readonly Segment[]): Buffer {
  const syn = segments.find((s) => s.syn);
  const data = segments.filter((s) => s.payload.length > 0);
  if (data.length === 0) return Buffer.alloc(0);
  const base = syn === undefined ? data[0]!.seq : (syn.seq + 1) >>> 0;
  const relative = data
    .map((s) => ({ at: (s.seq - base) >>> 0, payload: s.payload }))
    .sort((x, y) => x.at - y.at);
  const parts: Buffer[] = [];
  let next = 0;
  for (const { at, payload } of relative) {
    if (at > next) break; // a gap: the rest was not captured
    const fresh = payload.subarray(next - at);
    if (fresh.length === 0) continue; // a retransmission
    parts.push(fresh);
    next += fresh.length;
  }
  return Buffer.concat(parts);
}
