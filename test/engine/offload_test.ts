/**
 * TUN offloads from the host's side (the Rust side tests the cases in `cargo test`):
 * the virtio-net header regions, a GSO super-packet translated once through
 * `src/engine/engine.ts`, its output header, a batch of UDP datagrams coalesced into one
 * super-packet (USO), and the `offloads` and `uso` config inputs.
 */

import { deepStrictEqual as eq, ok, throws } from "node:assert/strict";
import { Engine, GsoType, OutputKind, VNET_F_NEEDS_CSUM, VNET_HDR_LEN } from "../../src/engine/engine.ts";
import { encodeTranslatorConfig, TAG, UsoFamily } from "../../src/engine/config_tlv.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { parseIP } from "../../src/net/ip.ts";
import { buildPacket, checksumsValid, inetChecksum } from "../util/packets.ts";

const FLAGS = ["--pool6", "2001:db8:64::/96", "--eamt", "2001:db8:1::/120=198.51.100.0/24", "--ipv4", "203.0.113.1"];
const CLIENT = "2001:db8:1::2";
const SERVER = "2001:db8:64::203.0.113.5";
/** Segment payload and count of the super-packet: three full 1500-byte IPv6 segments. */
const MSS = 1440;
const SEGMENTS = 3;

function engine(offloads: boolean, uso = 0): Engine {
  const e = Engine.create({ slotCount: 8, slotSize: 8192 });
  e.configure({ ...parseFlags(FLAGS).config, offloads, uso });
  return e;
}

/** What the kernel leaves in a CHECKSUM_PARTIAL field: the folded, not inverted, pseudo-header sum. */
function partialSum(src: Uint8Array, dst: Uint8Array, proto: number, len: number): number {
  const pseudo = src.length === 4
    ? Uint8Array.from([...src, ...dst, 0, proto, len >> 8, len & 0xff])
    : Uint8Array.from([...src, ...dst, 0, 0, len >> 8, len & 0xff, 0, 0, 0, proto]);
  return ~inetChecksum(pseudo) & 0xffff;
}

/** An IPv6 TCP super-packet from CLIENT to SERVER whose checksum field holds the partial sum. */
function superPacket(): Uint8Array {
  const p = buildPacket({
    src: CLIENT,
    dst: SERVER,
    proto: "tcp",
    sport: 40000,
    dport: 80,
    size: 40 + 20 + SEGMENTS * MSS,
  });
  const sum = partialSum(parseIP(CLIENT), parseIP(SERVER), 6, p.length - 40);
  p[56] = sum >> 8;
  p[57] = sum & 0xff;
  return p;
}

/** The packet as the kernel sends it once it completes the checksum from `csumStart` to the end. */
function completeAsKernel(p: Uint8Array, csumStart: number, csumOffset: number): Uint8Array {
  const out = p.slice();
  const c = inetChecksum(out.subarray(csumStart));
  out[csumStart + csumOffset] = c >> 8;
  out[csumStart + csumOffset + 1] = c & 0xff;
  return out;
}

Deno.test("the header regions sit apart from the slots and each other, an entry per slot and per output", () => {
  const e = engine(false);
  eq(VNET_HDR_LEN, 10);
  eq(e.vnetInOffset(1) - e.vnetInOffset(0), 16);
  eq(e.vnetOutOffset(1) - e.vnetOutOffset(0), 16);
  const last = e.slotCount - 1;
  ok(e.vnetInOffset(0) >= e.packetOffset(last) - e.headroom + e.slotSize, "after the slots");
  ok(e.vnetOutOffset(0) >= e.vnetInOffset(last + 1), "input headers end before the output ones begin");
  ok(e.vnetOutOffset(0) + 16 <= e.memory.buffer.byteLength);
});

Deno.test("a TCP super-packet is translated once and leaves with its offloads moved to IPv4", () => {
  const e = engine(true);
  const input = superPacket();
  e.load(0, input);
  e.setInputVnetHeader(0, {
    flags: VNET_F_NEEDS_CSUM,
    gsoType: GsoType.TCPV6,
    hdrLen: 60,
    gsoSize: MSS,
    csumStart: 40,
    csumOffset: 16,
  });
  eq(e.translate(1, 0), 1);
  eq(e.outputKind(0), OutputKind.TRANSLATED);
  const h = e.outputVnetHeader(0);
  eq(h, { flags: VNET_F_NEEDS_CSUM, gsoType: GsoType.TCPV4, hdrLen: 40, gsoSize: MSS, csumStart: 20, csumOffset: 16 });
  // The same bytes, raw, where the host writes them from.
  const raw = e.bytes.subarray(e.vnetOutOffset(0), e.vnetOutOffset(0) + VNET_HDR_LEN);
  eq(Array.from(raw), [1, 1, 40, 0, MSS & 0xff, MSS >> 8, 20, 0, 16, 0]);
  const out = e.output(0);
  eq(out.length, 20 + 20 + SEGMENTS * MSS);
  eq((out[2] << 8) | out[3], out.length, "the IPv4 total length covers the whole super-packet");
  eq(inetChecksum(out.subarray(0, 20)), 0, "IPv4 header checksum");
  eq(out.subarray(40), input.subarray(60), "payload untouched");
  ok(!checksumsValid(out), "the transport checksum is still partial");
  ok(checksumsValid(completeAsKernel(out, h.csumStart, h.csumOffset)));
  const c = e.counters();
  eq([c.offload_gso_packets, c.offload_csum_partial, c.offload_csum_completed], [1n, 1n, 0n]);
});

/** An IPv6 UDP datagram from CLIENT to SERVER with `payload` bytes of `mark`, its checksum partial. */
function partialDatagram(payload: number, mark: number): Uint8Array {
  const p = buildPacket({ src: CLIENT, dst: SERVER, proto: "udp", sport: 5000, dport: 53, size: 48 + payload });
  p.fill(mark, 48);
  const sum = partialSum(parseIP(CLIENT), parseIP(SERVER), 17, 8 + payload);
  p[46] = sum >> 8;
  p[47] = sum & 0xff;
  return p;
}

/**
 * The segments the kernel cuts a UDP super-packet into (`__udp_gso_segment`): the
 * headers copied, the lengths its own, the partial sum moved from the super-packet's UDP
 * length to the segment's, the IPv4 ID counted up, then the checksums completed.
 */
function cutAsKernel(p: Uint8Array, gsoSize: number): Uint8Array[] {
  const superLen = (p[24] << 8) | p[25];
  const partial = (p[26] << 8) | p[27];
  const segments: Uint8Array[] = [];
  for (let at = 28, k = 0; at < p.length; at += gsoSize, k++) {
    const piece = p.subarray(at, Math.min(at + gsoSize, p.length));
    const s = new Uint8Array(28 + piece.length);
    s.set(p.subarray(0, 28));
    s.set(piece, 28);
    const len = 8 + piece.length;
    let sum = partial + (~superLen & 0xffff) + len;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    s.set([(20 + len) >> 8, (20 + len) & 0xff], 2);
    const id = (((p[4] << 8) | p[5]) + k) & 0xffff;
    s.set([id >> 8, id & 0xff, s[6], s[7], s[8], s[9], 0, 0], 4);
    const h = inetChecksum(s.subarray(0, 20));
    s.set([h >> 8, h & 0xff], 10);
    s.set([len >> 8, len & 0xff, sum >> 8, sum & 0xff], 24);
    segments.push(completeAsKernel(s, 20, 6));
  }
  return segments;
}

Deno.test("a batch of UDP datagrams of one flow leaves as one IPv4 UDP super-packet with USO", () => {
  const e = engine(true, UsoFamily.IPV4 | UsoFamily.IPV6);
  const count = 8, payload = 100;
  for (let k = 0; k < count; k++) {
    e.load(k, partialDatagram(payload, k + 1));
    e.setInputVnetHeader(k, {
      flags: VNET_F_NEEDS_CSUM,
      gsoType: GsoType.NONE,
      hdrLen: 0,
      gsoSize: 0,
      csumStart: 40,
      csumOffset: 6,
    });
  }
  eq(e.translate(count, 0), 1);
  eq([e.outputSlot(0), e.outputKind(0)], [0, OutputKind.TRANSLATED]);
  const h = e.outputVnetHeader(0);
  eq(h, {
    flags: VNET_F_NEEDS_CSUM,
    gsoType: GsoType.UDP_L4,
    hdrLen: 28,
    gsoSize: payload,
    csumStart: 20,
    csumOffset: 6,
  });
  const out = e.output(0);
  eq(out.length, 28 + count * payload);
  eq((out[2] << 8) | out[3], out.length);
  eq(inetChecksum(out.subarray(0, 20)), 0, "IPv4 header checksum");
  eq((out[24] << 8) | out[25], 8 + count * payload, "UDP length over every payload");
  eq((out[26] << 8) | out[27], partialSum(out.subarray(12, 16), out.subarray(16, 20), 17, 8 + count * payload));
  const segments = cutAsKernel(out, h.gsoSize);
  eq(segments.length, count);
  segments.forEach((s, k) => {
    eq(s.length, 28 + payload);
    ok(s.subarray(28).every((b) => b === k + 1), `segment ${k} carries datagram ${k}`);
    ok(checksumsValid(s), `segment ${k} checksums`);
  });
  const c = e.counters();
  eq([c.offload_uso_packets, c.offload_uso_datagrams, c.out4_udp_packets], [1n, BigInt(count), BigInt(count)]);
});

Deno.test("without offloads the input header is ignored and outputs get zero headers", () => {
  const e = engine(false);
  const p = buildPacket({ src: CLIENT, dst: SERVER, proto: "udp", size: 200 });
  e.load(0, p);
  e.setInputVnetHeader(0, { flags: 1, gsoType: GsoType.UDP, hdrLen: 1, gsoSize: 2, csumStart: 3, csumOffset: 4 });
  e.bytes.fill(0xff, e.vnetOutOffset(0), e.vnetOutOffset(0) + VNET_HDR_LEN);
  eq(e.translate(1, 0), 1);
  ok(checksumsValid(e.output(0)));
  eq(e.outputVnetHeader(0), { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 });
});

/** The value byte of the first record with `tag` in TLV `bytes`. */
function recordValue(bytes: Uint8Array, tag: number): number | undefined {
  for (let at = 0; at < bytes.length; at += 4 + (bytes[at + 2] | (bytes[at + 3] << 8))) {
    if ((bytes[at] | (bytes[at + 1] << 8)) === tag) return bytes[at + 4];
  }
  return undefined;
}

Deno.test("the offloads input is sent as the OFFLOAD record, off by default", () => {
  const config = parseFlags(FLAGS).config;
  eq(TAG.OFFLOAD, 0x1a);
  eq(recordValue(encodeTranslatorConfig(config).bytes(), TAG.OFFLOAD), 0);
  eq(recordValue(encodeTranslatorConfig({ ...config, offloads: true }).bytes(), TAG.OFFLOAD), 1);
});

Deno.test("the uso input is sent as the USO record, 0 by default, and needs offloads", () => {
  const config = parseFlags(FLAGS).config;
  eq(TAG.USO, 0x1c);
  eq(recordValue(encodeTranslatorConfig(config).bytes(), TAG.USO), 0);
  eq(recordValue(encodeTranslatorConfig({ ...config, offloads: true, uso: UsoFamily.IPV6 }).bytes(), TAG.USO), 2);
  const e = Engine.create({ slotCount: 1 });
  throws(() => e.configure({ ...config, uso: UsoFamily.IPV4 }), /USO \(0x1c\): UDP super-packets need OFFLOAD 1/);
  e.configure({ ...config, offloads: true, uso: UsoFamily.IPV4 | UsoFamily.IPV6 });
});
