/**
 * A million sessions: the tables fill to that size at start-up capacity, existing
 * flows are still found (no new state for them), the counts stay O(1), a snapshot of
 * them all restores in another engine, and a mass expiry runs to the end in budgeted
 * calls. Behaviour at scale only; the speeds are `deno task bench:nat64`'s.
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { Engine } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { buildPacket } from "../util/packets.ts";
import { formatIP, formatIPv4 } from "../../src/net/ip.ts";

const SESSIONS = 1_000_000;
/** Hosts the synthetic flows come from (2000 flows each). */
const HOSTS = 500;
/** 32 UDP addresses: room for a million bindings with paired pooling (RFC 6146 §3.5.1.1). */
const FLAGS = ["--mode", "nat64", "--pool6", "64:ff9b::/96", "--allow-nonglobal-wkp", "--pool4", "udp,192.0.2.0/27"];
const UDP_MS = 300_000;

function engine(): Engine {
  const e = Engine.create({ slotCount: 64, sessionCapacity: SESSIONS });
  e.configure(parseFlags(FLAGS).config);
  return e;
}

/** The packet of synthetic flow `i` (`synthetic_flow` in `wasm/src/nat64/fill.rs`). */
function flowPacket(i: number): Uint8Array {
  const host = (i % HOSTS) + 1;
  const j = Math.floor(i / HOSTS);
  const src = `2001:db8::${(host >>> 16).toString(16)}:${(host & 0xffff).toString(16)}`;
  const server = formatIPv4(Uint8Array.of(198, 51, 100, Math.floor(j / 64000) % 256));
  return buildPacket({ src, dst: `64:ff9b::${server}`, proto: "udp", sport: 1024 + (j % 64000), dport: 53 });
}

// Two engines of a million sessions: about 260 MB of tables.
Deno.test({
  name: "a million sessions: found again, counted, saved and restored, expired in budgeted calls",
  fn() {
    const a = engine();
    eq(a.fill(SESSIONS, HOSTS, 0), SESSIONS);
    eq(a.counters().sessions_udp, BigInt(SESSIONS));
    eq(a.listSessions({ proto: "udp", limit: 1 }, 0, 0).total, SESSIONS);

    // Existing flows, anywhere in the tables, go out through their bindings.
    const picks = [0, 1, 499_999, 500_000, 777_777, 999_999, ...Array.from({ length: 58 }, (_, k) => (k + 1) * 17_011)];
    picks.forEach((i, slot) => a.load(slot, flowPacket(i)));
    eq(a.translate(picks.length, 1000), picks.length);
    for (let j = 0; j < picks.length; j++) ok(formatIP(a.output(j).subarray(12, 16)).startsWith("192.0.2."));
    eq(a.counters().sessions_udp, BigInt(SESSIONS), "no new session for a known flow");

    const snapshot = a.exportState(60_000);
    eq(snapshot.length, 32 + 40 * SESSIONS);
    const b = engine();
    eq(b.importState(snapshot, 1e7), { sessions: SESSIONS, skipped: 0 });
    eq(b.counters().bib_udp, BigInt(SESSIONS));

    // Saved 60 s after they began, the sessions had 240 s left; the 64 refreshed at 1 s
    // had 299 s. At 240 s all but those expire at once, over calls of 100 000.
    let calls = 0;
    for (let more = true; more; calls++) more = b.expire(1e7 + UDP_MS - 60_000, 100_000).more;
    ok(calls >= 10 && calls <= 12, `${calls} calls`);
    eq(b.counters().sessions_udp, BigInt(picks.length));
    eq(b.counters().nat64_sessions_expired, BigInt(SESSIONS - picks.length));
  },
});
