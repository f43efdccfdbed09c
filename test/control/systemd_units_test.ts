/**
 * The example systemd units (scripts/systemd): `systemd-analyze verify` accepts them
 * without a single warning, and their capabilities are the narrowest that work.
 * Skipped where systemd-analyze is not installed.
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";

const UNITS = new URL("../../scripts/systemd/", import.meta.url).pathname;
const BINARY = "/usr/local/bin/nat64";

function analyzer(): string | null {
  for (const path of ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]) {
    try {
      Deno.statSync(path);
      return path;
    } catch {
      // Not here; try the next place.
    }
  }
  return null;
}

const SYSTEMD_ANALYZE = analyzer();
if (!SYSTEMD_ANALYZE) console.log("skipping systemd unit verification: systemd-analyze is not installed");

/** `key=value` lines of a unit, by key (repeated keys in order). */
function directives(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) map.set(m[1], [...(map.get(m[1]) ?? []), m[2]]);
  }
  return map;
}

Deno.test({
  name: "systemd-analyze verify accepts both units without any warning",
  ignore: !SYSTEMD_ANALYZE,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      // verify insists that ExecStart= names an executable; the built binary need not be installed here.
      const stub = `${dir}/nat64`;
      await Deno.writeTextFile(stub, "#!/bin/sh\n");
      await Deno.chmod(stub, 0o755);
      const names: string[] = [];
      for (const entry of Deno.readDirSync(UNITS)) {
        if (!entry.name.endsWith(".service")) continue;
        const text = await Deno.readTextFile(`${UNITS}${entry.name}`);
        await Deno.writeTextFile(`${dir}/${entry.name}`, text.replaceAll(BINARY, stub));
        names.push(`${dir}/${entry.name}`);
      }
      eq(names.length, 2);
      const out = await new Deno.Command(SYSTEMD_ANALYZE!, {
        args: ["verify", ...names],
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      eq(out.code, 0, said);
      eq(said, "", "no warnings (unknown keys and bad values are only warnings)");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("nat64.service: CAP_NET_ADMIN (+ CAP_NET_RAW for PREF64) and nothing else, hardened", async () => {
  const d = directives(await Deno.readTextFile(`${UNITS}nat64.service`));
  eq(d.get("AmbientCapabilities"), ["CAP_NET_ADMIN CAP_NET_RAW"]);
  eq(d.get("CapabilityBoundingSet"), ["CAP_NET_ADMIN CAP_NET_RAW"]);
  eq(d.get("User"), ["nat64"]);
  eq(d.get("ExecStart"), [`${BINARY} run --config /etc/nat64/nat64.toml`]);
  for (const [k, v] of [["NoNewPrivileges", "yes"], ["ProtectSystem", "strict"], ["DevicePolicy", "closed"]]) {
    eq(d.get(k), [v], k);
  }
  eq(d.get("DeviceAllow"), ["/dev/net/tun rw"]);
  eq(d.get("RuntimeDirectory"), ["nat64"], "the control socket's directory, /run/nat64");
});

Deno.test("nat64-unprivileged.service: no capabilities; root creates the TUN in ExecStartPre=+", async () => {
  const d = directives(await Deno.readTextFile(`${UNITS}nat64-unprivileged.service`));
  eq(d.get("AmbientCapabilities"), [""]);
  eq(d.get("CapabilityBoundingSet"), [""]);
  eq(d.get("User"), ["nat64"]);
  ok(d.get("ExecStart")![0].endsWith("--tun nat64 --no-setup"));
  const pre = d.get("ExecStartPre")!;
  ok(pre.every((line) => /^\+-?\/usr\/sbin\/ip /.test(line)), "set-up commands run privileged, only ip");
  ok(pre[0].includes("tuntap add dev nat64 mode tun user nat64"));
  eq(d.get("NoNewPrivileges"), ["yes"]);
  eq(d.get("ProtectSystem"), ["strict"]);
  ok(!d.get("RestrictAddressFamilies")![0].includes("AF_NETLINK"), "no netlink: it configures nothing");
});
