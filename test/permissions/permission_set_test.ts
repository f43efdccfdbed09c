/**
 * deno.json's "gateway" permission set (`deno run -P=gateway`): every permission in it
 * is scoped to what the gateway touches by default (the libc it loads, `ip`, its config
 * directory, control socket, state directory and loopback metrics port); only `sys`
 * stays unscoped, because Deno.umask has no sys descriptor to scope it to. And it is in
 * force: a file outside /etc/nat64 or another libc is refused with a sentence naming the
 * permission. The "dns64" set (`nat64 dns64`) is the network alone; test/e2e/dns64_test.ts
 * runs the listener with it. These checks need no root.
 */

import { deepStrictEqual as eq, match, ok } from "node:assert/strict";
import { defaultLibcPath } from "../../src/tun/libc.ts";
import { DEFAULT_CONTROL_SOCKET } from "../../src/control/server.ts";
import { DEFAULT_METRICS_PORT } from "../../src/control/metrics.ts";
import { ROOT, runBounded } from "../e2e/harness.ts";

type Grant = boolean | string[];
const deno = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
const set: Record<string, Grant> = deno.permissions?.gateway ?? {};

Deno.test("the gateway set grants only scoped permissions, and only the kinds the gateway uses", () => {
  eq(Object.keys(set).sort(), ["ffi", "net", "read", "run", "sys", "write"]);
  for (const [kind, grant] of Object.entries(set)) {
    if (kind === "sys") continue;
    ok(Array.isArray(grant) && grant.length > 0, `"${kind}" must list what it allows, not be ${JSON.stringify(grant)}`);
  }
  eq(set.sys, true);
});

Deno.test("the dns64 set grants the network and nothing else: no files, no FFI, no subprocesses", () => {
  // Unscoped because Deno checks every UDP reply's destination, and clients are a prefix
  // (--allow-client), which a net permission cannot name.
  eq(deno.permissions?.dns64, { net: true });
});

Deno.test("the gateway set matches the code's defaults: libc, ip, control socket, metrics port", () => {
  const dir = DEFAULT_CONTROL_SOCKET.slice(0, DEFAULT_CONTROL_SOCKET.lastIndexOf("/"));
  eq(set.ffi, [defaultLibcPath()]);
  eq(set.run, ["ip"]);
  eq(set.net, [`unix:${DEFAULT_CONTROL_SOCKET}`, `127.0.0.1:${DEFAULT_METRICS_PORT}`]);
  ok(
    (set.read as string[]).includes(DEFAULT_CONTROL_SOCKET),
    "read must cover the control socket (stale-socket check)",
  );
  ok((set.read as string[]).includes("/etc/nat64"), "read must cover the config directory");
  // The server creates the socket's directory if missing (mkdir needs write on it).
  ok((set.write as string[]).includes(dir), `write must cover ${dir}`);
});

Deno.test("the gateway set is in force: a config outside /etc/nat64 and another libc are refused by name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nat64-perm-" });
  try {
    const file = `${dir}/nat64.toml`;
    await Deno.writeTextFile(file, 'pool6 = "2001:db8:64::/96"\n');
    const main = `${ROOT}src/main.ts`;
    const config = await runBounded([Deno.execPath(), "run", "-P=gateway", main, "check-config", file], 30_000);
    eq(config.code, 1);
    match(config.stderr, new RegExp(`Requires read access to "${file}"`));

    const libc = await runBounded(
      [Deno.execPath(), "run", "-P=gateway", main, "run", "--pool6", "2001:db8:64::/96", "--libc", `${dir}/libc.so.6`],
      30_000,
    );
    eq(libc.code, 1);
    match(libc.stderr, new RegExp(`needs --allow-ffi=${dir}/libc.so.6`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
