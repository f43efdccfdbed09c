import { type Case, loadSuite, type ReplayOptions, replaySuite } from "./replay.ts";
import { inetChecksum } from "../util/packets.ts";

/**
 * Cases of the nat64 suite where our output differs from Jool's expectation and the RFC
 * allows ours; each with the sentence of why. Empty while every case passes.
 */
const KNOWN_DIFFERENCES: Record<string, string> = {};

/** Jool's test peer on the IPv4 side (the `from 4` sender of the corpus). */
const IPV4_PEER = [192, 0, 2, 5];
/** The unroutable IPv4 destination of the `misc` cases (Jool issue 132). */
const UNROUTABLE = [203, 0, 113, 6];

/**
 * The `misc` cases send a SYN to 203.0.113.6, which Jool's IPv4 peer cannot route: the
 * peer's kernel answers the translated SYN with ICMPv4 Destination Unreachable (host
 * unreachable, RFC 1812 §5.2.7.1), TTL 64, TOS 0, and the expected packet is that error
 * translated back. This plays the peer; the engine does the rest, and the two cases
 * differ only in `source_icmpv6_errors_better`.
 */
function peerHostUnreachable(emitted: Uint8Array): Uint8Array | undefined {
  if (emitted[0] >> 4 !== 4 || !UNROUTABLE.every((b, i) => emitted[16 + i] === b)) return undefined;
  const quoted = emitted.subarray(0, Math.min(emitted.length, 576 - 28));
  const e = new Uint8Array(28 + quoted.length);
  e.set([
    0x45,
    0,
    (e.length >> 8) & 0xff,
    e.length & 0xff,
    0,
    0,
    0,
    0,
    64,
    1,
    0,
    0,
    ...IPV4_PEER,
    ...emitted.subarray(12, 16),
  ]);
  const ipSum = inetChecksum(e.subarray(0, 20));
  e[10] = ipSum >> 8;
  e[11] = ipSum & 0xff;
  e.set([3, 1, 0, 0, 0, 0, 0, 0], 20);
  e.set(quoted, 28);
  const icmpSum = inetChecksum(e.subarray(20));
  e[22] = icmpSum >> 8;
  e[23] = icmpSum & 0xff;
  return e;
}

/** What each case needs beyond its packets. */
function options(c: Case): ReplayOptions {
  // The corpus README: the `so` expectation comes 8.1 s after the send, past
  // TCP_INCOMING_SYN (6 s, RFC 6146 §3.5.2.2), so the stored SYN has been answered.
  if (c.group === "so") return { waitMs: 8100 };
  if (c.group === "misc") return { network: peerHostUnreachable };
  return {};
}

Deno.test("Jool graybox nat64 suite replays through the WASM engine", () => {
  const cases = loadSuite("nat64");
  const failed = replaySuite(cases, options);
  const unexplained = [...failed.keys()].filter((id) => !(id in KNOWN_DIFFERENCES));
  const nowPassing = Object.keys(KNOWN_DIFFERENCES).filter((id) => !failed.has(id));
  const problems = [
    ...unexplained.map((id) => `${id} fails with no reason written down: ${failed.get(id)}`),
    ...nowPassing.map((id) => `${id} passes now: remove it from KNOWN_DIFFERENCES`),
  ];
  if (problems.length) throw new Error(problems.join("\n"));
  if (cases.length - failed.size < 40) throw new Error(`only ${cases.length - failed.size} of ${cases.length} pass`);
});
