/**
 * Session and BIB events through the built module: off unless configured, both sides
 * of a session with Y' filled in from pool6, the causes of removal, the buffer emptied
 * by each take, events lost when the host does not take them.
 */

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { Engine } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { decodeSessionEvent, EVENT_RECORD, type SessionEvent } from "../../src/engine/session_events.ts";
import { buildPacket } from "../util/packets.ts";
import { formatIP } from "../../src/net/ip.ts";
import { withTcpFlags } from "../nat64/tcp_flags.ts";

const FLAGS = ["--mode", "nat64", "--pool6", "64:ff9b::/96", "--allow-nonglobal-wkp", "--pool4", "192.0.2.2"];
const CLIENT = "2001:db8:1::5";
const SERVER = "198.51.100.9";

function engine(sessionEvents: boolean, capacity = 4096): Engine {
  const e = Engine.create({ slotCount: 4, sessionCapacity: capacity });
  e.configure(parseFlags([...FLAGS, "--udp-timeout", "120"]).config, { sessionEvents });
  return e;
}

function send(e: Engine, packet: Uint8Array, nowMs: number): Uint8Array[] {
  e.load(0, packet);
  const n = e.translate(1, nowMs);
  return Array.from({ length: n }, (_, j) => e.output(j).slice());
}

/** Every waiting event, in words: kind, cause, protocol, IPv6 side <-> IPv4 side, time. */
function taken(e: Engine): string[] {
  const n = e.takeSessionEvents();
  return Array.from({ length: n }, (_, i) => words(e.sessionEvent(i)));
}

function words(ev: SessionEvent): string {
  const six = `${formatIP(ev.addr6)}#${ev.port6}` + (ev.remote6 ? ` ${formatIP(ev.remote6)}#${ev.remotePort}` : "");
  const four = `${formatIP(ev.addr4)}#${ev.port4}` + (ev.remote4 ? ` ${formatIP(ev.remote4)}#${ev.remotePort}` : "");
  return `${ev.kind} ${ev.cause} ${ev.proto}${ev.state ? " " + ev.state : ""} ${six} <-> ${four} @${ev.nowMs}`;
}

const udp = (sport: number) => buildPacket({ src: CLIENT, dst: "64:ff9b::" + SERVER, proto: "udp", sport, dport: 53 });

Deno.test("without sessionEvents the engine records nothing", () => {
  const e = engine(false);
  send(e, udp(3000), 1000);
  e.expire(200_000, 100);
  eq(e.takeSessionEvents(), 0);
  eq(e.sessionEventsLost(), 0);
});

Deno.test("a UDP session's creation and expiry, both sides and the engine's clock", () => {
  const e = engine(true);
  const [out] = send(e, udp(3000), 1000.7);
  const x = (out[20] << 8) | out[21];
  eq(taken(e), [
    `bib-created from-ipv6 udp ${CLIENT}#3000 <-> 192.0.2.2#${x} @1000`,
    `session-created from-ipv6 udp ${CLIENT}#3000 64:ff9b::c633:6409#53 <-> 192.0.2.2#${x} ${SERVER}#53 @1000`,
  ]);
  eq(e.takeSessionEvents(), 0, "each take empties the buffer");
  e.expire(121_000, 100);
  eq(taken(e), [
    `session-removed expired udp ${CLIENT}#3000 64:ff9b::c633:6409#53 <-> 192.0.2.2#${x} ${SERVER}#53 @121000`,
    `bib-removed expired udp ${CLIENT}#3000 <-> 192.0.2.2#${x} @121000`,
  ]);
});

Deno.test("a TCP session closed by both sides is removed as tcp-closed, with its state", () => {
  const e = engine(true);
  const tcp = (flags: number, from6: boolean, x = 0) =>
    withTcpFlags(
      from6
        ? buildPacket({ src: CLIENT, dst: "64:ff9b::" + SERVER, proto: "tcp", sport: 40000, dport: 80 })
        : buildPacket({ src: SERVER, dst: "192.0.2.2", proto: "tcp", sport: 80, dport: x }),
      flags,
    );
  const [syn] = send(e, tcp(0x02, true), 0);
  const x = (syn[20] << 8) | syn[21];
  send(e, tcp(0x12, false, x), 1);
  send(e, tcp(0x11, true), 2);
  send(e, tcp(0x11, false, x), 3);
  eq(taken(e).map((l) => l.split(" ").slice(0, 4).join(" ")), [
    "bib-created from-ipv6 tcp 2001:db8:1::5#40000",
    "session-created from-ipv6 tcp V6_INIT",
  ]);
  e.expire(3 + 240_000, 100);
  eq(taken(e).map((l) => l.split(" ").slice(0, 4).join(" ")), [
    "session-removed tcp-closed tcp V4_FIN_V6_FIN_RCV",
    "bib-removed tcp-closed tcp 2001:db8:1::5#40000",
  ]);
});

Deno.test("events the host did not take in time are counted, not written", () => {
  const e = engine(true, 8192);
  eq(e.fill(3000, 3, 10), 3000);
  const capacity = e.takeSessionEvents();
  eq(capacity, 4096);
  eq(e.sessionEventsLost(), 6000 - capacity);
  eq(e.counters().nat64_session_events_lost, BigInt(6000 - capacity));
  eq(e.sessionEvent(capacity - 1).kind, "session-created", "the last record written, readable after the take");
});

Deno.test("reconfiguring turns events on and off", () => {
  const e = engine(false);
  const config = parseFlags(FLAGS).config;
  e.configure(config, { sessionEvents: true });
  send(e, udp(3001), 5);
  eq(e.takeSessionEvents(), 2);
  e.configure(config);
  send(e, udp(3002), 6);
  eq(e.takeSessionEvents(), 0);
});

Deno.test("a record with a kind this host does not know is refused with a sentence", () => {
  const r = new Uint8Array(EVENT_RECORD);
  r[8] = 9;
  r[9] = 1;
  throws(() => decodeSessionEvent(r), /event kind number 9, which this host does not know/);
  r[8] = 1;
  r[10] = 7;
  throws(() => decodeSessionEvent(r), /protocol number 7/);
});
