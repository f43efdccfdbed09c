/**
 * The gateway under deno.json's "gateway" permission set and nothing more, in a lab of
 * its own: as root it creates and sets up its TUN, translates, serves the control socket
 * and loopback metrics, re-reads its config on SIGHUP, and stops cleanly; as `nobody`,
 * with no capabilities, it attaches to a TUN root created for it (`--no-setup`) and
 * translates just the same. See private_run.ts for how the real /etc/nat64 and
 * /run/nat64 stay untouched.
 * Skipped, with the reason printed, when not root or without /dev/net/tun.
 */

import { deepStrictEqual as eq, match, ok } from "node:assert/strict";
import { CLIENT4_EAMT, SERVER6, SIIT } from "../e2e/addresses.ts";
import { Lab, labSkipReason, type Service } from "../e2e/harness.ts";
import { pingCount } from "../e2e/parse.ts";
import { ping } from "../e2e/scenarios.ts";
import { denoDirFor, makeMountPoints, NOBODY, privateStats, startPrivateGateway } from "./private_run.ts";

const reason = labSkipReason();
if (reason) console.log(`skipping the permission-restricted gateway runs: ${reason}`);
const ignore = reason !== null;

/** The lab's SIIT config as a file: the keys are the flag names. */
function siitConfig(extra: string): string {
  const lines: string[] = [];
  for (let i = 0; i < SIIT.flags.length; i += 2) {
    const key = SIIT.flags[i].slice(2);
    const value = SIIT.flags[i + 1];
    lines.push(key === "eamt" ? `${key} = ["${value}"]` : `${key} = "${value}"`);
  }
  return `tun = "nat64"\n${lines.join("\n")}\nmetrics-listen = "127.0.0.1:9464"\n${extra}`;
}

/** Runs `body` with a lab, scratch space and mount points; always cleans all three up. */
async function withLab(tag: string, body: (lab: Lab, scratch: string) => Promise<void>): Promise<void> {
  const scratch = await Deno.makeTempDir({ prefix: "nat64-perm-" });
  const removeMountPoints = await makeMountPoints();
  let lab: Lab | undefined;
  try {
    lab = await Lab.up(tag);
    await body(lab, scratch);
  } finally {
    await lab?.down();
    await removeMountPoints();
    await Deno.remove(scratch, { recursive: true });
  }
}

/** Waits for the running line; stops the gateway when `body` is done or fails; checks it stopped cleanly. */
async function whileRunning(gw: Service, body: () => Promise<void>): Promise<void> {
  try {
    await gw.waitFor(/gateway running/, 30_000);
    await body();
    eq(await gw.stop(), 0, gw.output);
    match(gw.output, /gateway stopped why=SIGTERM/);
  } finally {
    await gw.stop();
  }
}

/** Both sides reach each other through the gateway, and its counters say so. */
async function translates(lab: Lab, gw: Service): Promise<void> {
  eq(pingCount(await ping(lab, "client", SERVER6)), { transmitted: 3, received: 3 });
  eq(pingCount(await ping(lab, "server", CLIENT4_EAMT)), { transmitted: 3, received: 3 });
  const { counters } = await privateStats(gw);
  ok(counters.translated_6to4 >= 6 && counters.translated_4to6 >= 6, JSON.stringify(counters));
  const metrics = await lab.must("gw", ["curl", "-sS", "--max-time", "5", "http://127.0.0.1:9464/metrics"]);
  match(metrics, /^nat64_info\{version="[^"]+",mode="siit",tun="nat64"\} 1$/m);
}

Deno.test({
  name:
    "as root with exactly the gateway permission set: TUN set-up, translation, control socket, metrics, SIGHUP reload",
  ignore,
  fn: () =>
    withLab("perm-root", async (lab, scratch) => {
      const gw = await startPrivateGateway(lab, { config: siitConfig(""), scratch });
      await whileRunning(gw, async () => {
        await translates(lab, gw);
        Deno.kill(gw.pid, "SIGHUP");
        await gw.waitFor(/configuration reloaded/, 10_000);
      });
    }),
});

Deno.test({
  name:
    "as nobody, no capabilities, with the gateway permission set: attaches to a TUN root made for it and translates",
  ignore,
  fn: () =>
    withLab("perm-user", async (lab, scratch) => {
      // What root does beforehand (nat64-unprivileged.service's ExecStartPre= lines).
      await lab.ip("gw", ["tuntap", "add", "dev", "nat64", "mode", "tun", "user", String(NOBODY)]);
      await lab.ip("gw", ["link", "set", "dev", "nat64", "mtu", "1500", "up"]);
      await lab.ip("gw", ["-6", "route", "add", "2001:db8:64::/96", "dev", "nat64"]);
      await lab.ip("gw", ["-4", "route", "add", "192.0.2.0/24", "dev", "nat64"]);
      const denoDir = await denoDirFor(NOBODY, scratch);
      const gw = await startPrivateGateway(lab, {
        config: siitConfig("no-setup = true\n"),
        scratch,
        nobodyDenoDir: denoDir,
      });
      await whileRunning(gw, async () => {
        const status = await Deno.readTextFile(`/proc/${gw.pid}/status`);
        match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}$`, "m"));
        match(status, /^CapEff:\s+0+$/m);
        await translates(lab, gw);
      });
      // The device is root's, persistent: it outlives the gateway that attached to it.
      match(await lab.ip("gw", ["link", "show", "dev", "nat64"]), /nat64/);
    }),
});
