/**
 * The listener end to end against a fake upstream: one test per rule of the DNS64 issue,
 * each run over UDP and over TCP.
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { type Dns64Options, Dns64Server } from "../../src/dns64/server.ts";
import { ResponseCache } from "../../src/dns64/cache.ts";
import { parseIPv6 } from "../../src/net/ip.ts";
import { type Answer, ask, dataOf, exchange } from "./client.ts";
import { FakeUpstream, ZONE } from "./fake_upstream.ts";

const PREFIX = "2001:db8:64::/96";
type Transport = "udp" | "tcp";

async function withListener(
  extra: Partial<Dns64Options>,
  body: (port: number, fake: FakeUpstream, server: Dns64Server) => Promise<void>,
): Promise<void> {
  const fake = await FakeUpstream.start();
  const server = new Dns64Server({ listen: ["127.0.0.1:0"], upstream: [fake.address], prefix: [PREFIX], ...extra });
  await server.start();
  try {
    await body(server.addresses()[0].port, fake, server);
  } finally {
    await server.stop();
    await fake.stop();
  }
}

/**
 * Registers `body` once per way of serving: UDP in recvmmsg/sendmmsg batches (the default
 * where FFI is permitted, as in these tests), UDP through node:dgram (the network-only
 * path), and TCP.
 */
function rule(
  name: string,
  extra: Partial<Dns64Options>,
  body: (t: Transport, port: number, fake: FakeUpstream, server: Dns64Server) => Promise<void>,
): void {
  const ways = [["udp", "udp", {}], ["udp, network only", "udp", { udpBatch: false }], ["tcp", "tcp", {}]] as const;
  for (const [label, t, mode] of ways) {
    Deno.test(
      `${name} (${label})`,
      () => withListener({ ...mode, ...extra }, (port, fake, server) => body(t, port, fake, server)),
    );
  }
}

const n = (label: string) => `${label}.${ZONE}`;

/** The ip6.arpa name of `addr`, cut to its first `nibbles` nibbles (RFC 3596 §2.5). */
function reverseName(addr: string, nibbles = 32): string {
  const bytes = parseIPv6(addr);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, nibbles);
  return [...hex].reverse().join(".") + ".ip6.arpa";
}
const rcode = (a: Answer) => a.rcode as string;

rule("§5.1/§5.3.3: A and other types are forwarded and returned unchanged", {}, async (t, port, fake) => {
  const a = await ask(port, n("v4only"), { type: "A", transport: t });
  eq(rcode(a), "NOERROR");
  eq(dataOf(a.answers, "A"), ["192.0.2.1"]);
  const txt = await ask(port, n("nodata"), { type: "TXT", transport: t });
  eq(txt.answers.map((r: { data: Uint8Array[] }) => new TextDecoder().decode(r.data[0])), ["no addresses here"]);
  eq(fake.seenFor(n("v4only"), "AAAA").length, 0);
});

rule("§5.1: an AAAA question of another class is not a synthesis candidate", {}, async (t, port, fake) => {
  const a = await ask(port, n("v4only"), { transport: t, klass: "CH" });
  eq(a.answers.length, 0);
  eq(fake.seenFor(n("v4only"), "A").length, 0);
});

rule("§5.1.1: real AAAA records are returned as they are, without synthesis", {}, async (t, port, fake) => {
  const a = await ask(port, n("dual"), { transport: t });
  eq(dataOf(a.answers, "AAAA"), ["2001:db8:1::4"]);
  eq(fake.seenFor(n("dual"), "A").length, 0);
});

rule("§5.1.6/§5.1.7: no AAAA, an A record: one AAAA synthesized with the prefix", {}, async (t, port, _f, server) => {
  const a = await ask(port, n("v4only"), { transport: t });
  eq(rcode(a), "NOERROR");
  eq(a.answers.map((r: { name: string; class: string }) => [r.name, r.class]), [[n("v4only"), "IN"]]);
  eq(dataOf(a.answers, "AAAA"), ["2001:db8:64::c000:201"]);
  eq(server.counters().synthesized, 1);
});

rule("§5.1.7: TTL is min(A TTL, SOA negative TTL)", {}, async (t, port) => {
  // A TTL 3600, negative AAAA TTL min(300, 120) = 120.
  eq((await ask(port, n("v4only"), { transport: t })).answers[0].ttl, 120);
  // A TTL 30 is below the negative TTL.
  eq((await ask(port, n("shortttl"), { transport: t })).answers[0].ttl, 30);
});

rule("§5.1.7: without a SOA in the negative answer the TTL is min(A TTL, 600)", {}, async (t, port, fake) => {
  fake.override(n("v4only"), "AAAA", { noSoa: true });
  eq((await ask(port, n("v4only"), { transport: t })).answers[0].ttl, 600);
});

rule("§5.1.2: NXDOMAIN is returned, not synthesized", {}, async (t, port, fake) => {
  const a = await ask(port, n("missing"), { transport: t });
  eq(rcode(a), "NXDOMAIN");
  eq(a.authorities.map((r: { type: string }) => r.type), ["SOA"]);
  eq(fake.seenFor(n("missing"), "A").length, 0);
});

for (const code of ["SERVFAIL", "REFUSED", "FORMERR"] as const) {
  rule(`§5.1.2: ${code} on AAAA is SERVFAIL by default (synthesize-on-servfail off)`, {}, async (t, port, fake) => {
    // The upstream's error describes its exchange with us; the client hears SERVFAIL.
    fake.override(n("v4only"), "AAAA", { rcode: code });
    const a = await ask(port, n("v4only"), { transport: t });
    eq(rcode(a), "SERVFAIL");
    eq(a.answers.length, 0);
  });
  rule(
    `§5.1.2: ${code} on AAAA counts as empty with synthesize-on-servfail`,
    { synthesizeOnServfail: true },
    async (t, port, fake) => {
      fake.override(n("v4only"), "AAAA", { rcode: code });
      const a = await ask(port, n("v4only"), { transport: t });
      eq(rcode(a), "NOERROR");
      eq(dataOf(a.answers, "AAAA"), ["2001:db8:64::c000:201"]);
      // No SOA came with the error, so the TTL cap is 600 (§5.1.7).
      eq(a.answers[0].ttl, 600);
    },
  );
}

rule(
  "§5.1.3: an AAAA timeout is SERVFAIL by default",
  { timeoutMs: 100, retries: 0 },
  async (t, port, fake, server) => {
    fake.override(n("v4only"), "AAAA", { silent: true });
    eq(rcode(await ask(port, n("v4only"), { transport: t })), "SERVFAIL");
    eq(server.counters().upstreamErrors, 1);
    eq(server.counters().servfail, 1);
  },
);

rule("§5.1.3: an AAAA timeout counts as empty with synthesize-on-servfail", {
  timeoutMs: 100,
  retries: 0,
  synthesizeOnServfail: true,
}, async (t, port, fake) => {
  fake.override(n("v4only"), "AAAA", { silent: true });
  eq(dataOf((await ask(port, n("v4only"), { transport: t })).answers, "AAAA"), ["2001:db8:64::c000:201"]);
});

rule("§5.1.4: AAAA in ::ffff:0:0/96 are excluded by default, so synthesis happens", {}, async (t, port, _f, server) => {
  eq(dataOf((await ask(port, n("mapped"), { transport: t })).answers, "AAAA"), ["2001:db8:64::c000:205"]);
  eq(server.counters().excluded, 1);
});

rule("§5.1.4: in a mixed RRset only the non-excluded AAAA are returned", {}, async (t, port, fake) => {
  eq(dataOf((await ask(port, n("mixed"), { transport: t })).answers, "AAAA"), ["2001:db8:1::6"]);
  eq(fake.seenFor(n("mixed"), "A").length, 0);
});

rule("§5.1.4: a real AAAA inside our own prefix is excluded by default", {}, async (t, port) => {
  // The real record is 2001:db8:64::c000:207; the synthesized one is the same address, rebuilt from the A.
  const a = await ask(port, n("ownprefix"), { transport: t });
  eq(dataOf(a.answers, "AAAA"), ["2001:db8:64::c000:207"]);
  // The AAAA answer was positive, so it had no SOA: the TTL is min(A TTL 300, 600).
  eq(a.answers[0].ttl, 300);
});

rule(
  "§5.1.4: an explicit exclude-aaaa list replaces the default",
  { excludeAaaa: ["2001:db8:1::/48"] },
  async (t, port) => {
    eq(dataOf((await ask(port, n("mapped"), { transport: t })).answers, "AAAA"), ["::ffff:c000:205"]);
    eq(dataOf((await ask(port, n("dual"), { transport: t })).answers, "AAAA"), ["2001:db8:64::c000:204"]);
  },
);

rule("A exclusion list: IPv4 in exclude-a is never synthesized; NODATA keeps the SOA", {
  excludeA: ["192.0.2.0/28"],
}, async (t, port) => {
  const a = await ask(port, n("v4only"), { transport: t });
  eq([rcode(a), a.answers.length], ["NOERROR", 0]);
  eq(a.authorities.map((r: { type: string }) => r.type), ["SOA"]);
  eq(dataOf((await ask(port, n("two"), { transport: t })).answers, "AAAA"), ["2001:db8:64::c633:6403"]);
});

rule("§5.1.5: a CNAME chain is followed and kept, the AAAA owner is the A owner", {}, async (t, port) => {
  const a = await ask(port, n("alias2"), { transport: t });
  eq(a.answers.map((r: { name: string; type: string }) => `${r.name} ${r.type}`), [
    `${n("alias2")} CNAME`,
    `${n("alias")} CNAME`,
    `${n("v4only")} AAAA`,
  ]);
  eq(dataOf(a.answers, "AAAA"), ["2001:db8:64::c000:201"]);
});

rule("§5.1.5: a DNAME is followed and kept", {}, async (t, port) => {
  const a = await ask(port, `host.sub.${ZONE}`, { transport: t });
  eq(a.answers.map((r: { type: string }) => r.type), ["DNAME", "CNAME", "AAAA"]);
  eq(dataOf(a.answers, "AAAA"), ["2001:db8:64::c000:208"]);
});

rule("§5.1.6: an empty A answer is the basis: NODATA with the SOA", {}, async (t, port) => {
  const a = await ask(port, n("nodata"), { transport: t });
  eq([rcode(a), a.answers.length], ["NOERROR", 0]);
  eq(a.authorities.map((r: { type: string }) => r.type), ["SOA"]);
});

rule("§5.1.6: an A error is the basis of the answer", {}, async (t, port, fake) => {
  fake.override(n("v4only"), "A", { rcode: "NXDOMAIN" });
  eq(rcode(await ask(port, n("v4only"), { transport: t })), "NXDOMAIN");
  fake.override(n("shortttl"), "A", { rcode: "FORMERR" });
  eq(rcode(await ask(port, n("shortttl"), { transport: t })), "SERVFAIL");
});

rule("upstream RCODEs about the exchange itself reach the client as SERVFAIL", {}, async (t, port, fake) => {
  for (const code of ["FORMERR", "REFUSED", "SERVFAIL"] as const) {
    fake.override(n("nodata"), "TXT", { rcode: code });
    eq(rcode(await ask(port, n("nodata"), { type: "TXT", transport: t })), "SERVFAIL", code);
  }
});

rule("§5.2: several prefixes chosen by IPv4 range", {
  prefix: ["2001:db8:100::/40=198.51.100.0/24", "2001:db8:64::/96"],
}, async (t, port) => {
  eq(dataOf((await ask(port, n("two"), { transport: t })).answers, "AAAA").sort(), [
    "2001:db8:1c6:3364:3::",
    "2001:db8:64::c000:203",
  ]);
});

rule("RFC 6052 §3.1: the WKP is never used for non-global IPv4", { prefix: ["64:ff9b::/96"] }, async (t, port) => {
  const a = await ask(port, n("v4only"), { transport: t });
  eq([rcode(a), a.answers.length], ["NOERROR", 0]);
  eq(dataOf((await ask(port, n("global"), { transport: t })).answers, "AAAA"), ["64:ff9b::c000:9"]);
});

rule("RFC 6052 §3.1: non-global IPv4 falls through the WKP to the next prefix", {
  prefix: ["64:ff9b::/96", PREFIX],
}, async (t, port) => {
  eq(dataOf((await ask(port, n("v4only"), { transport: t })).answers, "AAAA"), ["2001:db8:64::c000:201"]);
  eq(dataOf((await ask(port, n("global"), { transport: t })).answers, "AAAA"), ["64:ff9b::c000:9"]);
});

rule("RFC 6052 §2.2: a /48 prefix embeds around the u-octet", { prefix: ["2001:db8:122::/48"] }, async (t, port) => {
  eq(dataOf((await ask(port, n("v4only"), { transport: t })).answers, "AAAA"), ["2001:db8:122:c000:2:100::"]);
});

rule("§5.3.2: the additional section of the A response is passed on", {}, async (t, port) => {
  const a = await ask(port, n("v4only"), { transport: t });
  eq(dataOf(a.additionals, "A"), ["192.0.2.53"]);
});

for (const [label, mode] of [["", {}], [", network only", { udpBatch: false }]] as const) {
  Deno.test(`TC is set when the synthesized answer no longer fits the client's UDP size${label}; TCP gets it all`, () =>
    withListener(mode, async (port, _fake, server) => {
      // 40 synthesized AAAA (28 bytes each with a compressed owner) fit 1232 bytes, not 512 or 1024.
      const udp = await ask(port, n("many"), { transport: "udp", edns: false });
      eq([udp.flag_tc, udp.answers.length], [true, 0]);
      ok(udp.size <= 512);
      const small = await ask(port, n("many"), { transport: "udp", edns: { udpSize: 1024 } });
      eq(small.flag_tc, true);
      const tcp = await ask(port, n("many"), { transport: "tcp", edns: false });
      eq([tcp.flag_tc, tcp.answers.length], [false, 40]);
      const big = await ask(port, n("many"), { transport: "udp", edns: { udpSize: 4096 } });
      eq([big.flag_tc, big.answers.length], [false, 40]);
      ok(big.size <= 1232);
      eq(server.counters().truncated, 2);
    }));
}

rule("upstream TC over UDP is retried over TCP", {}, async (t, port, fake) => {
  fake.override(n("v4only"), "A", { truncateUdp: true });
  eq(dataOf((await ask(port, n("v4only"), { transport: t })).answers, "AAAA"), ["2001:db8:64::c000:201"]);
  eq(fake.seenFor(n("v4only"), "A").map((q) => q.transport), ["udp", "tcp"]);
});

rule("§5.3.1: a full reverse name under the prefix is a CNAME to in-addr.arpa, followed", {}, async (t, port) => {
  const name = reverseName("2001:db8:64::c000:201");
  const a = await ask(port, name, { type: "PTR", transport: t });
  eq(a.answers.map((r: { type: string; data: string }) => `${r.type} ${r.data}`), [
    "CNAME 1.2.0.192.in-addr.arpa",
    `PTR ${n("v4only")}`,
  ]);
  const upper = await ask(port, name.toUpperCase(), { type: "PTR", transport: t });
  eq(upper.questions[0].name, name.toUpperCase());
  eq(dataOf(upper.answers, "CNAME"), ["1.2.0.192.in-addr.arpa"]);
});

rule("§5.3.1: partial reverse names are empty non-terminals; bad ones do not exist", {}, async (t, port, fake) => {
  for (const nibbles of [24, 26, 31]) {
    const partial = await ask(port, reverseName("2001:db8:64::c000:201", nibbles), { type: "PTR", transport: t });
    eq([rcode(partial), partial.answers.length, partial.authorities[0].type], ["NOERROR", 0, "SOA"]);
  }
  const bad = await ask(port, "x." + reverseName("2001:db8:64::c000:201", 31), { type: "PTR", transport: t });
  eq(rcode(bad), "NXDOMAIN");
  eq(fake.seen.length, 0);
});

rule("§5.3.1: a /48 prefix's reverse names skip the u-octet", { prefix: ["2001:db8:122::/48"] }, async (t, port) => {
  // 2001:db8:122:c000:2:100:: holds 192.0.2.1.
  const name = reverseName("2001:db8:122:c000:2:100::");
  eq(dataOf((await ask(port, name, { type: "PTR", transport: t })).answers, "CNAME"), ["1.2.0.192.in-addr.arpa"]);
  // The same address with the u-octet set names no synthesized address.
  const uoctet = reverseName("2001:db8:122:c000:102:100::");
  eq(rcode(await ask(port, uoctet, { type: "PTR", transport: t })), "NXDOMAIN");
});

rule("§5.3.1: reverse names outside every prefix are forwarded", {}, async (t, port, fake) => {
  const name = reverseName("2001:db8::1");
  eq(rcode(await ask(port, name, { type: "PTR", transport: t })), "NXDOMAIN");
  eq(fake.seenFor(name).length, 1);
});

rule("RFC 7050/8880: ipv4only.arpa is answered locally, never forwarded", {
  prefix: [PREFIX, "64:ff9b::/96"],
}, async (t, port, fake) => {
  eq(dataOf((await ask(port, "ipv4only.arpa", { type: "A", transport: t })).answers, "A"), [
    "192.0.0.170",
    "192.0.0.171",
  ]);
  eq(dataOf((await ask(port, "IPv4only.arpa", { transport: t })).answers, "AAAA"), [
    "2001:db8:64::c000:aa",
    "2001:db8:64::c000:ab",
    "64:ff9b::c000:aa",
    "64:ff9b::c000:ab",
  ]);
  eq(dataOf((await ask(port, "170.0.0.192.in-addr.arpa", { type: "PTR", transport: t })).answers, "PTR"), [
    "ipv4only.arpa",
  ]);
  const reverse = await ask(port, reverseName("64:ff9b::c000:aa"), { type: "PTR", transport: t });
  eq(dataOf(reverse.answers, "PTR"), ["ipv4only.arpa"]);
  eq(rcode(await ask(port, "www.ipv4only.arpa", { transport: t })), "NXDOMAIN");
  eq(fake.seen.length, 0);
});

rule("§5.5: CD=1 gets the real data, no synthesis", {}, async (t, port, fake) => {
  const a = await ask(port, n("v4only"), { transport: t, checkingDisabled: true, edns: { dnssecOk: true } });
  eq([rcode(a), a.answers.length, a.flag_cd], ["NOERROR", 0, true]);
  eq(fake.seenFor(n("v4only"), "A").length, 0);
  eq(fake.seenFor(n("v4only"), "AAAA")[0].checkingDisabled, true);
});

rule("§5.5: AD is never set on synthesized data; DO is passed upstream", {}, async (t, port, fake) => {
  fake.override(n("v4only"), "AAAA", { authenticated: true });
  fake.override(n("v4only"), "A", { authenticated: true });
  const a = await ask(port, n("v4only"), { transport: t, edns: { dnssecOk: true } });
  eq([a.flag_ad, dataOf(a.answers, "AAAA")], [false, ["2001:db8:64::c000:201"]]);
  eq(fake.seen.map((q) => q.dnssecOk), [true, true]);
  eq(a.additionals.find((r: { type: string }) => r.type === "OPT").flag_do, true);
  fake.override(n("dual"), "AAAA", { authenticated: true });
  eq((await ask(port, n("dual"), { transport: t, edns: { dnssecOk: true } })).flag_ad, true);
});

rule(
  "not an open resolver: clients outside allow-client get REFUSED",
  { allowClient: ["2001:db8::/32"] },
  async (t, port, fake, server) => {
    eq(rcode(await ask(port, n("v4only"), { transport: t })), "REFUSED");
    eq([fake.seen.length, server.counters().refused], [0, 1]);
  },
);

Deno.test("per-client rate limit drops queries beyond the rate", async () => {
  await withListener({ rateLimit: 5 }, async (port, _fake, server) => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => exchangeQuery(port, i)),
    );
    eq(answers.filter((a) => a !== null).length, 5);
    eq(server.counters().rateLimited, 7);
  });
});

/** One A query for v4only with ID `id`, over UDP. */
function exchangeQuery(port: number, id: number): Promise<Uint8Array | null> {
  const name = new TextEncoder().encode(`\x06v4only\x05dns64\x07example\x00`);
  const q = Uint8Array.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 1, 0, 1]);
  return exchange(port, q, "udp", 500);
}

rule("the message ID and the 0x20 letter case are echoed, also from the cache", {}, async (t, port) => {
  const first = await ask(port, "V4oNlY.DnS64.eXaMpLe", { transport: t, id: 1111 });
  const second = await ask(port, "v4ONLY.dns64.EXAMPLE", { transport: t, id: 2222 });
  eq([first.id, first.questions[0].name], [1111, "V4oNlY.DnS64.eXaMpLe"]);
  eq([second.id, second.questions[0].name], [2222, "v4ONLY.dns64.EXAMPLE"]);
  eq(dataOf(second.answers, "AAAA"), ["2001:db8:64::c000:201"]);
});

rule("EDNS0: OPT answered only when asked; other versions get BADVERS", {}, async (t, port) => {
  const plain = await ask(port, n("v4only"), { transport: t, edns: false });
  eq(plain.additionals.some((r: { type: string }) => r.type === "OPT"), false);
  const withOpt = await ask(port, n("v4only"), { transport: t });
  eq(withOpt.additionals.find((r: { type: string }) => r.type === "OPT").udpPayloadSize, 1232);
  const v1 = await ask(port, n("v4only"), { transport: t, edns: { version: 1 } });
  eq(v1.additionals.find((r: { type: string }) => r.type === "OPT").extendedRcode, 1);
});

rule("the cache answers repeats without asking upstream", {}, async (t, port, fake, server) => {
  await ask(port, n("v4only"), { transport: t });
  await ask(port, n("v4only"), { transport: t });
  eq(fake.seen.length, 2);
  eq([server.counters().cacheHits, server.counters().cacheMisses], [1, 1]);
});

Deno.test("a shared cache never serves a synthesis made under another prefix", async () => {
  const cache = new ResponseCache(100);
  const fake = await FakeUpstream.start();
  try {
    for (
      const [prefix, expected] of [[PREFIX, "2001:db8:64::c000:201"], ["2001:db8:65::/96", "2001:db8:65::c000:201"]]
    ) {
      const server = new Dns64Server({ listen: ["127.0.0.1:0"], upstream: [fake.address], prefix: [prefix] }, {
        cache,
      });
      await server.start();
      try {
        eq(dataOf((await ask(server.addresses()[0].port, n("v4only"))).answers, "AAAA"), [expected]);
      } finally {
        await server.stop();
      }
    }
  } finally {
    await fake.stop();
  }
});

rule("malformed queries get FORMERR or are dropped; the listener keeps answering", {}, async (t, port, _f, server) => {
  const garbage = Uint8Array.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 1, 2]);
  const formerr = await exchange(port, garbage, t);
  ok(formerr);
  eq([formerr[0], formerr[1], formerr[3] & 0xf], [0xab, 0xcd, 1]);
  eq(await exchange(port, Uint8Array.from([1, 2, 3]), t, 300), null);
  eq(dataOf((await ask(port, n("v4only"), { transport: t })).answers, "AAAA"), ["2001:db8:64::c000:201"]);
  eq(server.counters().malformed, 2);
});

Deno.test("upstream failover: a silent first upstream is skipped for the next one", async () => {
  const dead = await FakeUpstream.start();
  const live = await FakeUpstream.start();
  dead.override(n("v4only"), "AAAA", { silent: true });
  dead.override(n("v4only"), "A", { silent: true });
  dead.override(n("dual"), "AAAA", { silent: true });
  const server = new Dns64Server({
    listen: ["127.0.0.1:0"],
    upstream: [dead.address, live.address],
    prefix: [PREFIX],
    timeoutMs: 100,
  });
  await server.start();
  try {
    const port = server.addresses()[0].port;
    eq(dataOf((await ask(port, n("v4only"))).answers, "AAAA"), ["2001:db8:64::c000:201"]);
    // After a success the live upstream is asked first.
    eq(dataOf((await ask(port, n("dual"))).answers, "AAAA"), ["2001:db8:1::4"]);
    eq(dead.seen.length, 1);
    eq(server.counters().upstreamErrors, 1);
  } finally {
    await server.stop();
    await dead.stop();
    await live.stop();
  }
});

Deno.test("upstream failover: REFUSED moves on; every upstream failing is SERVFAIL in bounded time", async () => {
  const refusing = await FakeUpstream.start();
  const silent = await FakeUpstream.start();
  refusing.override(n("v4only"), "A", { rcode: "REFUSED" });
  silent.override(n("v4only"), "A", { silent: true });
  silent.override(n("dual"), "A", { silent: true });
  const server = new Dns64Server({
    listen: ["127.0.0.1:0"],
    upstream: [refusing.address, silent.address],
    timeoutMs: 100,
    retries: 1,
  });
  await server.start();
  try {
    const port = server.addresses()[0].port;
    const started = Date.now();
    eq(rcode(await ask(port, n("v4only"), { type: "A" })), "SERVFAIL");
    eq(silent.seenFor(n("v4only")).length, 2);
    eq(refusing.seenFor(n("v4only")).length, 1);
    ok(Date.now() - started < 2000);
  } finally {
    await server.stop();
    await refusing.stop();
    await silent.stop();
  }
});

Deno.test("counters are readable and count what happened", async () => {
  await withListener({}, async (port, _fake, server) => {
    await ask(port, n("v4only"));
    await ask(port, n("v4only"));
    await ask(port, n("mapped"));
    const c = server.counters();
    eq([c.queries, c.synthesized, c.excluded, c.cacheHits, c.cacheMisses], [3, 2, 1, 1, 2]);
  });
});

Deno.test("listeners bind IPv6 too", async () => {
  const fake = await FakeUpstream.start();
  const server = new Dns64Server({ listen: ["[::1]:0"], upstream: [fake.address], prefix: [PREFIX] });
  await server.start();
  try {
    const port = server.addresses()[0].port;
    const conn = await Deno.connect({ hostname: "::1", port });
    conn.close();
    eq(server.addresses()[0].host, "::1");
  } finally {
    await server.stop();
    await fake.stop();
  }
});

Deno.test("udp-batch, exclusive (waits for datagrams on its own thread): answers, coalesces and batches", async () => {
  const fake = await FakeUpstream.start();
  const server = new Dns64Server(
    { listen: ["127.0.0.1:0"], upstream: [fake.address], prefix: [PREFIX], timeoutMs: 200, retries: 0, udpBatch: true },
    { exclusive: true },
  );
  await server.start();
  try {
    const port = server.addresses()[0].port;
    const first = await ask(port, "V4only.dns64.example", { id: 7 });
    eq([first.id, first.questions[0].name, dataOf(first.answers, "AAAA")], [7, "V4only.dns64.example", [
      "2001:db8:64::c000:201",
    ]]);
    const again = await ask(port, n("v4only"), { id: 8 });
    eq([again.id, dataOf(again.answers, "AAAA")], [8, ["2001:db8:64::c000:201"]]);
    eq((await ask(port, n("many"), { edns: false })).flag_tc, true);
    const formerr = await exchange(port, Uint8Array.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 1, 2]), "udp");
    eq(formerr && formerr[3] & 0xf, 1);
    // More misses at once than a batch holds: one upstream exchange, every client answered with its own ID.
    const burst = await Promise.all(Array.from({ length: 150 }, (_, i) => ask(port, n("dual"), { id: 100 + i })));
    eq(burst.map((a) => [a.id, dataOf(a.answers, "AAAA")[0]]), burst.map((_, i) => [100 + i, "2001:db8:1::4"]));
    eq(fake.seenFor(n("dual"), "AAAA").length, 1);
    // Then as many hits at once.
    const hits = await Promise.all(Array.from({ length: 150 }, (_, i) => ask(port, n("dual"), { id: 300 + i })));
    eq(hits.map((a) => a.id), hits.map((_, i) => 300 + i));
    fake.override(n("shortttl"), "AAAA", { silent: true });
    eq(rcode(await ask(port, n("shortttl"))), "SERVFAIL");
    eq(server.counters().cacheHits >= 151, true);
  } finally {
    await server.stop();
    await fake.stop();
  }
});

Deno.test("udp-batch: an upstream reply longer than the receive slot is asked again over TCP", async () => {
  await withListener({ udpBatch: true }, async (port, fake) => {
    fake.override(n("v4only"), "A", { oversizeUdp: true });
    eq(dataOf((await ask(port, n("v4only"))).answers, "AAAA"), ["2001:db8:64::c000:201"]);
    eq(fake.seenFor(n("v4only"), "A").map((q) => q.transport), ["udp", "tcp"]);
  });
});

Deno.test("a stopped batch listener releases its port at once, also while it waits for queries", async () => {
  for (const exclusive of [false, true]) {
    const fake = await FakeUpstream.start();
    const server = new Dns64Server({ listen: ["127.0.0.1:0"], upstream: [fake.address], udpBatch: true }, {
      exclusive,
    });
    await server.start();
    const port = server.addresses()[0].port;
    await ask(port, n("v4only"), { type: "A" });
    const started = performance.now();
    await server.stop();
    ok(performance.now() - started < 500);
    const again = new Dns64Server({ listen: [`127.0.0.1:${port}`], upstream: [fake.address], udpBatch: true });
    await again.start();
    await again.stop();
    await fake.stop();
  }
});
