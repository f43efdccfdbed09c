/**
 * Whether the engine does stateful NAT64 yet: the stateful fuzz targets run once the
 * brief's reference configuration is accepted, and are skipped with the engine's own
 * reason before that.
 */

import { Engine } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";

/** The configuration that must be accepted before the stateful targets run. */
export const REFERENCE_NAT64_FLAGS = ["--mode", "nat64", "--pool6", "64:ff9b::/96", "--pool4", "192.0.2.2"];

/** Null when stateful NAT64 configures; otherwise why not, in one sentence. */
export function statefulUnavailable(): string | null {
  try {
    Engine.create({ slotCount: 1, slotSize: 2048 }).configure(parseFlags(REFERENCE_NAT64_FLAGS).config);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
