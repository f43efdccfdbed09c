/** The logger: text and JSON lines, levels, session lines and their rate limit. */

import { deepStrictEqual as eq, match, ok, throws } from "node:assert/strict";
import { Logger, type LoggerOptions } from "../../src/control/logger.ts";
import { TokenBucket } from "../../src/control/token_bucket.ts";
import type { SessionEvent } from "../../src/engine/session_events.ts";
import { parseIP } from "../../src/net/ip.ts";

const TIME = "2026-01-02T03:04:05.678Z";
const CREATED: SessionEvent = {
  kind: "session-created",
  cause: "from-ipv6",
  proto: "tcp",
  state: "V6_INIT",
  static: false,
  addr6: parseIP("2001:db8:1::2"),
  port6: 40000,
  addr4: parseIP("192.0.2.1"),
  port4: 61000,
  remote6: parseIP("64:ff9b::c633:6402"),
  remote4: parseIP("198.51.100.2"),
  remotePort: 80,
  nowMs: 1234,
};

/** A logger writing into an array, with fixed timestamps and a clock the test moves. */
function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const clock = { ms: 0 };
  const logger = new Logger({
    write: (l) => lines.push(l),
    timestamp: () => TIME,
    eventTimestamp: (ms) => `event@${ms}`,
    clock: () => clock.ms,
    ...options,
  });
  return { logger, lines, clock };
}

/** Logs `events` as one drain does. */
function log(logger: Logger, ...events: SessionEvent[]) {
  logger.sessionEvents(events.length, (i) => events[i]);
}

Deno.test("text lines: time, padded level, message, key=value fields quoted only when needed", () => {
  const { logger, lines } = capture();
  logger.info("control socket listening", { path: "/run/nat64/control.sock", mode: "0600" });
  logger.warn("odd value", { text: 'two words "quoted"', empty: "", n: 5, big: 2n ** 64n, absent: undefined });
  eq(lines, [
    `${TIME} info  control socket listening path=/run/nat64/control.sock mode=0600`,
    `${TIME} warn  odd value text="two words \\"quoted\\"" empty="" n=5 big=18446744073709551616`,
  ]);
});

Deno.test("JSON lines: one object per line with time, level, msg and the fields", () => {
  const { logger, lines } = capture({ format: "json" });
  logger.error("tun lost", { device: "nat64", errno: 19, big: 2n ** 64n });
  eq(lines.map((l) => JSON.parse(l)), [
    { time: TIME, level: "error", msg: "tun lost", device: "nat64", errno: 19, big: "18446744073709551616" },
  ]);
});

Deno.test("levels: lines less severe than the configured level are not written", () => {
  const { logger, lines } = capture({ level: "warn" });
  logger.debug("d");
  logger.info("i");
  logger.warn("w");
  logger.error("e");
  eq(lines.map((l) => l.split(" ")[1]), ["warn", "error"]);
  ok(!logger.enabled("info"));
  ok(logger.enabled("error"));
  const debug = capture({ level: "debug" });
  debug.logger.debug("d");
  eq(debug.lines.length, 1);
});

Deno.test("a bad level or format is refused with a sentence naming the value", () => {
  throws(() => new Logger({ level: "loud" as "info" }), /log level "loud" is not one of error, warn, info, debug/);
  throws(() => new Logger({ format: "xml" as "text" }), /log format "xml" is not one of text, json/);
});

Deno.test("session lines are off unless asked for, and events are then not even read", () => {
  const { logger, lines } = capture();
  logger.sessionEvents(3, () => {
    throw new Error("read while off");
  });
  logger.sessionEventsLost(5);
  logger.close();
  eq(lines, []);
  ok(!logger.sessions);
});

Deno.test("a session line: the binding, IPv6 side first, stamped when the engine saw it; no destination by default (RFC 6888 REQ-12)", () => {
  const { logger, lines } = capture({ sessions: true, level: "error" });
  log(logger, CREATED, {
    ...CREATED,
    kind: "session-removed",
    cause: "tcp-closed",
    state: "V4_FIN_V6_FIN_RCV",
    nowMs: 9,
  });
  eq(lines, [
    "event@1234 info  session created TCP [2001:db8:1::2]:40000 <-> 192.0.2.1:61000 cause=from-ipv6 state=V6_INIT",
    "event@9 info  session removed TCP [2001:db8:1::2]:40000 <-> 192.0.2.1:61000 cause=tcp-closed state=V4_FIN_V6_FIN_RCV",
  ]);
});

Deno.test("with destinations each side names the remote end; ICMP shows identifiers, BIB entries no remote", () => {
  const { logger, lines } = capture({ sessions: true, sessionDestinations: true });
  const { remote6: _6, remote4: _4, remotePort: _p, state: _s, ...bib } = CREATED;
  log(
    logger,
    CREATED,
    { ...CREATED, proto: "icmp", state: undefined, port6: 77, port4: 1077, remotePort: 0 },
    { ...bib, kind: "bib-created", cause: "configured", static: true, port6: 80, port4: 8080 },
  );
  eq(lines, [
    "event@1234 info  session created TCP [2001:db8:1::2]:40000 [64:ff9b::c633:6402]:80 <-> " +
    "192.0.2.1:61000 198.51.100.2:80 cause=from-ipv6 state=V6_INIT",
    "event@1234 info  session created ICMP [2001:db8:1::2]:77 64:ff9b::c633:6402 <-> 192.0.2.1:1077 198.51.100.2 " +
    "cause=from-ipv6",
    "event@1234 info  bib created TCP [2001:db8:1::2]:80 <-> 192.0.2.1:8080 cause=configured static=true",
  ]);
});

Deno.test("JSON session lines carry the binding as fields", () => {
  const plain = capture({ sessions: true, format: "json" });
  log(plain.logger, CREATED);
  eq(plain.lines.map((l) => JSON.parse(l)), [{
    time: "event@1234",
    level: "info",
    msg: "session created",
    event: "session-created",
    proto: "tcp",
    v6: "[2001:db8:1::2]:40000",
    v4: "192.0.2.1:61000",
    cause: "from-ipv6",
    state: "V6_INIT",
  }]);
  const dest = capture({ sessions: true, format: "json", sessionDestinations: true });
  log(dest.logger, CREATED);
  const line = JSON.parse(dest.lines[0]);
  eq([line.remote6, line.remote4], ["[64:ff9b::c633:6402]:80", "198.51.100.2:80"]);
});

Deno.test("the rate limit drops beyond the burst without reading the events, and one line a second sums them up", async () => {
  const { logger, lines, clock } = capture({ sessions: true, sessionRate: 10, sessionBurst: 5, dropReportDelayMs: 30 });
  const read: number[] = [];
  logger.sessionEvents(8, (i) => {
    read.push(i);
    return CREATED;
  });
  eq(read, [0, 1, 2, 3, 4], "the burst passes, the rest is counted unread");
  eq(logger.counters(), { log_session_lines: 5n, log_session_lines_dropped: 3n });
  clock.ms += 100; // one token back at 10 lines/s
  log(logger, CREATED, CREATED);
  logger.sessionEventsLost(7);
  eq(lines.length, 6, "no summary before its time");
  await new Promise((r) => setTimeout(r, 80));
  eq(lines.length, 7);
  match(
    lines[6],
    /^2026-01-02T03:04:05.678Z warn {2}session events not logged rate_limited=4 buffer_full=7 rate_per_s=10$/,
  );
  log(logger, CREATED);
  logger.close();
  match(lines[7], /session events not logged rate_limited=1 buffer_full=0 /, "close sums up what is left");
  logger.close();
  eq(lines.length, 8, "nothing left to report");
});

Deno.test("a reload changes the session settings and keeps the counters", () => {
  const { logger, lines } = capture();
  logger.setSessionOptions({ sessions: true, sessionRate: 1, sessionBurst: 1 });
  log(logger, CREATED, CREATED);
  eq(logger.counters(), { log_session_lines: 1n, log_session_lines_dropped: 1n });
  logger.setSessionOptions({ sessions: false });
  log(logger, CREATED);
  logger.close();
  eq(lines.length, 2, "one line, one summary");
  match(lines[1], /rate_limited=1 buffer_full=0 rate_per_s=1$/);
  eq(logger.counters(), { log_session_lines: 1n, log_session_lines_dropped: 1n });
});

Deno.test("token bucket: refills at the rate, never above the burst", () => {
  let now = 0;
  const bucket = new TokenBucket(2, 3, () => now);
  eq([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  now += 499;
  ok(!bucket.take(), "just under one token after 499 ms at 2/s");
  now += 1;
  ok(bucket.take());
  now += 60_000;
  eq([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  throws(() => new TokenBucket(0, 1), /rate above 0/);
});
