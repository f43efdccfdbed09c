/**
 * Differential test against Unbound's dns64 module (Debian's unbound, started here with one
 * thread) on the same zone served by nsd. Where both follow RFC 6147 the answers must be
 * equal; where they differ by design, each case below says why and pins both behaviours.
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { Dns64Server } from "../../src/dns64/server.ts";
import { type Daemon, dig, type DigResult, missingBinary, startNsd, startUnbound, ZONES } from "./daemons.ts";
import { FakeUpstream } from "./fake_upstream.ts";

const missing = missingBinary("nsd", "unbound", "dig");
if (missing) console.log(`dns64 Unbound differential skipped: ${missing} is not installed (scripts/setup installs it)`);

const PREFIX = "2001:db8:64::/96";
const Z = "dns64.example.";

/** Status and the answer set, order-free: what two RFC-following resolvers must agree on. */
const essence = (r: DigResult) => ({ status: r.status, answers: [...r.answers].sort() });

async function withBoth(
  upstreamPort: number,
  stubs: { name: string; port: number }[],
  body: (ours: number, unbound: number) => Promise<void>,
): Promise<void> {
  let unbound: Daemon | null = null;
  const server = new Dns64Server({
    listen: ["127.0.0.1:0"],
    upstream: [`127.0.0.1:${upstreamPort}`],
    prefix: [PREFIX],
  });
  try {
    unbound = await startUnbound({ stubs, dns64Prefix: PREFIX });
    await server.start();
    await body(server.addresses()[0].port, unbound.port);
  } finally {
    await server.stop();
    await unbound?.stop();
  }
}

Deno.test({
  name: "differential: same answers as Unbound's dns64 where both follow RFC 6147",
  ignore: missing !== null,
  fn: async (t) => {
    const nsd = await startNsd();
    try {
      await withBoth(nsd.port, ZONES.map((z) => ({ name: z.name, port: nsd.port })), async (ours, unbound) => {
        const cases: [string, string][] = [
          [`v4only.${Z}`, "AAAA"], // §5.1.6: synthesis from one A
          [`two.${Z}`, "AAAA"], // one AAAA per A
          [`dual.${Z}`, "AAAA"], // §5.1.1: real AAAA wins
          [`v6only.${Z}`, "AAAA"],
          [`alias2.${Z}`, "AAAA"], // §5.1.5: CNAME chain kept
          [`host.sub.${Z}`, "AAAA"], // §5.1.5: DNAME
          [`nodata.${Z}`, "AAAA"], // §5.1.6: empty A is the basis
          [`missing.${Z}`, "AAAA"], // §5.1.2: NXDOMAIN
          [`v4only.${Z}`, "A"], // §5.3.3: other types untouched
          [`nodata.${Z}`, "TXT"],
        ];
        for (const [name, type] of cases) {
          for (const transport of ["+notcp", "+tcp"]) {
            await t.step(`${name} ${type} ${transport}`, async () => {
              eq(essence(await dig(ours, name, type, transport)), essence(await dig(unbound, name, type, transport)));
            });
          }
        }

        await t.step("by design: TTL of synthesized AAAA", async () => {
          // RFC 6147 §5.1.7 caps the TTL at the negative AAAA TTL (SOA MINIMUM 120 here);
          // Unbound copies the A TTL (3600) unclamped.
          // Both caches may have aged the records by a few seconds.
          const [mine] = (await dig(ours, `v4only.${Z}`, "AAAA")).ttls;
          const [theirs] = (await dig(unbound, `v4only.${Z}`, "AAAA")).ttls;
          ok(mine <= 120 && mine > 100, `ours ${mine}`);
          ok(theirs <= 3600 && theirs > 3500, `unbound ${theirs}`);
        });

        await t.step("by design: AAAA exclusion list (§5.1.4)", async () => {
          // We exclude ::ffff:0:0/96 by default (RFC 6147 §5.1.4 SHOULD); Unbound has no
          // default exclusion list, so it returns the IPv4-mapped record unchanged.
          eq((await dig(ours, `mapped.${Z}`, "AAAA")).answers, [`mapped.${Z} AAAA 2001:db8:64::c000:205`]);
          eq((await dig(unbound, `mapped.${Z}`, "AAAA")).answers, [`mapped.${Z} AAAA ::ffff:192.0.2.5`]);
          eq((await dig(ours, `mixed.${Z}`, "AAAA")).answers, [`mixed.${Z} AAAA 2001:db8:1::6`]);
          eq((await dig(unbound, `mixed.${Z}`, "AAAA")).answers.length, 2);
        });

        await t.step("by design: PTR of a synthesized address (§5.3.1)", async () => {
          // Both answer it; we use option 2 (a CNAME to in-addr.arpa, then its PTR), Unbound
          // puts the PTR directly under the ip6.arpa name. The PTR target is the same.
          const name = "1.0.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.4.6.0.0.8.b.d.0.1.0.0.2.ip6.arpa.";
          const mine = await dig(ours, name, "PTR");
          const theirs = await dig(unbound, name, "PTR");
          eq(mine.answers.map((a) => a.split(" ")[1]), ["CNAME", "PTR"]);
          eq(mine.answers[1].split(" ")[2], theirs.answers[0].split(" ")[2]);
        });

        await t.step("by design: ipv4only.arpa (RFC 8880 §7.2)", async () => {
          // We answer it locally; Unbound forwards it like any name, and with no route to
          // the root servers here it gets no answer.
          eq((await dig(ours, "ipv4only.arpa.", "AAAA")).answers.length, 2);
          const theirs = await dig(unbound, "ipv4only.arpa.", "AAAA", "+time=1");
          ok(theirs.answers.length === 0);
        });
      });
    } finally {
      await nsd.stop();
    }
  },
});

Deno.test({
  name: "differential, by design: SERVFAIL on the AAAA query",
  ignore: missing !== null,
  fn: async () => {
    // RFC 6147 §5.1.2 treats SERVFAIL as an empty answer and synthesizes; Unbound does.
    // Synthesizing on SERVFAIL hides outages, so ours returns SERVFAIL unless
    // synthesize-on-servfail is set (then it matches Unbound; see server_test.ts).
    const fake = await FakeUpstream.start();
    fake.override(`v4only.${Z.slice(0, -1)}`, "AAAA", { rcode: "SERVFAIL" });
    try {
      await withBoth(fake.port, [{ name: "dns64.example", port: fake.port }], async (ours, unbound) => {
        eq((await dig(ours, `v4only.${Z}`, "AAAA")).status, "SERVFAIL");
        eq(essence(await dig(unbound, `v4only.${Z}`, "AAAA")), {
          status: "NOERROR",
          answers: [`v4only.${Z} AAAA 2001:db8:64::c000:201`],
        });
      });
    } finally {
      await fake.stop();
    }
  },
});
