/**
 * TUN offloads from the host's side (the Rust side tests the cases in `cargo test`):
 * the virtio-net header regions, a GSO super-packet translated once through
 * `src/engine/engine.ts`, its output header, and the `offloads` config input.
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { Engine, GsoType, OutputKind, VNET_F_NEEDS_CSUM, VNET_HDR_LEN } from "../../src/engine/engine.ts";
import { encodeTranslatorConfig, TAG } from "../../src/engine/config_tlv.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { parseIP } from "../../src/net/ip.ts";
import { buildPacket, checksumsValid, inetChecksum } from "../util/packets.ts";

const FLAGS = ["--pool6", "2001:db8:64::/96", "--eamt", "2001:db8:1::/120=198.51.100.0/24", "--ipv4", "203.0.113.1"];
const CLIENT = "2001:db8:1::2";
const SERVER = "2001:db8:64::203.0.113.5";
/** Segment payload and count of the super-packet: three full 1500-byte IPv6 segments. */
const MSS = 1440;
const SEGMENTS = 3;

function engine(offloads: boolean): Engine {
  const e = Engine.create({ slotCount: 4, slotSize: 8192 });
  e.configure({ ...parseFlags(FLAGS).config, offloads });
  return e;
}

/** What the kernel leaves in a CHECKSUM_PARTIAL field: the folded, not inverted, IPv6 pseudo-header sum. */
function partialSum(src: Uint8Array, dst: Uint8Array, proto: number, len: number): number {
  const pseudo = Uint8Array.from([...src, ...dst, 0, 0, len >> 8, len & 0xff, 0, 0, 0, proto]);
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
  ok(e.vnetInOffset(0) >= e.packetOffset(3) - e.headroom + e.slotSize, "after the slots");
  ok(e.vnetOutOffset(0) >= e.vnetInOffset(4), "input headers end before the output ones begin");
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

Deno.test("the offloads input is sent as the OFFLOAD record, off by default", () => {
  const config = parseFlags(FLAGS).config;
  const offload = (bytes: Uint8Array): number | undefined => {
    for (let at = 0; at < bytes.length; at += 4 + (bytes[at + 2] | (bytes[at + 3] << 8))) {
      if ((bytes[at] | (bytes[at + 1] << 8)) === TAG.OFFLOAD) return bytes[at + 4];
    }
    return undefined;
  };
  eq(TAG.OFFLOAD, 0x1a);
  eq(offload(encodeTranslatorConfig(config).bytes()), 0);
  eq(offload(encodeTranslatorConfig({ ...config, offloads: true }).bytes()), 1);
});
