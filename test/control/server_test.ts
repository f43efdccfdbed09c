/**
 * The control socket against a fake gateway: every op, filters and paging, malformed
 * and oversized requests (the server survives them), the socket's mode, stale sockets.
 */

import { deepStrictEqual as assertEquals, match as assertMatch, ok as assert, rejects } from "node:assert/strict";
import { ControlClient } from "../../src/control/client.ts";
import { ControlServer, MAX_CONNECTIONS } from "../../src/control/server.ts";
import { FakeView } from "./fake_view.ts";
import { withCounters } from "../../src/control/view.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A started server on a socket in a fresh temp dir; closes and cleans up after `fn`. */
async function withServer(view: FakeView, fn: (path: string, server: ControlServer) => Promise<void>, mode?: number) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/control.sock`;
  const server = new ControlServer(view, { path, mode });
  await server.start();
  try {
    await fn(path, server);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A raw connection: sends bytes as given, reads answer lines. */
class RawConn {
  #conn: Deno.Conn;
  #buf = "";
  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }
  static async open(path: string) {
    return new RawConn(await Deno.connect({ transport: "unix", path }));
  }
  async send(text: string | Uint8Array) {
    const bytes = typeof text === "string" ? encoder.encode(text) : text;
    let done = 0;
    while (done < bytes.length) done += await this.#conn.write(bytes.subarray(done));
  }
  /** The next line, or null when the server closed the connection. */
  async line(): Promise<string | null> {
    const chunk = new Uint8Array(65536);
    while (!this.#buf.includes("\n")) {
      const n = await this.#conn.read(chunk);
      if (n === null) return null;
      this.#buf += decoder.decode(chunk.subarray(0, n));
    }
    const i = this.#buf.indexOf("\n");
    const line = this.#buf.slice(0, i);
    this.#buf = this.#buf.slice(i + 1);
    return line;
  }
  async ask(req: string): Promise<Record<string, unknown>> {
    await this.send(req + "\n");
    const line = await this.line();
    assert(line !== null, `no answer to ${req}`);
    return JSON.parse(line);
  }
  close() {
    this.#conn.close();
  }
}

Deno.test("the socket is created owner-only (0600) by default, and with the mode asked for otherwise", async () => {
  await withServer(new FakeView(), async (path) => {
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
  });
  await withServer(new FakeView(), async (path) => {
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o660);
  }, 0o660);
});

Deno.test("status, config and counters answer with the view's values; BigInt counters stay exact", async () => {
  const view = new FakeView();
  await withServer(view, async (path) => {
    const client = await ControlClient.connect(path);
    try {
      const { status, counters } = await client.stats();
      assertEquals(status.pid, 4242);
      assertEquals(status.mode, "nat64");
      assertEquals(await client.request({ op: "config" }), view.config());
      assertEquals(counters.drop_ttl_expired, 3);
      assertEquals(counters.out6_tcp_bytes, 2n ** 60n);
      assertEquals(counters.control_requests, 2, "the server adds its own counters (status and this one)");
    } finally {
      client.close();
    }
  });
});

Deno.test("requestAll pipelines requests in one write; an error names the op it answers", async () => {
  await withServer(new FakeView(), async (path) => {
    const client = await ControlClient.connect(path);
    try {
      const [status, config] = await client.requestAll([{ op: "status" }, { op: "config" }]) as [
        { pid: number },
        { pool6: string },
      ];
      assertEquals([status.pid, config.pool6], [4242, "64:ff9b::/96"]);
      await rejects(
        () => client.requestAll([{ op: "bib", limit: 0 }, { op: "status" }]),
        /the gateway refused "bib": field "limit" must be a whole number/,
      );
      assertEquals(await client.request({ op: "config" }), new FakeView().config(), "no stale answer is left behind");
    } finally {
      client.close();
    }
  });
});

Deno.test("sessions and bib: filters by protocol and address, pages follow the cursor to the end", async () => {
  const view = new FakeView(25);
  await withServer(view, async (path) => {
    const client = await ControlClient.connect(path);
    try {
      const udp = await client.list<{ proto: string }>("sessions", { proto: "udp", limit: 100 });
      assertEquals(udp.total, 8);
      assert(udp.items.every((r) => r.proto === "udp"));
      const byAddr = await client.list<{ v6: string }>("bib", { addr: "2001:0db8::0003", limit: 100 });
      assertEquals(view.queries.at(-1)!.addr, "2001:db8::3", "the address reaches the view in RFC 5952 form");
      assert(byAddr.items.length > 0 && byAddr.items.every((r) => r.v6.startsWith("[2001:db8::3]:")));
      const seen: unknown[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.list("sessions", { limit: 10, cursor });
        assert(page.items.length <= 10);
        seen.push(...page.items);
        cursor = page.next;
      } while (cursor);
      assertEquals(seen, view.sessionRows);
    } finally {
      client.close();
    }
  });
});

Deno.test("a listing request without a limit gets a page of 100", async () => {
  const view = new FakeView(150);
  await withServer(view, async (path) => {
    const raw = await RawConn.open(path);
    const answer = await raw.ask(`{"op":"sessions"}`);
    assertEquals((answer.result as { items: unknown[] }).items.length, 100);
    raw.close();
  });
});

Deno.test("malformed requests get one error line each and the connection keeps working", async () => {
  await withServer(new FakeView(), async (path) => {
    const raw = await RawConn.open(path);
    const cases: [string, RegExp][] = [
      ["{not json", /not valid JSON/],
      ["[1,2]", /must be a JSON object/],
      ["{}", /no "op"/],
      [`{"op":"reboot"}`, /unknown op "reboot"/],
      [`{"op":"status","verbose":true}`, /unknown field "verbose" in a status request/],
      [`{"op":"sessions","proto":"sctp"}`, /field "proto" must be one of tcp, udp, icmp/],
      [`{"op":"sessions","addr":"example.com"}`, /field "addr": "example.com" is neither/],
      [`{"op":"sessions","addr":5}`, /field "addr" must be an address string/],
      [`{"op":"bib","limit":0}`, /field "limit" must be a whole number from 1 to 1000/],
      [`{"op":"bib","limit":1001}`, /field "limit"/],
      [`{"op":"bib","limit":2.5}`, /field "limit"/],
      [`{"op":"bib","limit":"10"}`, /field "limit"/],
      [`{"op":"bib","cursor":7}`, /field "cursor"/],
      [`{"op":"bib","cursor":"${"x".repeat(300)}"}`, /field "cursor"/],
      [`{"op":"bib","sort":"v4"}`, /unknown field "sort" in a bib request/],
      ["   ", /empty request line/],
    ];
    for (const [req, want] of cases) {
      const answer = await raw.ask(req);
      assertEquals(Object.keys(answer), ["error"], req);
      assertMatch(answer.error as string, want);
    }
    await raw.send(new Uint8Array([0xff, 0xfe, 0x00, 0x0a]));
    assertMatch(JSON.parse((await raw.line())!).error, /not valid JSON/);
    assertEquals((await raw.ask(`{"op":"status"}`)).result, new FakeView().status());
    raw.close();
  });
});

Deno.test("requests sent together are answered in order; one split over writes is assembled", async () => {
  await withServer(new FakeView(), async (path) => {
    const raw = await RawConn.open(path);
    await raw.send(`{"op":"status"}\n{"op":"bogus"}\n{"op":"config"}\n{"op":"sta`);
    assert("result" in JSON.parse((await raw.line())!));
    assert("error" in JSON.parse((await raw.line())!));
    assertEquals(JSON.parse((await raw.line())!).result.pool6, "64:ff9b::/96");
    await raw.send(`tus"}\n`);
    assertEquals(JSON.parse((await raw.line())!).result.pid, 4242);
    raw.close();
  });
});

Deno.test("an oversized request is refused and its connection closed; the server serves the next one", async () => {
  await withServer(new FakeView(), async (path) => {
    const raw = await RawConn.open(path);
    await raw.send("x".repeat(20000));
    assertMatch(JSON.parse((await raw.line())!).error, /request longer than 4096 bytes/);
    assertEquals(await raw.line(), null);
    raw.close();
    const client = await ControlClient.connect(path);
    assertEquals((await client.stats()).status.pid, 4242);
    client.close();
  });
});

Deno.test("a view that throws becomes an error answer naming the op", async () => {
  const view = new FakeView();
  await withServer(view, async (path) => {
    view.failWith = "engine unavailable";
    const client = await ControlClient.connect(path);
    await rejects(
      () => client.request({ op: "counters" }),
      /the gateway could not answer counters: engine unavailable/,
    );
    view.failWith = undefined;
    assertEquals((await client.stats()).status.pid, 4242);
    client.close();
  });
});

Deno.test("a client hanging up mid-request does not disturb the server", async () => {
  await withServer(new FakeView(), async (path) => {
    const raw = await RawConn.open(path);
    await raw.send(`{"op":"sessions","limit":`);
    raw.close();
    const client = await ControlClient.connect(path);
    assertEquals((await client.stats()).status.pid, 4242);
    client.close();
  });
});

Deno.test(`connections beyond ${MAX_CONNECTIONS} are refused with an error line`, async () => {
  await withServer(new FakeView(), async (path) => {
    const open: RawConn[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const raw = await RawConn.open(path);
      await raw.ask(`{"op":"status"}`);
      open.push(raw);
    }
    const extra = await RawConn.open(path);
    assertMatch(JSON.parse((await extra.line())!).error, /more than 64 control connections/);
    assertEquals(await extra.line(), null);
    extra.close();
    open.pop()!.close();
    // The freed slot is taken again once the server has seen the hang-up.
    let answered = false;
    for (let attempt = 0; attempt < 50 && !answered; attempt++) {
      const again = await RawConn.open(path);
      await again.send(`{"op":"status"}\n`);
      answered = "result" in JSON.parse((await again.line())!);
      again.close();
      if (!answered) await new Promise((r) => setTimeout(r, 20));
    }
    assert(answered);
    for (const raw of open) raw.close();
  });
});

Deno.test("a stale socket is replaced; a live one or a non-socket file is refused with the path", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/control.sock`;
  try {
    // A socket file that nobody listens on, as a killed gateway leaves it.
    const stale = Deno.listen({ transport: "unix", path });
    const kept = `${dir}/kept.sock`;
    await Deno.rename(path, kept);
    stale.close();
    await Deno.rename(kept, path);
    assert((await Deno.lstat(path)).isSocket);
    const first = new ControlServer(new FakeView(), { path });
    await first.start();
    const second = new ControlServer(new FakeView(), { path });
    await rejects(() => second.start(), /another gateway is already serving the control socket/);
    await first.close();
    await Deno.writeTextFile(path, "not a socket");
    await rejects(() => new ControlServer(new FakeView(), { path }).start(), /control.sock exists and is not a socket/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the client names the problem when there is no socket or nobody listens", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejects(
      () => ControlClient.connect(`${dir}/none.sock`),
      /no control socket at .*none.sock: is the gateway running/,
    );
    const listener = Deno.listen({ transport: "unix", path: `${dir}/dead.sock` });
    await Deno.rename(`${dir}/dead.sock`, `${dir}/kept.sock`);
    listener.close();
    await Deno.rename(`${dir}/kept.sock`, `${dir}/dead.sock`);
    await rejects(
      () => ControlClient.connect(`${dir}/dead.sock`),
      /nothing listens on .*dead.sock: the gateway that made it has stopped/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withCounters adds the counters of other sources (logger, advertiser) to the view's", async () => {
  const view = new FakeView();
  const shown = withCounters(view, { counters: () => ({ log_session_lines_dropped: 7n }) }, {
    counters: () => ({ pref64_ra_sent: 2n, drop_ttl_expired: 99 }),
  });
  const c = shown.counters();
  assertEquals(c.log_session_lines_dropped, 7n);
  assertEquals(c.pref64_ra_sent, 2n);
  assertEquals(c.drop_ttl_expired, 99, "a source wins a clash");
  assertEquals(c.in6_udp_packets, 1000);
  assertEquals(shown.status(), view.status());
  assertEquals((await shown.sessions({ limit: 2 })).items, (await view.sessions({ limit: 2 })).items);
});

Deno.test("without --allow-sys=umask the server says which permission it needs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/serve.ts`;
    const server = new URL("../../src/control/server.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { ControlServer } from "${server}";
try {
  await new ControlServer({} as never, { path: "${dir}/c.sock" }).start();
} catch (err) {
  console.log((err as Error).message);
}
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", `--allow-read=${dir}`, `--allow-write=${dir}`, `--allow-net=unix:${dir}/c.sock`, script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(
      new TextDecoder().decode(out.stdout),
      "creating the control socket with mode 0600 needs --allow-sys=umask\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
