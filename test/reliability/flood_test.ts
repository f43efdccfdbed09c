/**
 * New-flow floods in the lab (issue 8): many source addresses and ports at once against
 * the gateway while an established TCP stream crosses it. In SIIT mode there is no state
 * to exhaust, so the gateway must simply keep translating with flat memory. In stateful
 * NAT64 mode (RFC 6146) the session limits must hold: never more sessions than
 * `max-sessions`, never more per IPv6 host than `max-sessions-per-host`, every refusal
 * counted, and the stream, whose sessions existed before the flood, keeps moving.
 * Throughput before and during is printed, not asserted beyond "it kept moving".
 * Skipped with the reason printed when not root, without /dev/net/tun or python3; the
 * NAT64 test while `nat64 run --mode nat64` cannot start.
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { NAT64, POOL4, POOL6, SERVER6, SIIT, TRANSLATOR4, TRANSLATOR6 } from "../e2e/addresses.ts";
import { type Lab, labSkipReason, withGateway } from "../e2e/harness.ts";
import { nat64ModeSkipReason } from "../e2e/nat64_probe.ts";
import { clientPingsServer } from "../e2e/scenarios.ts";
import { ControlClient } from "../../src/control/client.ts";
import { grew, readCounters, SessionSampler, sessionTotal } from "./counters.ts";
import { addClientAddresses, clientAddresses, flood, floodSkipReason } from "./flood.ts";
import { describeOutcome, type FloodOutcome, RSS_HEADROOM_KIB, underFlood } from "./under_flood.ts";

const labReason = labSkipReason() ?? floodSkipReason();
if (labReason) console.log(`skipping the flood tests: ${labReason}`);
const nat64Reason = labReason ?? await nat64ModeSkipReason();
if (nat64Reason && !labReason) console.log(`skipping the NAT64 session-limit flood test: ${nat64Reason}`);

/** The checks every flood shares: the stream never stalled, memory stayed bounded, the flood reached the gateway. */
function checkOutcome(o: FloodOutcome, minRead: number): void {
  ok(o.during.intervals >= 2, `the stream reported ${o.during.intervals} intervals during the flood: too few to judge`);
  ok(
    o.during.stalled === 0,
    `the established stream stalled in ${o.during.stalled} of ${o.during.intervals} intervals`,
  );
  ok(
    o.rss.peakKiB - o.rss.beforeKiB <= RSS_HEADROOM_KIB,
    `RSS rose from ${o.rss.beforeKiB} to ${o.rss.peakKiB} KiB during the flood`,
  );
  const read = o.counters.after.datapath_packets_read - o.counters.before.datapath_packets_read;
  ok(read >= minRead, `the gateway read only ${read} packets: the flood did not reach it`);
}

Deno.test({
  name: "flood, SIIT: new UDP flows from 16 addresses and every port; the stream keeps moving, memory stays flat",
  ignore: labReason !== null,
  fn: () =>
    withGateway("fl-siit", SIIT, async (lab, gw) => {
      const sources = clientAddresses(0x10, 16);
      await addClientAddresses(lab, sources);
      const o = await underFlood(lab, gw.socket, 3, () => [
        flood(lab, "client", "udp", { src: sources, dst: SERVER6, rate: 20_000, seconds: 3 }),
      ]);
      console.log(describeOutcome("SIIT UDP new-flow flood", o));
      checkOutcome(o, 5_000);
      ok(grew(o.counters.before, o.counters.after, "translated_6to4") >= 5_000, "the flood was not translated");
      await clientPingsServer(lab, gw);
    }),
});

/** The NAT64 limits under test. */
const MAX_SESSIONS = 600;
const MAX_PER_HOST = 200;

/** Sessions in the control socket's listing: of one IPv6 host, or of all. */
async function listedSessions(socket: string, host?: string): Promise<number> {
  const client = await ControlClient.connect(socket, 10_000);
  try {
    return (await client.list("sessions", { ...(host ? { addr: host } : {}), limit: 1 })).total;
  } finally {
    client.close();
  }
}

/**
 * Phase 1: one host alone runs into its own limit. Phase 2: many hosts together run into
 * the global one while the stream runs (RFC 6146 leaves both limits to policy).
 */
async function limitFloods(lab: Lab, socket: string, single: string, many: string[]) {
  const start = await readCounters(socket);
  await flood(lab, "client", "udp", { src: [single], dst: SERVER6, rate: 5_000, seconds: 1.5 });
  const mid = await readCounters(socket);
  // Thousands of new flows from one host and no other traffic yet: the gateway holds exactly that host's limit.
  const perHost = sessionTotal(mid);
  eq(perHost, MAX_PER_HOST, `${single} holds ${perHost} sessions; its limit is ${MAX_PER_HOST}`);
  ok(grew(start, mid, "drop_host_session_limit") > 0, "no refusal was counted under drop_host_session_limit");
  const udpHosts = many.slice(0, 8), synHosts = many.slice(8);
  const o = await underFlood(lab, socket, 3, () => [
    flood(lab, "client", "udp", { src: udpHosts, dst: SERVER6, rate: 6_000, seconds: 3 }),
    flood(lab, "client", "syn", { src: synHosts, dst: SERVER6, dport: 80, rate: 6_000, seconds: 3 }),
  ]);
  return { perHost, o };
}

Deno.test({
  name: "flood, NAT64: one host, then fifteen, open new UDP flows and TCP SYNs; session limits hold, refusals counted",
  ignore: nat64Reason !== null,
  fn: () =>
    withGateway(
      "fl-nat64",
      NAT64,
      async (lab, gw) => {
        const [single, ...many] = clientAddresses(0x10, 16);
        await addClientAddresses(lab, [single, ...many]);
        const sampler = await SessionSampler.start(gw.socket);
        let counts: number[] = [];
        let phases: { perHost: number; o: FloodOutcome };
        try {
          phases = await limitFloods(lab, gw.socket, single, many);
        } finally {
          counts = await sampler.stop();
        }
        const { perHost, o } = phases;
        console.log(describeOutcome("NAT64 UDP + SYN new-flow flood", o));
        console.log(
          `sessions: ${single} alone reached ${perHost}; peak over all ${Math.max(...counts)} (limit ${MAX_SESSIONS})`,
        );
        checkOutcome(o, 5_000);
        ok(Math.max(...counts) <= MAX_SESSIONS, `sessions peaked at ${Math.max(...counts)}, above ${MAX_SESSIONS}`);
        ok(
          grew(o.counters.before, o.counters.after, "drop_session_limit") > 0,
          "no refusal counted under drop_session_limit",
        );
        const after = sessionTotal(await readCounters(gw.socket));
        ok(after <= MAX_SESSIONS, `${after} sessions after the flood, above ${MAX_SESSIONS}`);
        eq(await listedSessions(gw.socket), after, "the session listing and the sessions_* gauges disagree");
        eq(await listedSessions(gw.socket, single), MAX_PER_HOST, `${single} lost sessions it should keep`);
        for (const host of many) {
          const n = await listedSessions(gw.socket, host);
          ok(n <= MAX_PER_HOST, `${host} holds ${n} sessions, more than ${MAX_PER_HOST}`);
        }
      },
      () => ["--max-sessions", String(MAX_SESSIONS), "--max-sessions-per-host", String(MAX_PER_HOST)],
    ),
});

/** A pool4 whose UDP ports are few: 64, so a new-flow flood runs out of them (RFC 6146 §3.5.1.1). */
const UDP_PORTS = 64;
const SMALL_POOL: typeof NAT64 = {
  ...NAT64,
  flags: [
    "--mode",
    "nat64",
    "--pool6",
    POOL6,
    "--pool4",
    `tcp,${POOL4}`,
    "--pool4",
    `icmp,${POOL4}`,
    "--pool4",
    `udp,${POOL4}:3000-${3000 + UDP_PORTS - 1}`,
    "--ipv4",
    TRANSLATOR4,
    "--ipv6",
    TRANSLATOR6,
  ],
};

Deno.test({
  name:
    "flood, NAT64: new UDP flows exhaust a 64-port pool4: bindings stay within it, refusals counted, TCP unaffected",
  ignore: nat64Reason !== null,
  fn: () =>
    withGateway("fl-ports", SMALL_POOL, async (lab, gw) => {
      const sources = clientAddresses(0x10, 16);
      await addClientAddresses(lab, sources);
      const o = await underFlood(lab, gw.socket, 2, () => [
        flood(lab, "client", "udp", { src: sources, dst: SERVER6, rate: 5_000, seconds: 2 }),
      ]);
      console.log(describeOutcome("NAT64 UDP flood against 64 pool4 ports", o));
      const { before, after } = o.counters;
      console.log(
        `pool4: ${after.sessions_udp} UDP sessions, ${after.bib_udp} UDP bindings on ${UDP_PORTS} ports; ` +
          `${grew(before, after, "drop_pool4_exhausted")} refused for want of a port`,
      );
      checkOutcome(o, 2_000);
      ok(after.bib_udp <= UDP_PORTS, `${after.bib_udp} UDP bindings on ${UDP_PORTS} ports`);
      ok(after.sessions_udp >= UDP_PORTS, `only ${after.sessions_udp} UDP sessions: the pool was not used up`);
      ok(grew(before, after, "drop_pool4_exhausted") > 0, "no refusal counted under drop_pool4_exhausted");
    }),
});
