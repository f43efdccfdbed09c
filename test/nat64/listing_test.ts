/** Session and BIB records as the operator tools show them, and list queries as engine filters. */

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { bibRow, listRequest, sessionRow } from "../../src/nat64/listing.ts";
import { parseIP, parsePrefix } from "../../src/net/ip.ts";
import type { SessionRecord } from "../../src/engine/nat64_records.ts";

const POOL6 = parsePrefix("64:ff9b::/96");

function session(over: Partial<SessionRecord>): SessionRecord {
  return {
    proto: "tcp",
    state: "ESTABLISHED",
    static: false,
    addr6: parseIP("2001:db8::5"),
    port6: 2000,
    addr4: parseIP("192.0.2.2"),
    port4: 61000,
    remote4: parseIP("198.51.100.9"),
    remotePort: 443,
    remainingMs: 7_439_001,
    ...over,
  };
}

Deno.test("a session row shows both transport addresses of each side, the state and whole seconds left", () => {
  eq(sessionRow(session({}), POOL6), {
    proto: "tcp",
    v6: "[2001:db8::5]:2000",
    v4: "192.0.2.2:61000",
    remote4: "198.51.100.9:443",
    remote6: "[64:ff9b::c633:6409]:443",
    state: "ESTABLISHED",
    expiresInS: 7440,
  });
  // ICMP: the identifier is the port on both sides (RFC 6146 §3.5.3); no TCP state.
  const icmp = sessionRow(session({ proto: "icmp", state: undefined, port6: 7, port4: 9, remotePort: 0 }), POOL6);
  eq([icmp.v6, icmp.v4, icmp.remote4, icmp.remote6, icmp.state], [
    "[2001:db8::5]:7",
    "192.0.2.2:9",
    "198.51.100.9:9",
    "[64:ff9b::c633:6409]:9",
    undefined,
  ]);
});

Deno.test("a BIB row says static or not and how many sessions use it", () => {
  eq(
    bibRow({
      proto: "udp",
      static: true,
      addr6: parseIP("2001:db8::5"),
      port6: 53,
      addr4: parseIP("192.0.2.2"),
      port4: 53,
      sessions: 3,
    }),
    { proto: "udp", v6: "[2001:db8::5]:53", v4: "192.0.2.2:53", static: true, sessions: 3 },
  );
});

Deno.test("list queries become engine filters; a bad address or cursor is named", () => {
  eq(listRequest({ limit: 50 }), { filter: { limit: 50 }, cursor: 0 });
  eq(listRequest({ proto: "udp", addr: "192.0.2.2", cursor: "17", limit: 5 }), {
    filter: { limit: 5, proto: "udp", addr: parseIP("192.0.2.2") },
    cursor: 17,
  });
  throws(() => listRequest({ addr: "nowhere", limit: 1 }), /"nowhere" is neither an IPv4 nor an IPv6 address/);
  throws(() => listRequest({ cursor: "-1", limit: 1 }), /cursor "-1" is not one this gateway gave/);
  throws(() => listRequest({ cursor: "4294967295", limit: 1 }), /not one this gateway gave/);
});
