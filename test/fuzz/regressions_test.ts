/**
 * Every engine finding of the fuzzers, as its exact input and configuration, run through
 * the fuzz harness's checks. A test that fails today is marked `ignore` with a one-line
 * note naming the bug; remove the mark when the engine is fixed.
 */

import { FuzzEngine } from "./engine_harness.ts";
import { fromHex } from "./prng.ts";

/** The corpus' first SIIT configuration (Jool graybox `siit/udp64`). */
const SIIT_FLAGS = [
  "--mode",
  "siit",
  "--pool6",
  "2001:db8:100::/40",
  "--eamt",
  "2001:db8:3::/120=1.0.0.0/24",
  "--eamt",
  "2001:db8:2::/120=10.0.0.0/24",
  "--rfc6791v4",
  "203.0.113.8",
  "--lowest-ipv6-mtu",
  "1280",
  "--mtu-v6",
  "1500",
  "--mtu-v4",
  "1500",
  "--ipv4",
  "198.51.100.1",
  "--ipv6",
  "2001:db8:1c0:2:1::",
];

function problemsOf(flags: string[], hex: string): string[] {
  return FuzzEngine.create(flags).run([{ bytes: fromHex(hex) }], 0).problems.map((p) => p.what);
}

/** 198.51.100.2 → 192.0.2.33, DF, 12 bytes of payload, IPv4 protocol 0/43/44/60. */
const EXTENSION_PROTOCOL_INPUTS: Record<number, string> = {
  0: "450000200000400040004e87c6336402c000022107d00fa0000c000000010203",
  43: "4500002000004000402b4e5cc6336402c000022107d00fa0000c000000010203",
  44: "4500002000004000402c4e5bc6336402c000022107d00fa0000c000000010203",
  60: "4500002000004000403c4e4bc6336402c000022107d00fa0000c000000010203",
};

for (const [proto, hex] of Object.entries(EXTENSION_PROTOCOL_INPUTS)) {
  Deno.test({
    name: `IPv4 protocol ${proto} does not come out as an IPv6 packet whose payload parses as an extension header`,
    fn: () => {
      const problems = problemsOf(SIIT_FLAGS, hex);
      if (problems.length) throw new Error(problems.join("\n"));
    },
  });
}
