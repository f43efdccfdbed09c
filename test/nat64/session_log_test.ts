/** The session log: takes the engine's events into the logger periodically and at stop. */

import { deepStrictEqual as eq, match } from "node:assert/strict";
import { Logger } from "../../src/control/logger.ts";
import { type EventSource, SessionLog } from "../../src/nat64/session_log.ts";
import type { SessionEvent } from "../../src/engine/session_events.ts";
import { Engine } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { buildPacket } from "../util/packets.ts";
import { parseIP } from "../../src/net/ip.ts";

function event(port6: number): SessionEvent {
  return {
    kind: "session-created",
    cause: "from-ipv6",
    proto: "udp",
    static: false,
    addr6: parseIP("2001:db8::5"),
    port6,
    addr4: parseIP("192.0.2.1"),
    port4: 1000 + port6,
    remote6: parseIP("64:ff9b::c633:6409"),
    remote4: parseIP("198.51.100.9"),
    remotePort: 53,
    nowMs: port6,
  };
}

/** An engine stand-in whose events and losses the test sets. */
class FakeEngine implements EventSource {
  waiting: SessionEvent[] = [];
  taken: SessionEvent[] = [];
  lost = 0;
  takes = 0;
  takeSessionEvents(): number {
    this.takes++;
    this.taken = this.waiting;
    this.waiting = [];
    return this.taken.length;
  }
  sessionEvent(i: number): SessionEvent {
    return this.taken[i];
  }
  sessionEventsLost(): number {
    return this.lost;
  }
}

function setup(lost = 0) {
  const lines: string[] = [];
  const logger = new Logger({
    sessions: true,
    write: (l) => lines.push(l),
    timestamp: () => "now",
    eventTimestamp: (ms) => `t${ms}`,
  });
  const engine = new FakeEngine();
  engine.lost = lost;
  return { lines, logger, engine, log: new SessionLog(engine, logger, 10) };
}

Deno.test("a drain logs each event taken and reports only the losses since the last one", () => {
  const { lines, logger, engine, log } = setup(5);
  engine.waiting = [event(1), event(2)];
  eq(log.drain(), 2);
  eq(lines, [
    "t1 info  session created UDP [2001:db8::5]:1 <-> 192.0.2.1:1001 cause=from-ipv6",
    "t2 info  session created UDP [2001:db8::5]:2 <-> 192.0.2.1:1002 cause=from-ipv6",
  ]);
  eq(log.drain(), 0);
  engine.lost = 8;
  log.drain();
  logger.close();
  eq(lines.length, 3);
  match(
    lines[2],
    /session events not logged rate_limited=0 buffer_full=3 /,
    "the 5 lost before start are not this log's",
  );
});

Deno.test("each step drains while on; turning off drains what is left; stop drains once more", () => {
  const { lines, engine, log } = setup();
  engine.waiting = [event(1)];
  eq(log.step(), 10, "the interval the test log was made with");
  eq(lines.length, 0, "off: a step takes nothing");
  log.run(true);
  log.run(true);
  log.step();
  eq(lines.length, 1);
  engine.waiting = [event(2)];
  log.run(false);
  eq(lines.length, 2, "turning off takes the rest");
  const takes = engine.takes;
  log.step();
  eq(engine.takes, takes, "no more takes once off");
  engine.waiting = [event(3)];
  log.stop();
  eq(lines.length, 3, "stop takes once more");
});

Deno.test("through the engine: a flow's session and binding appear in the log", () => {
  const engine = Engine.create({ slotCount: 1, sessionCapacity: 1024 });
  engine.configure(
    parseFlags(["--mode", "nat64", "--pool6", "64:ff9b::/96", "--allow-nonglobal-wkp", "--pool4", "192.0.2.2"]).config,
    { sessionEvents: true },
  );
  const lines: string[] = [];
  const logger = new Logger({
    sessions: true,
    sessionDestinations: true,
    write: (l) => lines.push(l),
    eventTimestamp: (ms) => `t${ms}`,
  });
  const log = new SessionLog(engine, logger);
  engine.load(
    0,
    buildPacket({ src: "2001:db8::5", dst: "64:ff9b::198.51.100.9", proto: "udp", sport: 3000, dport: 53 }),
  );
  engine.translate(1, 77);
  const out = engine.output(0);
  const x = (out[20] << 8) | out[21];
  eq(log.drain(), 2);
  eq(lines, [
    `t77 info  bib created UDP [2001:db8::5]:3000 <-> 192.0.2.2:${x} cause=from-ipv6`,
    `t77 info  session created UDP [2001:db8::5]:3000 [64:ff9b::c633:6409]:53 <-> 192.0.2.2:${x} 198.51.100.9:53 ` +
    "cause=from-ipv6",
  ]);
});
