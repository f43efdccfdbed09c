/**
 * Problems the fuzzers found that are reported and not fixed yet, each with a one-line
 * note naming the bug: engine problems by signature (`signature()` of the problem
 * text), DNS64 problems by pattern. The bounded fuzz tests print these instead of
 * failing; `regressions_test.ts` and `dns64_regressions_test.ts` pin each one with its
 * exact input. Remove an entry when its regression test passes.
 */

import { signature } from "./engine_mutation.ts";

/** Signature → note. */
export const KNOWN_FINDINGS: ReadonlyMap<string, string> = new Map([
  [
    signature(
      "IPv4 protocol 0 (an IPv6 extension header number) became the IPv6 Next Header, so the payload reads as that header",
    ),
    "translate46 copies IPv4 protocols 0/43/44/60 into the IPv6 Next Header (RFC 7915 §4.1), which makes the payload parse as an extension header",
  ],
]);

/**
 * DNS64 listener problems: a pattern of the problem text → note. Two earlier ones
 * (upstream RCODEs relayed, RDATA names relayed unchecked) are fixed.
 */
export const KNOWN_DNS_FINDINGS: readonly { pattern: RegExp; note: string }[] = [
  {
    pattern: /^the answer does not decode: /,
    note:
      "the relay lets records whose RDATA does not fit their type through (A of RDLENGTH 0, class 1232: a damaged OPT), so clients cannot parse the answer",
  },
];

/** The note of the known DNS64 finding `problem` matches, or null. */
export function knownDnsNote(problem: string): string | null {
  return KNOWN_DNS_FINDINGS.find((k) => k.pattern.test(problem))?.note ?? null;
}
