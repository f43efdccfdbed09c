/** The logger: text and JSON lines, levels, session lines and their rate limit. */

import { deepStrictEqual as eq, match, ok, throws } from "node:assert/strict";
import { Logger, type LoggerOptions } from "../../src/control/logger.ts";
import { TokenBucket } from "../../src/control/token_bucket.ts";
import type { SessionRow } from "../../src/control/view.ts";

const TIME = "2026-01-02T03:04:05.678Z";
const ROW: SessionRow = {
  proto: "tcp",
  v6: "[2001:db8::5]:2000",
  v4: "192.0.2.1:10000",
  remote4: "198.51.100.7:443",
  remote6: "[64:ff9b::c633:6407]:443",
  state: "ESTABLISHED",
  expiresInS: 7200,
};

/** A logger writing into an array, with a fixed timestamp and a clock the test moves. */
function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const clock = { ms: 0 };
  const logger = new Logger({ write: (l) => lines.push(l), timestamp: () => TIME, clock: () => clock.ms, ...options });
  return { logger, lines, clock };
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

Deno.test("session lines are off unless asked for", () => {
  const { logger, lines } = capture();
  logger.session("create", ROW);
  eq(lines, []);
});

Deno.test("session lines carry the binding, not the destination, unless destinations are asked for (RFC 6888 REQ-12)", () => {
  const plain = capture({ sessions: true, format: "json", level: "error" });
  plain.logger.session("create", ROW);
  plain.logger.session("delete", ROW);
  eq(plain.lines.map((l) => JSON.parse(l)), [
    { time: TIME, level: "info", msg: "session create", event: "create", proto: "tcp", v6: ROW.v6, v4: ROW.v4 },
    { time: TIME, level: "info", msg: "session delete", event: "delete", proto: "tcp", v6: ROW.v6, v4: ROW.v4 },
  ]);
  const dest = capture({ sessions: true, sessionDestinations: true });
  dest.logger.session("create", ROW);
  eq(dest.lines, [
    `${TIME} info  session create event=create proto=tcp v6=[2001:db8::5]:2000 v4=192.0.2.1:10000 ` +
    `remote6=[64:ff9b::c633:6407]:443 remote4=198.51.100.7:443`,
  ]);
});

Deno.test("the session rate limit drops beyond the burst, counts the drops and reports them once", () => {
  const { logger, lines, clock } = capture({ sessions: true, sessionRate: 10, sessionBurst: 5 });
  for (let i = 0; i < 8; i++) logger.session("create", ROW);
  eq(lines.length, 5, "the burst passes, the rest is dropped");
  eq(logger.counters(), { log_session_lines: 5n, log_session_lines_dropped: 3n });
  clock.ms += 100; // one token back at 10 lines/s
  logger.session("delete", ROW);
  eq(lines.length, 7, "the drop report comes first, then the line that passed");
  match(lines[5], /warn {2}session log lines dropped by the rate limit dropped=3 rate_per_s=10 total_dropped=3$/);
  match(lines[6], /session delete/);
  logger.session("delete", ROW);
  eq(lines.length, 7, "no token left: dropped again");
  logger.close();
  eq(lines.length, 8, "close reports what is still unreported");
  match(lines[7], /dropped=1 rate_per_s=10 total_dropped=4$/);
  logger.close();
  eq(lines.length, 8, "nothing left to report");
});

Deno.test("dropped session lines are reported by a timer when no later line passes", async () => {
  const { logger, lines } = capture({ sessions: true, sessionRate: 1, sessionBurst: 1, dropReportDelayMs: 20 });
  logger.session("create", ROW);
  logger.session("create", ROW);
  eq(lines.length, 1);
  await new Promise((r) => setTimeout(r, 60));
  eq(lines.length, 2);
  match(lines[1], /session log lines dropped by the rate limit dropped=1/);
  logger.close();
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
