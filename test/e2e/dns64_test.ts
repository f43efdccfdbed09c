/**
 * DNS64 and the translator together, as an IPv6-only host uses them: the client asks the
 * DNS64 listener in the gateway (`nat64 dns64`, run with deno.json's "dns64" permission
 * set) for the AAAA of a name that has only an A record upstream (nsd on the IPv4-only
 * server), gets the address synthesized in the NAT64 prefix (RFC 6147 §5.1.7, RFC 6052),
 * and fetches the page at that address through the gateway.
 * Skipped, with the reason printed, when not root, without /dev/net/tun, or without nsd
 * or dig.
 */

import { deepStrictEqual as eq } from "node:assert/strict";
import { GW6, POOL6, SERVER4, SERVER6, SIIT } from "./addresses.ts";
import { labSkipReason, MAIN, withGateway } from "./harness.ts";
import { startNsd, WWW } from "./nsd.ts";
import { clientFetchesPage } from "./scenarios.ts";
import { missingBinary } from "../dns64/daemons.ts";

const missing = missingBinary("nsd", "dig");
const reason = labSkipReason() ?? (missing ? `${missing} is not installed (scripts/setup --test installs it)` : null);
if (reason) console.log(`skipping the DNS64 end-to-end test: ${reason}`);

Deno.test({
  name: "DNS64: the client resolves a name with only an A record to the synthesized AAAA and fetches the page there",
  ignore: reason !== null,
  fn: () =>
    withGateway("dns64", SIIT, async (lab) => {
      const dir = await Deno.makeTempDir({ prefix: "nat64-nsd-" });
      const stops: (() => Promise<unknown>)[] = [() => Deno.remove(dir, { recursive: true })];
      try {
        const nsd = await startNsd(lab, dir);
        stops.push(() => nsd.stop());
        const dns64 = lab.spawn("gw", [
          Deno.execPath(),
          "run",
          "-P=dns64",
          MAIN,
          "dns64",
          "--listen",
          `[${GW6}]:53`,
          "--upstream",
          SERVER4,
          "--prefix",
          POOL6,
          "--allow-client",
          "2001:db8:1::/64",
        ]);
        stops.push(() => dns64.stop());
        await dns64.waitFor(/listening on/, 20_000);
        const dig = (type: string) =>
          lab.must("client", ["dig", "+short", "+tries=1", "+timeout=3", `@${GW6}`, WWW, type], 15_000);
        const aaaa = (await dig("AAAA")).trim();
        eq(aaaa, SERVER6);
        eq(await dig("A"), `${SERVER4}\n`, "A queries pass through unchanged");
        await clientFetchesPage(lab, SIIT, aaaa);
      } finally {
        for (const stop of stops.reverse()) await stop();
      }
    }),
});

Deno.test({
  name: "DNS64 inside nat64 run: the gateway's own listener answers the served network and synthesizes with pool6",
  ignore: reason !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "nat64-nsd-" });
    try {
      await withGateway("dns64in", SIIT, async (lab, gw) => {
        const nsd = await startNsd(lab, dir);
        try {
          const dig = (type: string) =>
            lab.must("client", ["dig", "+short", "+tries=1", "+timeout=3", `@${GW6}`, WWW, type], 15_000);
          // No --dns64-prefix and no --dns64-allow-client: pool6 and the served network are the defaults.
          eq((await dig("AAAA")).trim(), SERVER6);
          await clientFetchesPage(lab, SIIT, SERVER6);
          const { counters } = await gw.stats();
          eq(Number(counters.dns64_synthesized) >= 1, true, JSON.stringify(counters));
        } finally {
          await nsd.stop();
        }
      }, () => ["--dns64-listen", `[${GW6}]:53`, "--dns64-upstream", SERVER4]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
