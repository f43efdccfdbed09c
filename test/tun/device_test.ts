/**
 * The TUN device against the kernel, each case in a network namespace of its own:
 * create and vanish, attach to a persistent device (also as an unprivileged owner),
 * busy, not a TUN, no permission, no /dev/net/tun, EAGAIN on an empty queue, and offloads.
 * Skipped, with the reason printed, when not root or without /dev/net/tun.
 */

import { deepStrictEqual as eq, match, ok } from "node:assert/strict";
import { GATEWAY_PERMISSIONS, ignoreUnlessTun, Netns } from "./netns.ts";
import { Errno } from "../../src/tun/libc.ts";

const ignore = ignoreUnlessTun("TUN device tests");

/** Runs the device_cases fixture inside a fresh namespace; `prefix` wraps the deno command. */
async function deviceCase(
  args: string[],
  setUp: (ns: Netns) => Promise<unknown> = async () => {},
  prefix: string[] = [],
): Promise<Record<string, unknown>> {
  const ns = await Netns.create("dev");
  try {
    await setUp(ns);
    // ethtool shows which offloads the kernel turned on.
    return await ns.runDenoJson("device_cases.ts", args, [...GATEWAY_PERMISSIONS, "--allow-run=ip,ethtool"], prefix);
  } finally {
    await ns.delete();
  }
}

/** Runs as user `nobody`; `dacOverride` lets it open /dev/net/tun whatever its mode. */
function asNobody(dacOverride: boolean): string[] {
  const caps = dacOverride ? ["--inh-caps=+dac_override", "--ambient-caps=+dac_override"] : [];
  return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...caps, "env", "HOME=/tmp"];
}

Deno.test({
  name: "opening a new name creates the device; closing the descriptor removes it",
  ignore,
  fn: async () => eq(await deviceCase(["open", "t0"]), { name: "t0", whileOpen: true, afterClose: false }),
});

Deno.test({
  name: "a %d in the name lets the kernel number the device, and the real name comes back",
  ignore,
  fn: async () => eq((await deviceCase(["open", "nat%d"])).name, "nat0"),
});

Deno.test({
  name: "a persistent device is attached to, and stays after close",
  ignore,
  fn: async () => {
    const result = await deviceCase(["open", "keep0"], (ns) => ns.ip(["tuntap", "add", "dev", "keep0", "mode", "tun"]));
    eq(result, { name: "keep0", whileOpen: true, afterClose: true });
  },
});

Deno.test({
  name: "a device another descriptor holds is busy",
  ignore,
  fn: async () => {
    const { error } = await deviceCase(["twice", "t0"]);
    eq(error, 'attach TUN "t0" (TUNSETIFF): EBUSY (device or resource busy): another process has "t0" open');
  },
});

Deno.test({
  name: "an existing interface that is not a TUN is refused",
  ignore,
  fn: async () => {
    const { error } = await deviceCase(["open", "lo"]);
    match(String(error), /^attach TUN "lo" \(TUNSETIFF\): EINVAL \(invalid argument\): "lo" exists and is not/);
  },
});

Deno.test({
  name: "a name longer than 15 bytes is refused before any system call",
  ignore,
  fn: async () => {
    const { error } = await deviceCase(["open", "sixteen-bytes-xx"]);
    eq(error, 'the TUN interface name "sixteen-bytes-xx" is 16 bytes long; Linux allows at most 15');
  },
});

Deno.test({
  name: "offloads turn TSO and checksum offload on, and a later open without them turns them off again",
  ignore,
  fn: async () => {
    const on = { "tx-tcp-segmentation": "on", "tx-tcp6-segmentation": "on", "tx-checksum-ip-generic": "on" };
    const off = { "tx-tcp-segmentation": "off", "tx-tcp6-segmentation": "off", "tx-checksum-ip-generic": "off" };
    const result = await deviceCase(
      ["offloads", "keep0"],
      (ns) => ns.ip(["tuntap", "add", "dev", "keep0", "mode", "tun"]),
    );
    const { withOffloads, without } = result as Record<string, { offloads: string[]; shown: Record<string, string> }>;
    ok(["csum", "tso4", "tso6"].every((o) => withOffloads.offloads.includes(o)), String(withOffloads.offloads));
    eq(withOffloads.shown, on);
    eq(without, { offloads: [], shown: off });
  },
});

Deno.test({
  name: "a non-blocking read of an empty device returns EAGAIN",
  ignore,
  fn: async () => eq(await deviceCase(["read-empty", "t0"]), { rc: -Errno.EAGAIN }),
});

Deno.test({
  name: "a missing /dev/net/tun is named, with the module to load",
  ignore,
  fn: async () => {
    // A private mount namespace hides /dev/net behind an empty tmpfs for this one child.
    const hide = [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'mount -t tmpfs none /dev/net && exec "$@"',
      "sh",
    ];
    const { error } = await deviceCase(["open", "t0"], undefined, hide);
    eq(error, "open /dev/net/tun: ENOENT (no such file): is the tun module loaded (modprobe tun)?");
  },
});

Deno.test({
  name: "an unprivileged user who may open /dev/net/tun cannot create a device (EPERM, with the fix)",
  ignore,
  fn: async () => {
    const { error } = await deviceCase(["open", "t0"], undefined, asNobody(true));
    match(
      String(error),
      /^attach TUN "t0" \(TUNSETIFF\): EPERM \(operation not permitted\): not root and no TUN "t0" owned by this user: create one with "ip tuntap add dev t0 mode tun user <user>"$/,
    );
  },
});

Deno.test({
  name: "an unprivileged user attaches to a persistent device it owns, not to one it does not",
  ignore,
  fn: async () => {
    const owned = await deviceCase(
      ["open", "gw0"],
      (ns) => ns.ip(["tuntap", "add", "dev", "gw0", "mode", "tun", "user", "65534"]),
      asNobody(true),
    );
    eq(owned, { name: "gw0", whileOpen: true, afterClose: true });
    const foreign = await deviceCase(
      ["open", "gw0"],
      (ns) => ns.ip(["tuntap", "add", "dev", "gw0", "mode", "tun", "user", "0"]),
      asNobody(true),
    );
    match(String(foreign.error), /EPERM/);
  },
});

Deno.test({
  name: "without access to /dev/net/tun the error says how to get it",
  ignore: ignore || (Deno.statSync("/dev/net/tun").mode! & 0o006) === 0o006,
  fn: async () => {
    const { error } = await deviceCase(["open", "t0"], undefined, asNobody(false));
    eq(
      error,
      "open /dev/net/tun: EACCES (permission denied): run as root, or give this user read and write access to /dev/net/tun (mode 0666 is the usual)",
    );
  },
});
