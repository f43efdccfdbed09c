/**
 * Property tests of the stateless engine (RFC 7915) with fast-check: for any generated
 * configuration and batch, no trap, no write outside the batch's memory, no read outside
 * the packet, well-formed outputs with valid checksums; plain packets translate to
 * exactly what RFC 7915 describes; random config records never trap and a refused
 * configuration leaves the old one working.
 */

import fc from "fast-check";
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { Engine } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { encodeTranslatorConfig, TlvWriter } from "../../src/engine/config_tlv.ts";
import { batchArb, configArb, type FuzzConfig, type Host, localHostArb, remoteHostArb } from "./arbitraries.ts";
import { FUZZ_GEOMETRY, FuzzEngine } from "./engine_harness.ts";
import { buildIp } from "./packet_builder.ts";
import { toHex } from "./prng.ts";

/** Engines per configuration, reused across runs (an engine keeps no state between SIIT packets but its IP ID counter). */
const engines = new Map<string, FuzzEngine>();

function engineFor(flags: string[]): FuzzEngine {
  const key = flags.join(" ");
  let fe = engines.get(key);
  if (!fe || fe.dead) {
    fe = FuzzEngine.create(flags, FUZZ_GEOMETRY, true);
    engines.set(key, fe);
  }
  return fe;
}

Deno.test("any configuration and batch: no trap, no stray write or read, well-formed outputs", () => {
  fc.assert(
    fc.property(batchArb, ({ cfg, specs }) => {
      const inputs = specs.map((s) => ({ bytes: buildIp(s) }));
      const report = engineFor(cfg.flags).run(inputs, 0);
      if (report.problems.length) {
        const lines = report.problems.map((p) =>
          `${p.what}${p.slot === null ? "" : ` — input ${toHex(inputs[p.slot].bytes)}`}`
        );
        throw new Error(`flags ${cfg.flags.join(" ")}:\n${lines.join("\n")}`);
      }
    }),
    { numRuns: 400 },
  );
});

/** A plain packet from a local or a remote host, small enough that its translation needs no fragmenting. */
interface Plain {
  cfg: FuzzConfig;
  local: Host;
  remote: Host;
  fromLocal: boolean;
  kind: "udp" | "tcp" | "echo";
  payload: Uint8Array;
  tos: number;
  hop: number;
  port: number;
}

const plainArb: fc.Arbitrary<Plain> = configArb.chain((cfg) =>
  fc.record({
    cfg: fc.constant(cfg),
    local: localHostArb(cfg),
    remote: remoteHostArb(cfg, false),
    fromLocal: fc.boolean(),
    kind: fc.constantFrom("udp" as const, "tcp" as const, "echo" as const),
    // 20 bytes of transport header and 40 of IPv6 header must fit both MTUs (and stay under 1260, RFC 7915 §5.1).
    payload: fc.uint8Array({ maxLength: Math.max(0, Math.min(cfg.mtuV4 - 60, cfg.mtuV6 - 60, 1200)) }),
    tos: fc.integer({ min: 0, max: 255 }),
    hop: fc.integer({ min: 2, max: 255 }),
    port: fc.integer({ min: 1, max: 65535 }),
  })
);

/** The packet as the sender builds it (`translated`: as RFC 7915 says it leaves the translator). */
function plainPacket(r: Plain, translated: boolean): Uint8Array {
  const l4 = r.kind === "udp"
    ? { kind: "udp" as const, sport: r.port, dport: 53, payload: r.payload, zeroChecksum: false }
    : r.kind === "tcp"
    ? { kind: "tcp" as const, sport: r.port, dport: 80, flags: 0x18, payload: r.payload }
    : { kind: "echo" as const, request: true, id: r.port, seq: 1, payload: r.payload };
  const hop = translated ? r.hop - 1 : r.hop;
  const v6 = r.fromLocal !== translated;
  const [src, dst] = r.fromLocal ? [r.local, r.remote] : [r.remote, r.local];
  if (v6) {
    return buildIp({
      version: 6,
      src: src.v6,
      dst: dst.v6,
      trafficClass: r.tos,
      flowLabel: 0,
      hopLimit: hop,
      ext: [],
      l4,
      badChecksum: false,
    });
  }
  return buildIp({
    version: 4,
    src: src.v4,
    dst: dst.v4,
    tos: r.tos,
    id: 0,
    df: false,
    more: false,
    offset: 0,
    ttl: hop,
    options: new Uint8Array(),
    l4,
    badChecksum: false,
  });
}

/** The one translated output of a single-packet batch; throws naming what came out instead. */
function translateOne(e: Engine, packet: Uint8Array): Uint8Array {
  e.load(0, packet);
  const n = e.translate(1, 0);
  if (n !== 1 || e.outputKind(0) !== 0) {
    throw new Error(
      `${toHex(packet)} gave ${n} output(s)${n ? ` of kind ${e.outputKind(0)}` : ""}; counters ${
        JSON.stringify(nonZero(e))
      }`,
    );
  }
  return e.output(0).slice();
}

function nonZero(e: Engine): Record<string, string> {
  return Object.fromEntries(Object.entries(e.counters()).filter(([, v]) => v > 0n).map(([k, v]) => [k, String(v)]));
}

/** Hex of a packet without the IPv4 fields RFC 7915 §5.1 leaves to the translator: Identification, flags, header checksum. */
function comparable(p: Uint8Array): string {
  const q = p.slice();
  if (q[0] >> 4 === 4) {
    q.fill(0, 4, 8);
    q.fill(0, 10, 12);
  }
  return toHex(q);
}

Deno.test("RFC 7915 oracle: a plain UDP, TCP or echo packet translates to the packet the RFC describes", () => {
  const cache = new Map<string, Engine>();
  fc.assert(
    fc.property(plainArb, (r) => {
      const key = r.cfg.flags.join(" ");
      let e = cache.get(key);
      if (!e) {
        e = Engine.create(FUZZ_GEOMETRY);
        e.configure(parseFlags(r.cfg.flags).config);
        cache.set(key, e);
      }
      const out = translateOne(e, plainPacket(r, false));
      eq(comparable(out), comparable(plainPacket(r, true)), `flags ${key}`);
    }),
    { numRuns: 500 },
  );
});

Deno.test("random config records never trap; a refused configuration keeps the old one", () => {
  const base = parseFlags(["--pool6", "2001:db8:64::/96", "--eamt", "2001:db8:e::/120=198.51.100.0/24"]).config;
  const good = encodeTranslatorConfig(base).bytes();
  const probe = buildIp({
    version: 6,
    src: Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 0xe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]),
    dst: Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 203, 0, 113, 9]),
    trafficClass: 0,
    flowLabel: 0,
    hopLimit: 64,
    ext: [],
    l4: { kind: "udp", sport: 1000, dport: 53, payload: new Uint8Array(10), zeroChecksum: false },
    badChecksum: false,
  });
  const e = Engine.create(FUZZ_GEOMETRY);
  e.configure(base);
  const expected = comparable(translateOne(e, probe));
  const recordsArb = fc.oneof(
    // The good records with bytes changed.
    fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map(
      (edits) => {
        const b = good.slice();
        for (const [at, v] of edits) b[at] = v;
        return b;
      },
    ),
    // The good records cut short.
    fc.nat(good.length).map((n) => good.slice(0, n)),
    // Records of any tag and length, with any value.
    fc.array(fc.record({ tag: fc.integer({ min: 0, max: 0x20 }), value: fc.uint8Array({ maxLength: 40 }) }), {
      maxLength: 8,
    }).map((rs) => {
      const w = new TlvWriter();
      for (const r of rs) w.record(r.tag, r.value);
      return w.bytes();
    }),
  );
  const outcomes = { refused: 0, accepted: 0 };
  fc.assert(
    fc.property(recordsArb, (bytes) => {
      const w = { bytes: () => bytes } as TlvWriter;
      let refused = false;
      try {
        e.configureRecords(w);
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError) throw err;
        refused = true;
        if (!/^the engine refused the configuration: \S/.test((err as Error).message)) throw err;
      }
      outcomes[refused ? "refused" : "accepted"]++;
      if (refused) eq(comparable(translateOne(e, probe)), expected, "a refused configuration changed the translation");
      else e.configureRecords(encodeTranslatorConfig(base));
    }),
    { numRuns: 800 },
  );
  // Both paths must have been taken, or the property says nothing.
  ok(outcomes.refused >= 10 && outcomes.accepted >= 10, `refused ${outcomes.refused}, accepted ${outcomes.accepted}`);
});
