import { deepStrictEqual as eq, match, throws } from "node:assert/strict";
import { parseDns64Flags, runDns64Command } from "../../src/dns64/cli.ts";
import { resolveOptions } from "../../src/dns64/options.ts";
import { ask, dataOf } from "./client.ts";
import { freePort } from "./daemons.ts";
import { FakeUpstream, ZONE } from "./fake_upstream.ts";

const base = ["--listen", "[::1]:5353", "--upstream", "192.0.2.53"];

Deno.test("flags become options; repeatable flags collect", () => {
  const o = parseDns64Flags([
    ...base,
    "--listen",
    "127.0.0.1:5353",
    "--prefix",
    "2001:db8:64::/96",
    "--prefix",
    "2001:db8:100::/40=198.51.100.0/24",
    "--timeout-ms",
    "250",
    "--synthesize-on-servfail",
    "--exclude-a",
    "192.0.2.0/24",
    "--allow-client",
    "2001:db8::/32",
    "--rate-limit",
    "100",
    "--cache-size",
    "0",
    "--retries",
    "0",
    "--edns-udp-size",
    "1400",
    "--udp-batch",
  ]);
  if (o === "help") throw new Error("help");
  const c = resolveOptions(o);
  eq(c.listen.map((e) => [e.host, e.port]), [["::1", 5353], ["127.0.0.1", 5353]]);
  eq(c.upstream.map((e) => [e.host, e.port]), [["192.0.2.53", 53]]);
  eq([c.prefixes.length, c.prefixes[1].v4Range?.length, c.timeoutMs, c.synthesizeOnServfail], [2, 24, 250, true]);
  eq([c.rateLimit, c.cacheSize, c.retries, c.ednsUdpSize, c.excludeA.length, c.allowClient.length], [
    100,
    0,
    0,
    1400,
    1,
    1,
  ]);
  eq([c.udpBatch, resolveOptions({ listen: ["[::1]:53"], upstream: ["::1"] }).udpBatch], [true, "auto"]);
  eq(resolveOptions({ listen: ["[::1]:53"], upstream: ["::1"], udpBatch: false }).udpBatch, false);
  // Default AAAA exclusions: ::ffff:0:0/96 and both prefixes.
  eq(c.excludeAaaa.length, 3);
});

Deno.test("each bad flag is named in a one-line error", () => {
  const cases: [string[], RegExp][] = [
    [["--listen", "[::1]"], /^listen: .*needs a port/],
    [["--upstream", "dns.example"], /^upstream: /],
    [["--prefix", "2001:db8::/33"], /^prefix: .*RFC 6052/],
    [["--prefix", "2001:db8:0:0:100::/96"], /^prefix: .*u-octet/],
    [["--prefix", "2001:db8::/96=198.51.100.0/33"], /^prefix: /],
    [["--timeout-ms", "soon"], /^--timeout-ms: /],
    [["--retries", "11"], /^retries: /],
    [["--exclude-aaaa", "192.0.2.0/24"], /^exclude-aaaa: /],
    [["--exclude-a", "::/0"], /^exclude-a: /],
    [["--allow-client", "everyone"], /^allow-client: /],
    [["--rate-limit", "-1"], /'--rate-limit/],
    [["--rate-limit", "1.5"], /^--rate-limit: /],
    [["--cache-size", "1e3"], /^--cache-size: /],
    [["--edns-udp-size", "100"], /^edns-udp-size: /],
  ];
  for (const [flags, pattern] of cases) {
    throws(() => {
      const o = parseDns64Flags([...base, ...flags]);
      if (o !== "help") resolveOptions(o);
    }, (e: Error) => pattern.test(e.message) && !e.message.includes("\n"));
  }
  throws(() => resolveOptions({ listen: [], upstream: ["192.0.2.53"] }), /listen: at least one/);
  throws(() => resolveOptions({ listen: ["[::1]:53"], upstream: [] }), /upstream: at least one/);
});

Deno.test("runDns64Command exits 2 on bad flags, 0 for --help", async () => {
  const quiet = console.error;
  const quietLog = console.log;
  console.error = () => {};
  console.log = () => {};
  try {
    eq(await runDns64Command([...base, "--bogus"]), 2);
    eq(await runDns64Command([...base, "stray"]), 2);
    eq(await runDns64Command([...base, "--prefix", "nope"]), 2);
    eq(await runDns64Command(["--help"]), 0);
  } finally {
    console.error = quiet;
    console.log = quietLog;
  }
});

Deno.test("runDns64Command exits 1 when the listen address cannot be bound", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  const quiet = console.error;
  const lines: string[] = [];
  console.error = (line: string) => lines.push(line);
  try {
    eq(await runDns64Command(["--listen", `127.0.0.1:${port}`, "--upstream", "127.0.0.1"]), 1);
    eq(lines.length === 1 && lines[0].includes(`127.0.0.1:${port}`), true);
  } finally {
    console.error = quiet;
    holder.close();
  }
});

/** `nat64 dns64` run as deno.json's "dns64" permission set has it: the network and nothing else. */
function sandboxed(args: string[]): Deno.ChildProcess {
  const root = new URL("../../", import.meta.url);
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      new URL("deno.json", root).pathname,
      "-P=dns64",
      new URL("src/main.ts", root).pathname,
      "dns64",
      ...args,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

Deno.test("with the network permission only, UDP falls back to node:dgram with one line saying why", async () => {
  const fake = await FakeUpstream.start();
  const port = await freePort();
  const child = sandboxed([
    "--listen",
    `127.0.0.1:${port}`,
    "--upstream",
    fake.address,
    "--prefix",
    "2001:db8:64::/96",
  ]);
  const stderr = new Response(child.stderr).text();
  try {
    let answer = null;
    for (let i = 0; i < 100 && !answer; i++) {
      answer = await ask(port, `v4only.${ZONE}`, { timeoutMs: 200 }).catch(() => null);
    }
    eq(dataOf(answer?.answers ?? [], "AAAA"), ["2001:db8:64::c000:201"]);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await fake.stop();
  }
  const lines = (await stderr).trim().split("\n").filter((l) => l.includes("udp-batch"));
  eq(lines.length, 1);
  match(lines[0], /^nat64 dns64: udp-batch is off: FFI to \S+ is not permitted \(--allow-ffi=\S+\)/);
});

Deno.test("udp-batch asked for without the FFI permission: exit 1 and one line naming --allow-ffi", async () => {
  const port = await freePort();
  const child = sandboxed(["--listen", `127.0.0.1:${port}`, "--upstream", "127.0.0.1", "--udp-batch"]);
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  eq(status.code, 1);
  // Deno's own warning about permission sets in deno.json may come first.
  const ours = stderr.trim().split("\n").filter((l) => l.startsWith("nat64 dns64:"));
  eq(ours.length, 1);
  match(ours[0], /needs --allow-ffi=/);
});
