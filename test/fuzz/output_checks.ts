/**
 * The properties every batch's outputs must have, judged from the descriptors and bytes
 * alone: descriptors in slot order and inside slot or spill memory, every packet well
 * formed (lengths, IHL, IPv4 header checksum), transport checksums valid whenever the
 * input's was (fragments reassembled first), generated ICMP errors always valid and
 * within their size limits, and no packet larger than the MTU of the side it leaves on
 * (IPv4 with DF=0 excepted).
 */

import { OutputKind } from "../../src/engine/engine.ts";
import type { TranslatorConfig } from "../../src/config/schema.ts";
import type { ArenaLayout } from "./arena_guard.ts";
import { checksumState, type PacketView, PROTO, reassemble, viewPacket } from "./packet_view.ts";

/** One output descriptor with a copy of its bytes. */
export interface Output {
  addr: number;
  len: number;
  slot: number;
  kind: number;
  bytes: Uint8Array;
}

/** A problem found in a batch; `slot` is null when it cannot be pinned on one input. */
export interface Problem {
  slot: number | null;
  what: string;
}

/** RFC 4443 §2.4 (c): an ICMPv6 error must not exceed the IPv6 minimum MTU. */
const MAX_ICMP6_ERROR = 1280;
/** RFC 1812 §4.3.2.3: an ICMPv4 error should not exceed 576 bytes. */
const MAX_ICMP4_ERROR = 576;

function inSlot(l: ArenaLayout, o: Output): boolean {
  const start = l.slotBase + o.slot * l.slotSize;
  return o.addr >= start && o.addr + o.len <= start + l.slotSize;
}

function inSpill(l: ArenaLayout, o: Output): boolean {
  return o.addr >= l.spillBase && o.addr + o.len <= l.spillBase + l.spillLen;
}

/** Checks the descriptors of a batch of `count` inputs: order, kinds, and where their bytes lie. */
export function checkDescriptors(l: ArenaLayout, count: number, outputs: Output[]): Problem[] {
  const problems: Problem[] = [];
  if (outputs.length > l.outCapacity) {
    problems.push({ slot: null, what: `returned ${outputs.length} outputs for ${l.outCapacity} descriptors` });
    return problems;
  }
  let lastSlot = 0;
  const spillRanges: [number, number][] = [];
  for (const [j, o] of outputs.entries()) {
    if (o.slot >= count) {
      problems.push({ slot: null, what: `output ${j} names slot ${o.slot} of a ${count}-slot batch` });
      continue;
    }
    if (o.slot < lastSlot) {
      problems.push({ slot: o.slot, what: `output ${j} (slot ${o.slot}) comes after an output of slot ${lastSlot}` });
    }
    lastSlot = Math.max(lastSlot, o.slot);
    if (o.kind !== OutputKind.TRANSLATED && o.kind !== OutputKind.ICMP_ERROR && o.kind !== OutputKind.FRAGMENT) {
      problems.push({ slot: o.slot, what: `output ${j} has kind ${o.kind}` });
    }
    if (o.len === 0) problems.push({ slot: o.slot, what: `output ${j} is empty` });
    if (inSpill(l, o)) spillRanges.push([o.addr, o.addr + o.len]);
    else if (!inSlot(l, o)) {
      problems.push({
        slot: o.slot,
        what: `output ${j} at ${o.addr}+${o.len} lies outside slot ${o.slot} and the spill area`,
      });
    }
  }
  spillRanges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spillRanges.length; i++) {
    if (spillRanges[i][0] < spillRanges[i - 1][1]) {
      problems.push({ slot: null, what: `two spill outputs overlap at ${spillRanges[i][0]}` });
    }
  }
  return problems;
}

/** IPv6 extension header numbers (RFC 8200 §4) that mean nothing as an IPv4 protocol. */
const EXTENSION_HEADERS = new Set([PROTO.HOPOPT, PROTO.ROUTING, PROTO.FRAGMENT, PROTO.DSTOPTS]);

/** The protocol of an IPv4 input when it is an IPv6 extension header number, else null. */
function extensionHeaderProtocol(p: Uint8Array): number | null {
  return p.length >= 20 && p[0] >> 4 === 4 && EXTENSION_HEADERS.has(p[9] as 0) ? p[9] : null;
}

/** What the checks need to know about one input. */
export interface InputInfo {
  /** The input's bytes as loaded. */
  bytes: Uint8Array;
  /** The length written for the slot (may differ from `bytes.length` when the fuzzer lies). */
  declaredLen: number;
}

/**
 * Checks the packets one input produced (`outs`, all of one slot) against the input and
 * the configuration.
 */
export function checkSlotOutputs(slot: number, input: InputInfo, outs: Output[], config: TranslatorConfig): Problem[] {
  const problems: Problem[] = [];
  const bad = (what: string) => problems.push({ slot, what });
  const extProto = extensionHeaderProtocol(input.bytes);
  if (extProto !== null && outs.some((o) => o.kind !== OutputKind.ICMP_ERROR && o.bytes[0] >> 4 === 6)) {
    // Judged once here: everything else about such an output follows from this.
    bad(
      `IPv4 protocol ${extProto} (an IPv6 extension header number) became the IPv6 Next Header, so the payload reads as that header`,
    );
    return problems;
  }
  const inView = input.declaredLen === input.bytes.length ? viewPacket(input.bytes) : "length lie";
  const inWhole = typeof inView !== "string" && inView.fragment === null;
  const inState = inWhole ? checksumState(inView) : "not-applicable";
  const fragments: PacketView[] = [];
  for (const o of outs) {
    const v = viewPacket(o.bytes);
    if (typeof v === "string") {
      bad(`output of kind ${o.kind} is malformed: ${v}`);
      continue;
    }
    // IPv4 routers fragment DF=0 packets on the way (RFC 791), so only DF=1 ones must fit.
    const mtu = v.version === 4 ? config.mtuV4 : config.mtuV6;
    const mayFragmentOnPath = v.version === 4 && (o.bytes[6] & 0x40) === 0;
    if (o.len > mtu && !mayFragmentOnPath) {
      bad(`a ${o.len}-byte IPv${v.version} output exceeds the ${mtu}-byte MTU of its side`);
    }
    if (o.kind === OutputKind.ICMP_ERROR) {
      const limit = v.version === 6 ? MAX_ICMP6_ERROR : MAX_ICMP4_ERROR;
      const icmp = v.version === 6 ? PROTO.ICMPV6 : PROTO.ICMP;
      if (v.proto !== icmp) bad(`a generated ICMP error carries protocol ${v.proto}`);
      else if (checksumState(v) !== "valid") bad("a generated ICMP error has an invalid checksum");
      if (o.len > limit) bad(`a generated ICMPv${v.version === 6 ? 6 : 4} error of ${o.len} bytes exceeds ${limit}`);
      if (v.fragment) bad("a generated ICMP error is fragmented");
      continue;
    }
    if (o.kind === OutputKind.FRAGMENT && v.fragment) {
      fragments.push(v);
      continue;
    }
    if (o.kind === OutputKind.FRAGMENT && !v.fragment) bad("an output of kind FRAGMENT is not a fragment");
    if (inState === "valid") {
      const state = checksumState(v);
      if (state === "invalid" || state === "absent") {
        bad(`the input's transport checksum verified, the output's is ${state}`);
      }
    }
    if (inWhole && v.fragment) bad("a whole input became a lone fragment");
  }
  if (fragments.length && inWhole) {
    const whole = reassemble(fragments);
    if (typeof whole === "string") bad(`the fragments of a whole input do not reassemble: ${whole}`);
    else if (inState === "valid") {
      const state = checksumState(fragments[0], whole);
      if (state === "invalid" || state === "absent") {
        bad(`the input's transport checksum verified, the reassembled output's is ${state}`);
      }
    }
    // RFC 7915 §4: DF=0 IPv4 packets are fragmented to fit lowest-ipv6-mtu.
    const over = fragments.find((f) => f.version === 6 && f.headerLen + f.payload.length > config.lowestIpv6Mtu);
    if (over && input.bytes[0] >> 4 === 4) {
      bad(
        `an IPv6 fragment of ${
          over.headerLen + over.payload.length
        } bytes exceeds lowest-ipv6-mtu ${config.lowestIpv6Mtu}`,
      );
    }
  }
  return problems;
}
