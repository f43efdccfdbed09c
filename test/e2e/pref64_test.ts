/**
 * PREF64 from the running gateway (RFC 8781): `nat64 run --pref64-interface` sends router
 * advertisements on the client link, answers a router solicitation from the IPv6-only
 * client, and counts both in its stats. (The option's bytes are pinned by
 * test/pref64/; here the question is whether the gateway wires the advertiser.)
 */

import { deepStrictEqual as eq, match } from "node:assert/strict";
import { SIIT } from "./addresses.ts";
import { labSkipReason, withGateway } from "./harness.ts";

const reason = labSkipReason() ??
  (new Deno.Command("sh", { args: ["-c", "command -v rdisc6"], stdout: "null" }).outputSync().success
    ? null
    : "rdisc6 is not installed (scripts/setup --test installs ndisc6)");
if (reason) console.log(`skipping the PREF64 end-to-end test: ${reason}`);

Deno.test({
  name: "nat64 run --pref64-interface advertises on the client link, hears its solicitation and counts both",
  ignore: reason !== null,
  fn: () =>
    withGateway("pref64", SIIT, async (lab, gw) => {
      const out = await lab.must("client", ["rdisc6", "-1", "-w", "3000", "to-gw"], 15_000);
      match(out, /from fe80::/);
      const { counters } = await gw.stats();
      // RFC 4861 §6.2.6 lets the answer be folded into an advertisement already due, so
      // sent and answered advertisements count together; the solicitation itself must arrive.
      eq(Number(counters.pref64_rs_received) >= 1, true, JSON.stringify(counters));
      eq(Number(counters.pref64_ra_sent) + Number(counters.pref64_ra_answers) >= 1, true, JSON.stringify(counters));
    }, () => ["--pref64-interface", "to-client", "--pref64-interval", "600"]),
});
