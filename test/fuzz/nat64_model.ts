/**
 * A model of the stateful NAT64 tables (RFC 6146) to check the engine against, packet
 * by packet: IPv6 hosts open UDP, TCP and ICMP echo flows to IPv4 hosts, IPv4 hosts
 * answer, strangers knock on pool4 ports. The model knows every mapping the engine
 * handed out and checks that
 * - a mapping stays the same for an IPv6 transport address whatever the destination
 *   (endpoint-independent mapping, RFC 6146 §3.5.1.1, RFC 4787 REQ-1);
 * - no two IPv6 transport addresses share an IPv4 one, and every IPv4 one is from pool4;
 * - a new flow is refused only when pool4 is exhausted (or TCP without a SYN);
 * - answers reach the IPv6 host and port of their session, from the IPv4 host embedded
 *   in pool6 (RFC 6052), and packets to unmapped ports are not translated.
 * Junk (mutated corpus packets) may run in between; the mappings must survive it.
 */

import fc from "fast-check";
import { embedIPv4, parsePrefix } from "../../src/net/ip.ts";
import type { FuzzEngine } from "./engine_harness.ts";
import { buildIp, type L4Spec } from "./packet_builder.ts";
import { PROTO } from "./packet_view.ts";
import { toHex } from "./prng.ts";

/** The pool4 ports (ICMP: identifiers) of every protocol: 8 of them, so exhaustion is reached. */
export const POOL4 = { addr: [192, 0, 2, 2], first: 2000, last: 2007 } as const;
const POOL6 = parsePrefix("64:ff9b::/96", 6);

/** The configuration the model describes. */
export const MODEL_FLAGS = [
  "--mode",
  "nat64",
  "--pool6",
  "64:ff9b::/96",
  // RFC 6052 §3.1 keeps documentation IPv4 out of the Well-Known Prefix; the tests use it anyway.
  "--allow-nonglobal-wkp",
  ...["tcp", "udp", "icmp"].flatMap((p) => ["--pool4", `${p},192.0.2.2:${POOL4.first}-${POOL4.last}`]),
];

type Proto = "udp" | "tcp" | "icmp";

/** One step of a scenario. */
export type Action =
  | { kind: "out"; proto: Proto; host: number; port: number; remote: number; rport: number; syn: boolean }
  | { kind: "reply"; session: number }
  | { kind: "stranger"; proto: Proto; port: number; remote: number; rport: number };

/** Scenarios: mostly new and repeated outbound flows, answers to them, and strangers. */
export const actionsArb: fc.Arbitrary<Action[]> = fc.array(
  fc.oneof(
    {
      arbitrary: fc.record({
        kind: fc.constant("out" as const),
        proto: fc.constantFrom<Proto>("udp", "tcp", "icmp"),
        host: fc.integer({ min: 1, max: 4 }),
        port: fc.integer({ min: 1024, max: 1029 }),
        remote: fc.integer({ min: 1, max: 3 }),
        rport: fc.constantFrom(53, 80, 443),
        syn: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
      }),
      weight: 5,
    },
    { arbitrary: fc.record({ kind: fc.constant("reply" as const), session: fc.nat() }), weight: 3 },
    {
      arbitrary: fc.record({
        kind: fc.constant("stranger" as const),
        proto: fc.constantFrom<Proto>("udp", "tcp", "icmp"),
        port: fc.integer({ min: POOL4.first - 2, max: POOL4.last + 2 }),
        remote: fc.integer({ min: 100, max: 102 }),
        rport: fc.constantFrom(53, 4444),
      }),
      weight: 1,
    },
  ),
  { minLength: 1, maxLength: 60 },
);

const host6 = (h: number) => Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, h]);
const remote4 = (r: number) => Uint8Array.from([203, 0, 113, r]);

interface Mapping {
  port4: number;
}

interface Session {
  proto: Proto;
  host: number;
  port: number;
  remote: number;
  rport: number;
  port4: number;
}

function l4(proto: Proto, sport: number, dport: number, request: boolean, tcpFlags: number): L4Spec {
  if (proto === "udp") return { kind: "udp", sport, dport, payload: Uint8Array.of(1, 2, 3, 4), zeroChecksum: false };
  if (proto === "tcp") return { kind: "tcp", sport, dport, flags: tcpFlags, payload: new Uint8Array() };
  return { kind: "echo", request, id: request ? sport : dport, seq: 7, payload: Uint8Array.of(9, 9) };
}

/** Source and destination transport ports of an IPv4 or IPv6 output (ICMP echo: the identifier, both ways). */
function ports(p: Uint8Array): { src: number; dst: number; l4: number } {
  const at = p[0] >> 4 === 4 ? (p[0] & 0xf) * 4 : 40;
  const proto = p[0] >> 4 === 4 ? p[9] : p[6];
  if (proto === PROTO.ICMP || proto === PROTO.ICMPV6) {
    const id = (p[at + 4] << 8) | p[at + 5];
    return { src: id, dst: id, l4: proto };
  }
  return { src: (p[at] << 8) | p[at + 1], dst: (p[at + 2] << 8) | p[at + 3], l4: proto };
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The model's state and the checks; `step` runs one action through the engine. */
export class Nat64Model {
  readonly #fe: FuzzEngine;
  readonly #mappings = new Map<string, Mapping>();
  readonly #sessions: Session[] = [];
  #now: number;

  constructor(fe: FuzzEngine, startMs = 1_000_000) {
    this.#fe = fe;
    this.#now = startMs;
  }

  /** Runs `action`; returns the problems it showed. */
  step(action: Action): string[] {
    if (action.kind === "out") return this.#out(action);
    if (action.kind === "reply") {
      return this.#sessions.length ? this.#reply(this.#sessions[action.session % this.#sessions.length]) : [];
    }
    return this.#stranger(action);
  }

  /** Every session still answers and every mapping is still the same (after junk, say). */
  recheck(): string[] {
    const problems: string[] = [];
    for (const s of [...this.#sessions]) {
      problems.push(...this.#reply(s));
      problems.push(
        ...this.#out({
          kind: "out",
          proto: s.proto,
          host: s.host,
          port: s.port,
          remote: s.remote,
          rport: s.rport,
          syn: false,
        }),
      );
    }
    return problems;
  }

  #send(bytes: Uint8Array) {
    const report = this.#fe.run([{ bytes }], this.#now++);
    const what = (p: string) => `${p} — input ${toHex(bytes)}`;
    return {
      problems: report.problems.map((p) => what(p.what)),
      translated: report.outputs.filter((o) => o.kind === 0).map((o) => o.bytes),
      what,
    };
  }

  #out(a: Extract<Action, { kind: "out" }>): string[] {
    const tcpFlags = a.syn ? 0x02 : 0x10;
    const bytes = buildIp({
      version: 6,
      src: host6(a.host),
      dst: embedIPv4(POOL6, remote4(a.remote)),
      trafficClass: 0,
      flowLabel: 0,
      hopLimit: 64,
      ext: [],
      l4: l4(a.proto, a.port, a.rport, true, tcpFlags),
      badChecksum: false,
    });
    const { problems, translated, what } = this.#send(bytes);
    const key = `${a.proto}|${a.host}|${a.port}`;
    const known = this.#mappings.get(key);
    const hasSession = this.#sessions.some((s) =>
      s.proto === a.proto && s.host === a.host && s.port === a.port && s.remote === a.remote && s.rport === a.rport
    );
    if (translated.length > 1) return [...problems, what(`one outbound packet gave ${translated.length} translations`)];
    if (translated.length === 0) {
      const exhausted = [...this.#mappings.keys()].filter((k) =>
        k.startsWith(`${a.proto}|`)
      ).length >= POOL4.last - POOL4.first + 1;
      const notSyn = a.proto === "tcp" && !a.syn && !hasSession;
      if (!notSyn && (known || !exhausted)) {
        problems.push(
          what(
            `outbound ${a.proto} from [${a.host}]:${a.port} was not translated although ${
              known ? "its mapping exists" : "pool4 has room"
            }`,
          ),
        );
      }
      return problems;
    }
    const out = translated[0];
    const p = ports(out);
    if (out[0] >> 4 !== 4 || !same(out.subarray(12, 16), Uint8Array.from(POOL4.addr))) {
      problems.push(what("the translated source is not the pool4 address"));
    }
    if (!same(out.subarray(16, 20), remote4(a.remote))) {
      problems.push(what("the translated destination is not the IPv4 address embedded in pool6"));
    }
    if (p.src < POOL4.first || p.src > POOL4.last) {
      problems.push(what(`the translated source port ${p.src} is outside pool4 ${POOL4.first}-${POOL4.last}`));
    }
    if (a.proto !== "icmp" && p.dst !== a.rport) problems.push(what(`the destination port became ${p.dst}`));
    if (known && known.port4 !== p.src) {
      problems.push(
        what(
          `[${a.host}]:${a.port} was mapped to port ${known.port4}, now to ${p.src} (RFC 6146 §3.5.1.1 endpoint-independent mapping)`,
        ),
      );
    }
    if (!known) {
      const taken = [...this.#mappings.entries()].find(([k, m]) => k.startsWith(`${a.proto}|`) && m.port4 === p.src);
      if (taken) problems.push(what(`[${a.host}]:${a.port} got port ${p.src}, which ${taken[0]} already holds`));
      this.#mappings.set(key, { port4: p.src });
    }
    if (!hasSession) {
      this.#sessions.push({
        proto: a.proto,
        host: a.host,
        port: a.port,
        remote: a.remote,
        rport: a.rport,
        port4: p.src,
      });
    }
    return problems;
  }

  #reply(s: Session): string[] {
    const bytes = buildIp({
      version: 4,
      src: remote4(s.remote),
      dst: Uint8Array.from(POOL4.addr),
      tos: 0,
      id: 1,
      df: true,
      more: false,
      offset: 0,
      ttl: 64,
      options: new Uint8Array(),
      l4: l4(s.proto, s.rport, s.port4, false, 0x12),
      badChecksum: false,
    });
    const { problems, translated, what } = this.#send(bytes);
    if (translated.length !== 1) {
      return [
        ...problems,
        what(
          `the answer on the ${s.proto} session [${s.host}]:${s.port} ↔ ${s.remote}:${s.rport} (port ${s.port4}) gave ${translated.length} translations`,
        ),
      ];
    }
    const out = translated[0];
    const p = ports(out);
    if (out[0] >> 4 !== 6 || !same(out.subarray(24, 40), host6(s.host))) {
      problems.push(what(`the answer did not go to host ${s.host}`));
    }
    if (!same(out.subarray(8, 24), embedIPv4(POOL6, remote4(s.remote)))) {
      problems.push(what("the answer's source is not the remote embedded in pool6"));
    }
    if (p.dst !== s.port) problems.push(what(`the answer went to port ${p.dst}, not ${s.port}`));
    return problems;
  }

  #stranger(a: Extract<Action, { kind: "stranger" }>): string[] {
    const bytes = buildIp({
      version: 4,
      src: remote4(a.remote),
      dst: Uint8Array.from(POOL4.addr),
      tos: 0,
      id: 1,
      df: true,
      more: false,
      offset: 0,
      ttl: 64,
      options: new Uint8Array(),
      l4: l4(a.proto, a.rport, a.port, a.proto !== "icmp", 0x02),
      badChecksum: false,
    });
    const { problems, translated, what } = this.#send(bytes);
    const holder = [...this.#sessions].find((s) => s.proto === a.proto && s.port4 === a.port);
    if (translated.length && !holder) {
      problems.push(what(`a ${a.proto} packet to unmapped port ${a.port} was translated`));
    }
    if (translated.length && holder && !same(translated[0].subarray(24, 40), host6(holder.host))) {
      problems.push(what(`a ${a.proto} packet to port ${a.port} reached another host than the mapping's`));
    }
    return problems;
  }
}
