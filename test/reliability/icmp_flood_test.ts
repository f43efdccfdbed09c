/**
 * ICMP error floods in the lab (issue 8). Errors arriving from both sides are translated
 * with their inner packets (RFC 7915 §4.2, §5.2) while an established TCP stream keeps
 * moving and memory stays flat; packets whose hop limit runs out inside the translator
 * make it originate Time Exceeded errors no faster than `icmp-errors-per-second`
 * (RFC 4443 §2.4(f)); in stateful NAT64 mode no ICMP error creates a session
 * (RFC 6146 §3.5: errors only look state up). Skipped with the reason printed when not
 * root, without /dev/net/tun or python3; the NAT64 test while NAT64 mode cannot start.
 */

import { ok } from "node:assert/strict";
import { NAT64, POOL4, SERVER4, SERVER6, SIIT } from "../e2e/addresses.ts";
import { labSkipReason, withGateway } from "../e2e/harness.ts";
import { nat64ModeSkipReason } from "../e2e/nat64_probe.ts";
import { clientPingsServer } from "../e2e/scenarios.ts";
import { grew, readCounters, SessionSampler, sessionTotal, sumOf } from "./counters.ts";
import { addClientAddresses, clientAddresses, eamtClient4, flood, floodSkipReason } from "./flood.ts";
import { describeOutcome, RSS_HEADROOM_KIB, underFlood } from "./under_flood.ts";

const labReason = labSkipReason() ?? floodSkipReason();
if (labReason) console.log(`skipping the ICMP flood tests: ${labReason}`);
const nat64Reason = labReason ?? await nat64ModeSkipReason();
if (nat64Reason && !labReason) console.log(`skipping the NAT64 ICMP-error state test: ${nat64Reason}`);

Deno.test({
  name: "ICMP flood, SIIT: errors from both sides are translated; the stream keeps moving, memory stays flat",
  ignore: labReason !== null,
  fn: () =>
    withGateway("icmp-siit", SIIT, async (lab, gw) => {
      const sources = clientAddresses(0x10, 16);
      await addClientAddresses(lab, sources);
      const o = await underFlood(lab, gw.socket, 3, () => [
        flood(lab, "client", "icmp-error", { src: sources, dst: SERVER6, rate: 8_000, seconds: 3 }),
        flood(lab, "server", "icmp-error", { src: [SERVER4], dst: eamtClient4(sources[0]), rate: 8_000, seconds: 3 }),
      ]);
      console.log(describeOutcome("SIIT ICMP error flood, both sides", o));
      const { before, after } = o.counters;
      ok(o.during.stalled === 0, `the established stream stalled in ${o.during.stalled} intervals`);
      ok(
        o.rss.peakKiB - o.rss.beforeKiB <= RSS_HEADROOM_KIB,
        `RSS rose from ${o.rss.beforeKiB} to ${o.rss.peakKiB} KiB`,
      );
      // Each error counts once as translated; the stream's own packets are far fewer than a flood.
      ok(grew(before, after, "packets_in_v4") >= 2_000, `IPv4 in grew by ${grew(before, after, "packets_in_v4")}`);
      ok(grew(before, after, "packets_in_v6") >= 2_000, `IPv6 in grew by ${grew(before, after, "packets_in_v6")}`);
      ok(
        grew(before, after, "drop_icmp_inner") + grew(before, after, "drop_icmp_bad_checksum") === 0,
        "well-formed ICMP errors were dropped",
      );
      await clientPingsServer(lab, gw);
    }),
});

/** The generated-error limit under test, per second. */
const ERRORS_PER_SECOND = 100;
/** The translator's bucket holds this many errors at most (wasm/src/ratelimit.rs BURST, Linux's icmp_msgs_burst). */
const BURST = 50;

Deno.test({
  name: "ICMP flood, SIIT: hop limits running out in the translator get Time Exceeded at most at the configured rate",
  ignore: labReason !== null,
  fn: () =>
    withGateway("icmp-rate", SIIT, async (lab, gw) => {
      const sources = clientAddresses(0x10, 4);
      await addClientAddresses(lab, sources);
      const before = await readCounters(gw.socket);
      const started = performance.now();
      const sent = await flood(lab, "client", "expiring", { src: sources, dst: SERVER6, rate: 5_000, seconds: 3 });
      const after = await readCounters(gw.socket);
      const seconds = (performance.now() - started) / 1000;
      const errors = grew(before, after, "icmp6_errors_sent");
      const limited = grew(before, after, "icmp_errors_rate_limited");
      const expired = grew(before, after, "drop_ttl_expired");
      console.log(
        `expiring flood: sent ${sent.sent} at ${sent.pps} pps; ${expired} ran out in the translator, ` +
          `${errors} Time Exceeded sent, ${limited} held back (limit ${ERRORS_PER_SECOND}/s over ${
            seconds.toFixed(1)
          } s)`,
      );
      ok(expired >= 1_000, `only ${expired} packets ran out in the translator: the flood did not reach it`);
      ok(errors > 0, "no Time Exceeded was sent at all");
      ok(
        errors <= BURST + ERRORS_PER_SECOND * seconds,
        `${errors} errors in ${seconds.toFixed(1)} s is above the limit`,
      );
      ok(
        limited > 0 && errors + limited === expired,
        `sent ${errors} + held back ${limited} is not the ${expired} expired`,
      );
      await clientPingsServer(lab, gw);
    }, () => ["--icmp-errors-per-second", String(ERRORS_PER_SECOND)]),
});

Deno.test({
  name: "ICMP flood, NAT64: errors about flows that do not exist create no session and are counted as dropped",
  ignore: nat64Reason !== null,
  fn: () =>
    withGateway("icmp-nat64", NAT64, async (lab, gw) => {
      const sources = clientAddresses(0x10, 16);
      await addClientAddresses(lab, sources);
      const sampler = await SessionSampler.start(gw.socket);
      let counts: number[] = [];
      let o;
      try {
        o = await underFlood(lab, gw.socket, 3, () => [
          flood(lab, "client", "icmp-error", { src: sources, dst: SERVER6, rate: 8_000, seconds: 3 }),
          flood(lab, "server", "icmp-error", { src: [SERVER4], dst: POOL4, rate: 8_000, seconds: 3 }),
        ]);
      } finally {
        counts = await sampler.stop();
      }
      console.log(describeOutcome("NAT64 ICMP error flood, both sides", o));
      const held = sessionTotal(o.counters.before);
      console.log(`sessions: ${held} before the flood (the stream's), peak ${Math.max(...counts)}`);
      ok(held > 0, "the stream's sessions do not show in the sessions_* gauges");
      ok(Math.max(...counts) <= held, `sessions rose from ${held} to ${Math.max(...counts)}: an ICMP error made state`);
      ok(o.during.stalled === 0, `the established stream stalled in ${o.during.stalled} intervals`);
      const dropped = sumOf(o.counters.after, /^drop_/) - sumOf(o.counters.before, /^drop_/);
      ok(dropped >= 2_000, `only ${dropped} packets were counted as dropped: the errors went uncounted`);
    }),
});
