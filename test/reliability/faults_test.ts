/**
 * Faults under a running gateway (issue 8): the upstream resolver silent, slow or gone
 * (the DNS64 listener answers SERVFAIL within its configured time and recovers when the
 * resolver does), the TUN device deleted under it (one clear sentence and a clean exit;
 * a restart re-creates it), a config reload with a broken file (the running config
 * stays, the error names file and key), and SIGKILL (a restart comes up over the stale
 * control socket; in NAT64 mode the sessions saved at the last periodic checkpoint come
 * back). Skipped with the reason printed when not root or without /dev/net/tun; the DNS
 * test without nsd or dig; the NAT64 test while NAT64 mode cannot start.
 */

import { deepStrictEqual as eq, match, ok } from "node:assert/strict";
import { CLIENT6, GW6, NAT64, SERVER4, SERVER6, SIIT } from "../e2e/addresses.ts";
import { Gateway, type Lab, labSkipReason, withGateway } from "../e2e/harness.ts";
import { nat64ModeSkipReason } from "../e2e/nat64_probe.ts";
import { startNsd, WWW } from "../e2e/nsd.ts";
import { clientPingsServer, connectionSurvivesRestart } from "../e2e/scenarios.ts";
import { missingBinary } from "../dns64/daemons.ts";
import { ControlClient } from "../../src/control/client.ts";
import { gatewayPid, grew, readCounters } from "./counters.ts";
import { flood, floodSkipReason } from "./flood.ts";
import { exitedWithin, reloadWith, withLab } from "./lifecycle.ts";

const labReason = labSkipReason();
if (labReason) console.log(`skipping the fault tests: ${labReason}`);
const floodReason = labReason ?? floodSkipReason();
if (floodReason && !labReason) console.log(`skipping the reload and upstream fault tests: ${floodReason}`);
const missing = missingBinary("nsd", "dig");
const dnsReason = floodReason ?? (missing ? `${missing} is not installed (scripts/setup --test installs it)` : null);
if (dnsReason && !floodReason) console.log(`skipping the upstream fault test: ${dnsReason}`);
const nat64Reason = labReason ?? await nat64ModeSkipReason();
if (nat64Reason && !labReason) console.log(`skipping the NAT64 SIGKILL test: ${nat64Reason}`);

/** The proxy the DNS64 listener uses as its upstream, in front of nsd on SERVER4. */
const PROXY4 = "198.51.100.3";
const PROXY = new URL("./fixtures/upstream_proxy.py", import.meta.url).pathname;
const TIMEOUT_MS = 400;
const RETRIES = 1;
/** One upstream, tried 1 + RETRIES times, each for TIMEOUT_MS: then SERVFAIL (RFC 6147 §5.1.2 without synthesis). */
const BUDGET_MS = TIMEOUT_MS * (1 + RETRIES);
/** What the client's own tools add around that budget on a loaded machine. */
const SLACK_MS = 600;

/** A name of the lab zone with only an A record, like WWW, asked only once the faults begin. */
const NS = "ns.lab.example";
/** A name the lab zone does not have: the upstream answers NXDOMAIN. */
const ABSENT = "absent.lab.example";

/** One dig answer: its status, the address records, and how long it took. */
interface Answer {
  status: string;
  records: string[];
  ms: number;
}

async function ask(lab: Lab, name: string): Promise<Answer> {
  const out = await lab.must("client", ["dig", "+tries=1", "+timeout=5", `@${GW6}`, name, "AAAA"], 15_000);
  const status = /status: (\w+)/.exec(out)?.[1];
  const ms = /Query time: (\d+) msec/.exec(out)?.[1];
  if (!status || !ms) throw new Error(`dig printed no status or query time:\n${out}`);
  const records = out.split("\n").filter((l) => /\sIN\s+AAAA\s/.test(l) && !l.startsWith(";")).map((l) =>
    l.trim().split(/\s+/).pop()!
  );
  return { status, records, ms: Number(ms) };
}

Deno.test({
  name: "fault: upstream silent, slow, then gone: SERVFAIL within the configured time, answers again when it returns",
  ignore: dnsReason !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "nat64-upstream-" });
    try {
      await withGateway("upstream", SIIT, async (lab, gw) => {
        await lab.ip("server", ["address", "add", `${PROXY4}/24`, "dev", "to-gw"]);
        const nsd = await startNsd(lab, dir);
        const spawnProxy = async () => {
          const p = lab.spawn("server", ["/usr/bin/python3", PROXY, "--listen", PROXY4, "--upstream", SERVER4], {
            stdin: true,
          });
          await p.waitFor(/^ready$/, 10_000);
          return p;
        };
        let proxy = await spawnProxy();
        const mode = async (command: string) => {
          const from = proxy.lines.length;
          await proxy.writeLine(command);
          await proxy.waitFor(new RegExp(`^mode ${command}$`), 5_000, from);
        };
        try {
          const before = await readCounters(gw.socket);
          eq((await ask(lab, WWW)).records, [SERVER6], "the path works before any fault");

          const report: string[] = [];
          const failsInTime = async (what: string, name: string) => {
            const a = await ask(lab, name);
            report.push(`${what}: ${a.status} in ${a.ms} ms`);
            eq(a.status, "SERVFAIL", `${what}: ${name}`);
            ok(a.ms <= BUDGET_MS + SLACK_MS, `${what}: SERVFAIL took ${a.ms} ms, the budget is ${BUDGET_MS} ms`);
          };
          await mode("silent");
          await failsInTime("upstream silent", NS);
          await mode("delay 1500");
          await failsInTime("upstream slower than the timeout", NS);
          await mode("delay 150");
          const slowButInTime = await ask(lab, NS);
          report.push(`upstream 150 ms slow: ${slowButInTime.status} in ${slowButInTime.ms} ms`);
          eq(slowButInTime.records, [SERVER6], "a slow upstream within the timeout still answers");
          await mode("pass");

          await proxy.stop();
          await failsInTime("upstream gone (port unreachable)", ABSENT);
          proxy = await spawnProxy();
          const back = await ask(lab, ABSENT);
          report.push(`upstream back: ${back.status} in ${back.ms} ms`);
          eq(back.status, "NXDOMAIN", "the upstream's own answer comes through again");

          const after = await readCounters(gw.socket);
          console.log(report.join("; "));
          ok(grew(before, after, "dns64_servfail") >= 3, "the SERVFAIL answers were not counted");
          ok(grew(before, after, "dns64_upstream_errors") >= 3, "the failed upstream attempts were not counted");
        } finally {
          await proxy.stop();
          await nsd.stop();
        }
      }, () => [
        "--dns64-listen",
        `[${GW6}]:53`,
        "--dns64-upstream",
        PROXY4,
        "--dns64-timeout-ms",
        String(TIMEOUT_MS),
        "--dns64-retries",
        String(RETRIES),
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "fault: the TUN deleted under the gateway: it exits 1 with one sentence naming it; a restart re-creates it",
  ignore: labReason !== null,
  fn: () =>
    withLab("tun-gone", async (lab, dir) => {
      const gw = await Gateway.start(lab, [...SIIT.flags], dir);
      const pid = await gatewayPid(gw.socket);
      await lab.ip("gw", ["link", "delete", "nat64"]);
      const gone = await exitedWithin(pid, 5_000);
      const code = await gw.stop();
      ok(gone, `the gateway still ran 5 s after its TUN was deleted:\n${gw.log}`);
      eq(code, 1, `exit code ${code}`);
      match(gw.log, /gateway stopped why="TUN \\"nat64\\" went away \(read: \w+/);
      ok(!/Uncaught|at file:|stack/i.test(gw.log), `a stack trace instead of a sentence:\n${gw.log}`);
      ok(!(await exists(gw.socket)), "the control socket was left behind");

      const again = await Gateway.start(lab, [...SIIT.flags], dir);
      try {
        await clientPingsServer(lab, again);
      } finally {
        eq(await again.stop(), 0, again.log);
      }
    }),
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The lab's SIIT keys as a config file, with one key that the reload changes. */
function siitConfig(errorsPerSecond: number): string {
  return `pool6 = "2001:db8:64::/96"
eamt = ["2001:db8:1::/120=192.0.2.0/24"]
ipv4 = "203.0.113.1"
ipv6 = "2001:db8:ff::1"
icmp-errors-per-second = ${errorsPerSecond}
`;
}

async function configInForce(socket: string): Promise<Record<string, unknown>> {
  const client = await ControlClient.connect(socket, 10_000);
  try {
    return await client.request({ op: "config" }) as Record<string, unknown>;
  } finally {
    client.close();
  }
}

/**
 * Time Exceeded errors the translator sends for a short burst of packets whose hop limit
 * runs out in it: the icmp-errors-per-second in force, seen from outside.
 */
async function errorsForBurst(lab: Lab, socket: string): Promise<{ sent: number; errors: number }> {
  const before = await readCounters(socket);
  const sent = await flood(lab, "client", "expiring", { src: [CLIENT6], dst: SERVER6, rate: 300, seconds: 0.5 });
  const after = await readCounters(socket);
  return { sent: sent.sent, errors: grew(before, after, "icmp6_errors_sent") };
}


Deno.test({
  name: "fault: SIGHUP with a broken config file keeps the running config and logs which file, line and key",
  ignore: floodReason !== null,
  fn: () =>
    withLab("reload", async (lab, dir) => {
      const file = `${dir}/gateway.toml`;
      await Deno.writeTextFile(file, siitConfig(1000));
      const gw = await Gateway.start(lab, ["--config", file], dir);
      try {
        await clientPingsServer(lab, gw);
        const syntax = await reloadWith(gw, file, `pool6 = "2001:db8:64::/96\n`);
        match(syntax, /reload refused.*gateway\.toml line 1/);
        const value = await reloadWith(gw, file, siitConfig(7).replace("/120=", "/129="));
        match(value, /reload refused.*gateway\.toml line 2: eamt/);
        const unknown = await reloadWith(gw, file, siitConfig(7) + "pool-six = 1\n");
        match(unknown, /reload refused.*gateway\.toml line 6: pool-six: unknown key/);
        console.log(`reload refusals logged:\n  ${syntax}\n  ${value}\n  ${unknown}`);

        // Still translating, and still with 1000 errors a second, not the 7 of the refused files.
        await clientPingsServer(lab, gw);
        const old = await errorsForBurst(lab, gw.socket);
        ok(old.errors >= old.sent / 2, `${old.errors} errors for ${old.sent} packets: not the old limit of 1000/s`);

        match(await reloadWith(gw, file, siitConfig(7)), /configuration reloaded/);
        const fixed = await errorsForBurst(lab, gw.socket);
        console.log(`Time Exceeded for ${old.sent} expiring packets: ${old.errors} at 1000/s, ${fixed.errors} at 7/s`);
        ok(fixed.errors <= 7 + 7, `${fixed.errors} errors in half a second: the reloaded limit of 7/s is not in force`);
        await clientPingsServer(lab, gw);
      } finally {
        eq(await gw.stop(), 0, gw.log);
      }
    }),
});

Deno.test({
  name: "fault: after a SIGHUP reload the control socket shows the reloaded config",
  fn: () =>
    withLab("reload-view", async (lab, dir) => {
      const file = `${dir}/gateway.toml`;
      await Deno.writeTextFile(file, siitConfig(1000));
      const gw = await Gateway.start(lab, ["--config", file], dir);
      try {
        eq((await configInForce(gw.socket))["icmp-errors-per-second"], "1000");
        match(await reloadWith(gw, file, siitConfig(7)), /configuration reloaded/);
        eq((await configInForce(gw.socket))["icmp-errors-per-second"], "7", "the control socket shows the old config");
      } finally {
        eq(await gw.stop(), 0, gw.log);
      }
    }),
});

Deno.test({
  name: "fault: SIGKILL, SIIT: a restart comes up over the stale control socket and translates again",
  ignore: labReason !== null,
  fn: () =>
    withLab("kill-siit", async (lab, dir) => {
      const gw = await Gateway.start(lab, [...SIIT.flags], dir);
      await clientPingsServer(lab, gw);
      const pid = await gatewayPid(gw.socket);
      Deno.kill(pid, "SIGKILL");
      ok(await exitedWithin(pid, 5_000), "the gateway outlived SIGKILL");
      await gw.stop();
      ok(await exists(gw.socket), "SIGKILL left no socket behind: the stale-socket case was not exercised");
      const again = await Gateway.start(lab, [...SIIT.flags], dir);
      try {
        await clientPingsServer(lab, again);
      } finally {
        eq(await again.stop(), 0, again.log);
      }
    }),
});

/** Seconds between checkpoints in the NAT64 SIGKILL test. */
const CHECKPOINT_S = 1;

/** Waits until `file` is written after `since` (ms since the epoch); fails naming it after `timeoutMs`. */
async function writtenAfter(file: string, since: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mtime = await Deno.stat(file).then((s) => s.mtime?.getTime() ?? 0, () => 0);
    if (mtime > since) return;
    if (Date.now() > deadline) throw new Error(`${file} was not checkpointed within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test({
  name: "fault: SIGKILL, NAT64: the sessions of the last periodic checkpoint come back and a TCP connection goes on",
  ignore: nat64Reason !== null,
  fn: () =>
    withLab("kill-nat64", async (lab, dir) => {
      const state = `${dir}/state`;
      const flags = [...NAT64.flags, "--state-file", state, "--checkpoint-interval", String(CHECKPOINT_S)];
      let gw = await Gateway.start(lab, flags, dir);
      try {
        await connectionSurvivesRestart(lab, async () => {
          // Periodic, not only on SIGTERM: two checkpoints after the connection began.
          await writtenAfter(state, Date.now(), 3_000 * CHECKPOINT_S);
          await writtenAfter(state, Date.now(), 3_000 * CHECKPOINT_S);
          const pid = await gatewayPid(gw.socket);
          Deno.kill(pid, "SIGKILL");
          ok(await exitedWithin(pid, 5_000), "the gateway outlived SIGKILL");
          await gw.stop();
          gw = await Gateway.start(lab, flags, dir);
          const tcp = await gw.sessions("tcp");
          ok(tcp.total >= 1, `no TCP session restored from ${state}`);
          return gw;
        });
      } finally {
        eq(await gw.stop(), 0, gw.log);
      }
    }),
});
