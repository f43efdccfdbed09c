/**
 * `nat64 stats`, `nat64 sessions` and `nat64 bib` as subprocesses against a control
 * server with a fake gateway: the tables, `--json`, paging, `--watch` and Ctrl-C, and
 * one-line errors.
 */

import { deepStrictEqual as eq, match, ok } from "node:assert/strict";
import { fromJson } from "../../src/control/json.ts";
import { ControlServer } from "../../src/control/server.ts";
import { FakeView } from "./fake_view.ts";

const CLI = new URL("./fixtures/operator_cli.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The deno run command for the CLI, allowed to reach the sockets in `dir` and nothing else. */
function command(dir: string, args: string[]): Deno.Command {
  const sockets = [`${dir}/control.sock`, `${dir}/absent.sock`];
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-net=${sockets.map((s) => `unix:${s}`).join(",")}`,
      `--allow-read=${sockets.join(",")}`,
      `--allow-write=${sockets.join(",")}`,
      CLI,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  });
}

/** Starts a server for `view`, gives `fn` a runner for CLI invocations against it. */
async function withGateway(
  view: FakeView,
  fn: (run: (...args: string[]) => Promise<Run>, dir: string) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const socket = `${dir}/control.sock`;
  const server = new ControlServer(view, { path: socket });
  await server.start();
  const run = async (...args: string[]) => {
    const out = await command(dir, [...args, "--control-socket", socket]).output();
    return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
  };
  try {
    await fn(run, dir);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("stats: the status line and the non-zero counters by section; --all adds the zero ones", async () => {
  await withGateway(new FakeView(), async (run) => {
    const plain = await run("stats");
    eq(plain.code, 0, plain.stderr);
    const lines = plain.stdout.split("\n");
    eq(lines[0], "nat64 0.1.0-test  mode nat64  tun nat64  pid 4242  up 1:02:05  since 2026-01-02T03:04:05.000Z");
    match(plain.stdout, /^ {2}in from IPv6 {2}udp +1000 +100000$/m);
    match(plain.stdout, /^ {2}out to IPv6 {3}tcp +1152921504606846976$/m, "a 2^60 counter is printed exactly");
    match(plain.stdout, /^drops +count\n {2}ttl_expired +3$/m);
    match(plain.stdout, /^ {2}ICMPv4 +2$/m);
    match(plain.stdout, /^ {2}udp +2 +2 +2 +64512 +0\.0%$/m);
    match(plain.stdout, /^ {2}queries +42$/m);
    ok(!plain.stdout.includes("no_binding"), "zero counters are hidden");
    ok(!plain.stdout.includes("in from IPv4"), "a zero traffic row is hidden");
    const all = await run("stats", "--all");
    match(all.stdout, /^ {2}no_binding +0$/m);
    match(all.stdout, /^ {2}in from IPv4 {2}tcp +0$/m);
  });
});

Deno.test("stats --json: status and counters, 64-bit counters exact", async () => {
  await withGateway(new FakeView(), async (run) => {
    const out = await run("stats", "--json");
    eq(out.code, 0, out.stderr);
    const parsed = fromJson(out.stdout) as { status: { pid: number }; counters: Record<string, number | bigint> };
    eq(parsed.status.pid, 4242);
    eq(parsed.counters.out6_tcp_bytes, 2n ** 60n);
    eq(parsed.counters.drop_ttl_expired, 3);
  });
});

Deno.test("sessions: a table of every session with a count; filters and --limit", async () => {
  await withGateway(new FakeView(12), async (run) => {
    const all = await run("sessions");
    eq(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split("\n");
    match(lines[0], /^proto +IPv6 client +IPv6 remote +IPv4 local +IPv4 remote +state +expires in$/);
    eq(lines.length, 14);
    match(
      lines[1],
      /^tcp +\[2001:db8::1\]:2000 +\[64:ff9b::c633:6401\]:80 +192\.0\.2\.1:10000 +198\.51\.100\.1:80 +ESTABLISHED +2:00:00$/,
    );
    match(lines[2], /^udp .* - +1:59:59$/);
    eq(lines[13], "12 sessions");
    const some = await run("sessions", "--proto", "udp", "--limit", "2");
    const someLines = some.stdout.trimEnd().split("\n");
    eq(someLines.length, 4);
    ok(someLines.slice(1, 3).every((l) => l.startsWith("udp ")));
    eq(someLines[3], "2 of 4 sessions shown");
    const none = await run("sessions", "--addr", "203.0.113.9");
    eq(none.stdout, "no sessions match\n");
  });
});

Deno.test("sessions --json follows the pages to the end (2500 sessions: pages of 1000)", async () => {
  const view = new FakeView(2500);
  await withGateway(view, async (run) => {
    const out = await run("sessions", "--json");
    eq(out.code, 0, out.stderr);
    const parsed = JSON.parse(out.stdout) as { total: number; items: unknown[] };
    eq(parsed.total, 2500);
    eq(parsed.items, view.sessionRows);
    eq(view.queries.map((q) => [q.cursor, q.limit]), [[undefined, 1000], ["1000", 1000], ["2000", 1000]]);
  });
});

Deno.test("bib: table and --json, filtered by address", async () => {
  await withGateway(new FakeView(12), async (run) => {
    const table = await run("bib", "--addr", "2001:db8::2");
    eq(table.stdout.trimEnd().split("\n"), [
      "proto  IPv6                IPv4             kind     sessions",
      "udp    [2001:db8::2]:2001  192.0.2.1:10001  dynamic         1",
      "icmp   [2001:db8::2]:2008  192.0.2.1:10008  dynamic         1",
      "2 BIB entries",
    ]);
    const json = JSON.parse((await run("bib", "--json", "--proto", "tcp", "--limit", "1")).stdout);
    eq(json, {
      total: 4,
      items: [{ proto: "tcp", v6: "[2001:db8::1]:2000", v4: "192.0.2.1:10000", static: true, sessions: 1 }],
    });
  });
});

Deno.test("errors are one line on stderr and exit 1: no socket, bad flags, bad values", async () => {
  await withGateway(new FakeView(), async (run, dir) => {
    const cases: [string[], RegExp][] = [
      [["sessions", "--proto", "sctp"], /^nat64 sessions: --proto: "sctp" is not one of tcp, udp, icmp\n$/],
      [
        ["bib", "--addr", "host.example"],
        /^nat64 bib: --addr: "host.example" is neither an IPv4 nor an IPv6 address\n$/,
      ],
      [["sessions", "--limit", "0"], /^nat64 sessions: --limit: "0" is not a whole number from 1 to/],
      [["stats", "--bogus"], /^nat64 stats: unknown flag --bogus \(see --help\)\n$/],
      [["stats", "extra"], /^nat64 stats: unexpected argument "extra" \(see --help\)\n$/],
      [["stats", "--watch", "--json"], /^nat64 stats: --watch draws a table; --json prints one snapshot/],
      [
        ["stats", "--watch", "--interval", "0"],
        /^nat64 stats: --interval: "0" is not a number of seconds from 0\.1 to 3600\n$/,
      ],
      [["stats", "--interval", "2"], /^nat64 stats: --interval only applies with --watch\n$/],
    ];
    for (const [args, want] of cases) {
      const out = await run(...args);
      eq(out.code, 1, args.join(" "));
      match(out.stderr, want);
      eq(out.stdout, "");
    }
    const missing = await command(dir, ["stats", "--control-socket", `${dir}/absent.sock`]).output();
    eq(missing.code, 1);
    match(decoder.decode(missing.stderr), /^nat64 stats: no control socket at .*absent\.sock: is the gateway running/);
  });
});

Deno.test("--help prints the flags and exits 0", async () => {
  await withGateway(new FakeView(), async (run) => {
    const out = await run("sessions", "--help");
    eq(out.code, 0);
    match(out.stdout, /--proto tcp\|udp\|icmp/);
    match(out.stdout, /--control-socket PATH/);
  });
});

Deno.test("stats --watch redraws with rates from the deltas and ends on SIGINT with exit 0", async () => {
  const view = new FakeView();
  view.step = 50;
  const dir = await Deno.makeTempDir();
  const socket = `${dir}/control.sock`;
  const server = new ControlServer(view, { path: socket });
  await server.start();
  try {
    const child = command(dir, ["stats", "--watch", "--interval", "0.2", "--control-socket", socket]).spawn();
    const reader = child.stdout.getReader();
    let text = "";
    // Three frames: the first has no rates, the next two do.
    while ((text.match(/Ctrl-C ends/g) ?? []).length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    child.kill("SIGINT");
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    const status = await child.status;
    await child.stderr.cancel();
    eq(status.code, 0);
    const frames = text.split(/\n\n(?=nat64 )/);
    ok(frames.length >= 3, text);
    ok(!frames[0].includes("pkt/s"), "no rate before a second snapshot");
    match(frames[1], /^traffic +packets +bytes +pkt\/s +bit\/s$/m);
    const row = /^ {2}in from IPv6 {2}udp +(\d+) +(\d+) +([\d.]+k?) +([\d.]+k?)$/m.exec(frames[1]);
    ok(row, frames[1]);
    ok(Number(row[3].replace("k", "")) > 0, "the growing counter has a rate");
    match(frames[1], /^ {2}out to IPv4 {3}udp +990 +80000 +0 +0$/m, "a still counter has rate 0");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
