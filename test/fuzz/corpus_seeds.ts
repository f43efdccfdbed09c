/**
 * Seeds for the mutation fuzzer: every `.pkt` of the Jool graybox corpus (read-only test
 * data), each paired with the translator flags of the cases that use it (`envToFlags`).
 */

import { CORPUS, envToFlags, loadSuite } from "../conformance/replay.ts";

/** The packets of one configuration. */
export interface SeedGroup {
  /** Translator flags that reproduce the cases' `env`. */
  flags: string[];
  /** Ids of the cases the group came from (the first few, for findings). */
  cases: string[];
  packets: Uint8Array[];
}

/**
 * One group per distinct configuration of `suite`; each holds every packet its cases
 * send or expect (expected outputs are valid inputs from the other side).
 */
export function corpusSeeds(suite: "siit" | "nat64"): SeedGroup[] {
  const groups = new Map<string, SeedGroup & { seen: Set<string> }>();
  for (const c of loadSuite(suite)) {
    const flags = envToFlags(c.env);
    const key = flags.join(" ");
    let g = groups.get(key);
    if (!g) {
      g = { flags, cases: [], packets: [], seen: new Set() };
      groups.set(key, g);
    }
    if (g.cases.length < 3) g.cases.push(c.id);
    for (const file of [...c.send, ...c.expect]) {
      const path = `${c.id.split("/")[0]}/${file}`;
      if (g.seen.has(path)) continue;
      g.seen.add(path);
      g.packets.push(Deno.readFileSync(new URL(path, CORPUS)));
    }
  }
  return [...groups.values()].map(({ flags, cases, packets }) => ({ flags, cases, packets }));
}

/** Every packet of `groups`, for splicing. */
export function allPackets(groups: SeedGroup[]): Uint8Array[] {
  return groups.flatMap((g) => g.packets);
}
