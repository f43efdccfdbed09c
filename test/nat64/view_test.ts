/**
 * The gateway's view of the stateful tables, as the control socket reads it: session
 * and BIB pages with opaque cursors and totals, address filters, and the timers'
 * counters beside the engine's.
 */

import { deepStrictEqual as eq, ok, rejects } from "node:assert/strict";
import { Engine } from "../../src/engine/engine.ts";
import { readCommandLine } from "../../src/config/flags.ts";
import { buildGatewayConfig, GATEWAY_KEYS } from "../../src/gateway/config.ts";
import { EngineView, type ViewedQueue } from "../../src/gateway/view.ts";
import { HOST_COUNTERS } from "../../src/datapath/protocol.ts";
import { buildPacket, checksumsValid } from "../util/packets.ts";
import { withTcpFlags } from "./tcp_flags.ts";

const FLAGS = [
  "--mode",
  "nat64",
  "--pool6",
  "64:ff9b::/96",
  "--allow-nonglobal-wkp",
  "--pool4",
  "192.0.2.2",
  "--static-bib",
  "tcp,192.0.2.2#80,2001:db8::80#8080",
];

/**
 * A queue over an engine on this thread, answering as a datapath worker does (the
 * worker's own counters from `host`, in HOST_COUNTERS order).
 */
function localQueue(engine: Engine, host: number[]): ViewedQueue {
  return {
    counters: () => ({ ...engine.counters(), ...Object.fromEntries(HOST_COUNTERS.map((n, i) => [n, host[i] ?? 0])) }),
    listSessions: (filter, cursor) => Promise.resolve(engine.listSessions(filter, cursor, performance.now())),
    listBib: (filter, cursor) => Promise.resolve(engine.listBib(filter, cursor)),
  };
}

function view(queues = 1): { engine: Engine; view: EngineView; host: number[] } {
  const loaded = buildGatewayConfig(readCommandLine(FLAGS, {}, GATEWAY_KEYS).layer);
  const engine = Engine.create({ slotCount: 8, sessionCapacity: 1024 });
  engine.configure(loaded.config.translator);
  const host: number[] = [];
  const all = Array.from({ length: queues }, () => localQueue(engine, host));
  return { engine, host, view: new EngineView(all, () => loaded, "nat64", new Date()) };
}

Deno.test("sessions come page by page with a cursor, and the total on every page", async () => {
  const { engine, view: v } = view();
  engine.fill(25, 5, performance.now());
  const rows = [];
  let cursor: string | undefined;
  do {
    const page = await v.sessions({ limit: 10, cursor });
    eq(page.total, 25);
    ok(page.items.length <= 10);
    rows.push(...page.items);
    cursor = page.next;
  } while (cursor !== undefined);
  eq(rows.length, 25);
  eq(new Set(rows.map((r) => `${r.v6} ${r.remote4}`)).size, 25);
  const r = rows[0];
  ok(/^\[2001:db8::[0-9a-f:]+\]:\d+$/.test(r.v6), r.v6);
  ok(/^192\.0\.2\.2:\d+$/.test(r.v4), r.v4);
  eq([r.proto, r.remote4, r.remote6, r.state], ["udp", "198.51.100.0:53", "[64:ff9b::c633:6400]:53", undefined]);
  ok(r.expiresInS > 295 && r.expiresInS <= 300, String(r.expiresInS));
  eq((await v.sessions({ limit: 100, addr: "2001:db8::1" })).total, 5);
  eq((await v.sessions({ limit: 100, proto: "tcp" })).total, 0);
  await rejects(() => v.sessions({ limit: 1, cursor: "x" }), /cursor "x" is not one this gateway gave/);
});

Deno.test("the BIB shows static entries and the sessions on each", async () => {
  const { engine, view: v } = view();
  const syn = withTcpFlags(
    buildPacket({ src: "198.51.100.9", dst: "192.0.2.2", proto: "tcp", sport: 5555, dport: 80 }),
    0x02,
  );
  engine.load(0, syn);
  eq(engine.translate(1, performance.now()), 1);
  ok(checksumsValid(engine.output(0)));
  const page = await v.bib({ limit: 10 });
  eq(page.total, 1);
  eq(page.items, [{ proto: "tcp", v6: "[2001:db8::80]:8080", v4: "192.0.2.2:80", static: true, sessions: 1 }]);
  eq((await v.sessions({ limit: 10, proto: "tcp" })).items[0].state, "V4_INIT");
});

Deno.test("the counters carry the engine's gauges and the timers' own", () => {
  const { engine, view: v, host } = view();
  engine.fill(3, 1, 0);
  host[HOST_COUNTERS.indexOf("nat64_timer_ticks")] = 7;
  const c = v.counters();
  eq([c.sessions_udp, c.bib_tcp, c.nat64_timer_ticks, c.drop_timer_write_error], [3n, 1n, 7, 0]);
});

Deno.test("with several queues the counters are summed, the gauges are not", () => {
  const { engine, view: v, host } = view(3);
  engine.fill(3, 1, 0);
  host[HOST_COUNTERS.indexOf("datapath_batches")] = 5;
  const c = v.counters();
  // Three queues over one engine here: the batches add up, the session gauge stays one table's.
  eq([c.sessions_udp, c.datapath_batches], [3n, 15]);
});
