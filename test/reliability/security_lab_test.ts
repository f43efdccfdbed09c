/**
 * Security defaults of the running gateway in the lab (issue 8). The DNS64 listener
 * answers only the networks it serves (by default this host's IPv6 networks and
 * loopback, never the IPv4 side, not even through the translator), or exactly the
 * configured `allow-client` networks. No command-line or config value reaches a shell:
 * every process the gateway starts is `ip` with the value as one argument (traced with
 * strace), and the source starts no other program. The translator should not let clients
 * reach the gateway's own addresses: ignored, with the missing behaviour named, until it
 * does. Lab tests skip with the reason printed when not root, without /dev/net/tun, nsd,
 * dig or strace.
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { CLIENT6, GW4_AS6, GW6, GW6_AS4, SERVER4, SERVER6, SIIT } from "../e2e/addresses.ts";
import { type Lab, labSkipReason, MAIN, ROOT, type Service, withGateway } from "../e2e/harness.ts";
import { startNsd, WWW } from "../e2e/nsd.ts";
import { pingCount } from "../e2e/parse.ts";
import { ping } from "../e2e/scenarios.ts";
import { missingBinary } from "../dns64/daemons.ts";
import { gatewayPid, grew, readCounters } from "./counters.ts";
import { addClientAddresses, clientAddresses } from "./flood.ts";
import { exitedWithin, withLab } from "./lifecycle.ts";

const labReason = labSkipReason();
if (labReason) console.log(`skipping the lab security tests: ${labReason}`);
const missingDns = missingBinary("nsd", "dig");
const dnsReason = labReason ??
  (missingDns ? `${missingDns} is not installed (scripts/setup --test installs it)` : null);
if (dnsReason && !labReason) console.log(`skipping the DNS64 client tests: ${dnsReason}`);
const missingStrace = missingBinary("strace");
const traceReason = labReason ?? (missingStrace ? "strace is not installed (apt-get install strace)" : null);
if (traceReason && !labReason) console.log(`skipping the traced no-shell test: ${traceReason}`);

/** dig's status line for an AAAA query from `side` (bound to `from` when given); "no answer" when none came. */
async function dnsStatus(lab: Lab, side: "client" | "server", server: string, from?: string): Promise<string> {
  const bind = from ? ["-b", from] : [];
  const out = await lab.exec(side, ["dig", "+tries=1", "+timeout=2", ...bind, `@${server}`, WWW, "AAAA"], 15_000);
  return /status: (\w+)/.exec(out.stdout)?.[1] ?? "no answer";
}

/** Runs `body` with nsd serving the lab zone on the server; always stops it. */
async function withNsd(lab: Lab, body: () => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nat64-nsd-" });
  let nsd: Service | undefined;
  try {
    nsd = await startNsd(lab, dir);
    await body();
  } finally {
    await nsd?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "security, DNS64: by default only the served IPv6 network is answered; the IPv4 side is refused, also via the translator",
  ignore: dnsReason !== null,
  fn: () =>
    withGateway("sec-dns", SIIT, (lab, gw) =>
      withNsd(lab, async () => {
        const before = await readCounters(gw.socket);
        eq(await dnsStatus(lab, "client", GW6), "NOERROR", "the served network");
        eq(await dnsStatus(lab, "server", "198.51.100.1"), "REFUSED", "the IPv4 server on the gw's own IPv4 listener");
        // 192.0.2.1 is the gw's 2001:db8:1::1 through the EAMT: the query arrives from pool6, which is not served.
        const via = await dnsStatus(lab, "server", GW6_AS4);
        ok(via === "REFUSED" || via === "no answer", `the IPv4 side through the translator got ${via}`);
        const after = await readCounters(gw.socket);
        ok(grew(before, after, "dns64_refused") >= 1 + (via === "REFUSED" ? 1 : 0), "the refusals were not counted");
      }), () => ["--dns64-listen", `[${GW6}]:53`, "--dns64-listen", "198.51.100.1:53", "--dns64-upstream", SERVER4]),
});

Deno.test({
  name: "security, DNS64: with allow-client, a neighbour outside the configured network is refused",
  ignore: dnsReason !== null,
  fn: () =>
    withGateway("sec-allow", SIIT, (lab) =>
      withNsd(lab, async () => {
        const [neighbour] = clientAddresses(3, 1);
        await addClientAddresses(lab, [neighbour]);
        eq(await dnsStatus(lab, "client", GW6, CLIENT6), "NOERROR", `${CLIENT6} is allowed`);
        eq(await dnsStatus(lab, "client", GW6, neighbour), "REFUSED", `${neighbour} is not`);
      }), () => [
      "--dns64-listen",
      `[${GW6}]:53`,
      "--dns64-upstream",
      SERVER4,
      "--dns64-allow-client",
      `${CLIENT6}/128`,
    ]),
});

Deno.test({
  name: "security, translator: clients cannot reach the gateway's own addresses through it",
  fn: () =>
    withGateway("sec-own", SIIT, async (lab) => {
      eq(pingCount(await ping(lab, "client", GW4_AS6)).received, 0, `${GW4_AS6} (the gw's IPv4) answered`);
      eq(pingCount(await ping(lab, "server", GW6_AS4)).received, 0, `${GW6_AS4} (the gw's IPv6) answered`);
      eq(pingCount(await ping(lab, "client", SERVER6)).received, 3, "the server itself stays reachable");
    }),
});

/** A TUN name full of shell syntax: any shell that saw it would run `id`. Linux allows it (no "/", ":" or blanks). */
const SHELLY_TUN = "n;$(id)`id`";

/** The programs a trace shows being executed, as [path, argv text]. */
function executed(trace: string): [string, string][] {
  return [...trace.matchAll(/execve\("([^"]+)", \[([^\]]*)\]/g)].map((m) => [m[1], m[2]]);
}

Deno.test({
  name: "security: a value full of shell syntax reaches `ip` as one argument; the gateway executes nothing else",
  ignore: traceReason !== null,
  fn: () =>
    withLab("sec-shell", async (lab, dir) => {
      const trace = `${dir}/execve.trace`;
      const socket = `${dir}/control.sock`;
      const gw = lab.spawn("gw", [
        "strace",
        "-f",
        "-qq",
        "-s",
        "256",
        "-e",
        "trace=execve",
        "-o",
        trace,
        Deno.execPath(),
        "run",
        "--allow-all",
        MAIN,
        "run",
        "--tun",
        SHELLY_TUN,
        "--control-socket",
        socket,
        ...SIIT.flags,
      ]);
      try {
        await gw.waitFor(/gateway running/, 30_000);
        const links = await lab.ip("gw", ["-o", "link", "show"]);
        ok(links.includes(`: ${SHELLY_TUN}:`), `no TUN named ${SHELLY_TUN} in:\n${links}`);
        eq(pingCount(await ping(lab, "client", SERVER6)).received, 3, "the gateway did not translate");
        // Stop the traced gateway itself: strace on SIGTERM would detach and leave it running.
        const pid = await gatewayPid(socket);
        Deno.kill(pid, "SIGTERM");
        ok(await exitedWithin(pid, 10_000), "the gateway did not stop on SIGTERM");
      } finally {
        await gw.stop();
      }
      const programs = executed(await Deno.readTextFile(trace));
      const names = [...new Set(programs.map(([path]) => path.split("/").pop()!))];
      console.log(`executed: ${names.join(", ")} (${programs.length} execve calls)`);
      eq(names.filter((n) => n !== "deno" && n !== "ip"), [], "the gateway executed something besides ip");
      ok(
        programs.some(([path, argv]) => path.endsWith("/ip") && argv.includes(`"${SHELLY_TUN}"`)),
        `no ip call carried ${SHELLY_TUN} as one argument`,
      );
    }),
});

/** Every TypeScript file under `dir`. */
async function* sources(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* sources(path);
    else if (e.name.endsWith(".ts")) yield path;
  }
}

Deno.test("security: the gateway's source starts no program but `ip`, and never through a shell", async () => {
  const starts: string[] = [];
  for await (const file of sources(`${ROOT}src`)) {
    const text = await Deno.readTextFile(file);
    const rel = file.slice(ROOT.length);
    ok(!/child_process|Deno\.run\(|shell:\s*true/.test(text), `${rel} starts processes another way`);
    for (const m of text.matchAll(/new Deno\.Command\(\s*([^,)]+)/g)) starts.push(`${rel}: ${m[1].trim()}`);
  }
  ok(starts.length > 0, "no Deno.Command found: the scan looks at the wrong files");
  eq(starts.filter((s) => !s.endsWith(': "ip"')), [], "a process other than ip, or one named by a variable");
});
