import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { parseHostPort } from "../../src/net/endpoint.ts";

Deno.test("host and port text: brackets for IPv6 with a port, canonical addresses", () => {
  eq(parseHostPort("192.0.2.1:53"), { host: "192.0.2.1", family: 4, port: 53 });
  eq(parseHostPort("[2001:DB8::1]:5353"), { host: "2001:db8::1", family: 6, port: 5353 });
  eq(parseHostPort("[::1]"), { host: "::1", family: 6, port: null });
  eq(parseHostPort("2001:db8::53"), { host: "2001:db8::53", family: 6, port: null });
  eq(parseHostPort("198.51.100.2"), { host: "198.51.100.2", family: 4, port: null });
});

Deno.test("bad host and port text is refused with the text quoted", () => {
  throws(() => parseHostPort("[::1:53"), /"\[::1:53" has "\[" without a closing "\]"/);
  throws(() => parseHostPort("dns.example:53"), /not ADDR, ADDR:PORT or \[IPV6\]:PORT/);
  throws(() => parseHostPort("192.0.2.1:65536"), /port outside 0-65535/);
  throws(() => parseHostPort("[::1]:x"), /port outside 0-65535/);
});
