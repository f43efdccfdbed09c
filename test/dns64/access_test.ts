import { deepStrictEqual as eq } from "node:assert/strict";
import { ClientAccess } from "../../src/dns64/access.ts";
import { parsePrefix } from "../../src/net/ip.ts";

Deno.test("only clients in the allowed networks are answered", () => {
  const access = new ClientAccess(["2001:db8:1::/48", "127.0.0.0/8"].map((p) => parsePrefix(p)), 0);
  eq(access.check("2001:db8:1::5", 0), "allow");
  eq(access.check("2001:db8:2::5", 0), "refuse");
  eq(access.check("127.0.0.9", 0), "allow");
  eq(access.check("::ffff:127.0.0.9", 0), "allow");
  eq(access.check("192.0.2.1", 0), "refuse");
  eq(access.check("not an address", 0), "refuse");
});

Deno.test("the rate limit allows one second's burst, then refills at the rate", () => {
  const access = new ClientAccess([parsePrefix("::/0")], 4);
  const verdicts = Array.from({ length: 6 }, () => access.check("2001:db8::1", 1000));
  eq(verdicts, ["allow", "allow", "allow", "allow", "limit", "limit"]);
  eq(access.check("2001:db8::2", 1000), "allow");
  eq(access.check("2001:db8::1", 1250), "allow");
  eq(access.check("2001:db8::1", 1250), "limit");
});
