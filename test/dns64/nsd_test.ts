/**
 * Integration: the listener in front of a real authoritative server (Debian's nsd, started
 * here on loopback with the fixture zones), queried with dig over UDP and TCP.
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { Dns64Server } from "../../src/dns64/server.ts";
import { dig, missingBinary, startNsd } from "./daemons.ts";

const missing = missingBinary("nsd", "dig");
if (missing) console.log(`dns64 nsd integration skipped: ${missing} is not installed (scripts/setup installs it)`);

const Z = "dns64.example.";

Deno.test({
  name: "integration: DNS64 listener with nsd upstream, queried with dig",
  ignore: missing !== null,
  fn: async (t) => {
    const nsd = await startNsd();
    const server = new Dns64Server({
      listen: ["127.0.0.1:0"],
      upstream: [`127.0.0.1:${nsd.port}`],
      prefix: ["2001:db8:64::/96"],
    });
    await server.start();
    const port = server.addresses()[0].port;
    try {
      for (const transport of ["+notcp", "+tcp"]) {
        const q = (name: string, type = "AAAA", ...extra: string[]) => dig(port, name, type, transport, ...extra);
        await t.step(`synthesis with TTL min(A, negative SOA) ${transport}`, async () => {
          const r = await q(`v4only.${Z}`);
          eq([r.status, r.answers], ["NOERROR", [`v4only.${Z} AAAA 2001:db8:64::c000:201`]]);
          // 120 when synthesized; the cached copy ages by the seconds it was kept.
          ok(r.ttls[0] <= 120 && r.ttls[0] > 110, `TTL ${r.ttls[0]}`);
          ok(r.flags.includes("ra") && !r.flags.includes("aa") && !r.flags.includes("ad"));
        });
        await t.step(`real AAAA kept, excluded AAAA dropped ${transport}`, async () => {
          eq((await q(`dual.${Z}`)).answers, [`dual.${Z} AAAA 2001:db8:1::4`]);
          eq((await q(`mixed.${Z}`)).answers, [`mixed.${Z} AAAA 2001:db8:1::6`]);
          eq((await q(`mapped.${Z}`)).answers, [`mapped.${Z} AAAA 2001:db8:64::c000:205`]);
        });
        await t.step(`CNAME and DNAME chains ${transport}`, async () => {
          eq((await q(`alias2.${Z}`)).answers, [
            `alias2.${Z} CNAME alias.${Z}`,
            `alias.${Z} CNAME v4only.${Z}`,
            `v4only.${Z} AAAA 2001:db8:64::c000:201`,
          ]);
          eq((await q(`host.sub.${Z}`)).answers, [
            `sub.${Z} DNAME target.${Z}`,
            `host.sub.${Z} CNAME host.target.${Z}`,
            `host.target.${Z} AAAA 2001:db8:64::c000:208`,
          ]);
        });
        await t.step(`negative answers ${transport}`, async () => {
          eq([(await q(`nodata.${Z}`)).status, (await q(`nodata.${Z}`)).answers], ["NOERROR", []]);
          eq((await q(`missing.${Z}`)).status, "NXDOMAIN");
          eq((await q(`v6only.${Z}`, "A")).answers, []);
          eq((await q(`two.${Z}`, "A")).answers.length, 2);
        });
        await t.step(`reverse name of a synthesized address ${transport}`, async () => {
          const r = await q("1.0.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.4.6.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "PTR");
          eq(r.answers, [
            "1.0.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.4.6.0.0.8.b.d.0.1.0.0.2.ip6.arpa. CNAME 1.2.0.192.in-addr.arpa.",
            `1.2.0.192.in-addr.arpa. PTR v4only.${Z}`,
          ]);
        });
        await t.step(`ipv4only.arpa answered locally ${transport}`, async () => {
          eq((await q("ipv4only.arpa.")).answers, [
            "ipv4only.arpa. AAAA 2001:db8:64::c000:aa",
            "ipv4only.arpa. AAAA 2001:db8:64::c000:ab",
          ]);
        });
      }
      await t.step("TC over UDP for an answer too big for 512 bytes, whole over TCP", async () => {
        const udp = await dig(port, `many.${Z}`, "AAAA", "+notcp", "+ignore", "+noedns");
        ok(udp.flags.includes("tc"));
        eq(udp.answers.length, 0);
        eq((await dig(port, `many.${Z}`, "AAAA", "+noedns")).answers.length, 40);
      });
    } finally {
      await server.stop();
      await nsd.stop();
    }
  },
});
