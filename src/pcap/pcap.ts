/**
 * Classic pcap files (the libpcap format): reading raw-IP, IPv4/IPv6 and Ethernet
 * captures, and writing raw-IP captures (LINKTYPE_RAW).
 *
 * @module
 */

/** A captured packet: its IP bytes (link header removed) and capture time. */
export interface CapturedPacket {
  readonly data: Uint8Array;
  readonly timeMs: number;
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;

/** Strips the link header of one frame; null for a frame that carries no IP packet. */
function ipPayload(linkType: number, frame: Uint8Array): Uint8Array | null {
  switch (linkType) {
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return frame;
    case LINKTYPE_ETHERNET: {
      let off = 12;
      let type = (frame[off] << 8) | frame[off + 1];
      while (type === 0x8100 || type === 0x88a8) { // 802.1Q / 802.1ad tags
        off += 4;
        type = (frame[off] << 8) | frame[off + 1];
      }
      return type === 0x0800 || type === 0x86dd ? frame.subarray(off + 2) : null;
    }
    case LINKTYPE_LINUX_SLL: {
      const type = (frame[14] << 8) | frame[15];
      return type === 0x0800 || type === 0x86dd ? frame.subarray(16) : null;
    }
    default:
      throw new Error(`link type ${linkType} is not supported (raw IP, Ethernet or Linux cooked only)`);
  }
}

/**
 * Reads every IP packet of a pcap file's bytes. Throws one sentence on a malformed file;
 * frames that carry no IP packet (ARP, say) are skipped.
 */
export function readPcap(bytes: Uint8Array): CapturedPacket[] {
  if (bytes.length < 24) throw new Error("too short for a pcap header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  let little: boolean, nano: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) [little, nano] = [true, magic === 0xa1b23c4d];
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) [little, nano] = [false, magic === 0x4d3cb2a1];
  else if (magic === 0x0a0d0d0a) throw new Error("pcapng is not supported: convert with `editcap -F pcap`");
  else throw new Error("not a pcap file (bad magic number)");
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const packets: CapturedPacket[] = [];
  for (let off = 24, n = 1; off < bytes.length; n++) {
    if (off + 16 > bytes.length) throw new Error(`record ${n} is cut short in its header`);
    const sec = view.getUint32(off, little), frac = view.getUint32(off + 4, little);
    const caplen = view.getUint32(off + 8, little);
    if (off + 16 + caplen > bytes.length) throw new Error(`record ${n} is cut short (${caplen} bytes announced)`);
    const ip = ipPayload(linkType, bytes.subarray(off + 16, off + 16 + caplen));
    if (ip) packets.push({ data: ip, timeMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3) });
    off += 16 + caplen;
  }
  return packets;
}

/** Writes packets as a raw-IP pcap file (LINKTYPE_RAW, microsecond timestamps). */
export function writePcap(packets: readonly CapturedPacket[]): Uint8Array {
  const size = 24 + packets.reduce((s, p) => s + 16 + p.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, LINKTYPE_RAW, true);
  let off = 24;
  for (const p of packets) {
    view.setUint32(off, Math.floor(p.timeMs / 1000), true);
    view.setUint32(off + 4, Math.round((p.timeMs % 1000) * 1000), true);
    view.setUint32(off + 8, p.data.length, true);
    view.setUint32(off + 12, p.data.length, true);
    out.set(p.data, off + 16);
    off += 16 + p.data.length;
  }
  return out;
}
