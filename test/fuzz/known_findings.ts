/**
 * Engine problems the fuzzers found that are reported and not fixed yet, by signature
 * (`signature()` of the problem text), each with a one-line note naming the bug. The
 * bounded fuzz tests print these instead of failing; `regressions_test.ts` pins each
 * one with its exact input. Remove an entry when its regression test passes.
 */

import { signature } from "./engine_mutation.ts";

/** Signature → note. */
export const KNOWN_FINDINGS: ReadonlyMap<string, string> = new Map([
  [
    signature("IPv4 protocol 0 (an IPv6 extension header number) became the IPv6 Next Header, so the payload reads as that header"),
    "translate46 copies IPv4 protocols 0/43/44/60 into the IPv6 Next Header (RFC 7915 §4.1), which makes the payload parse as an extension header",
  ],
]);
