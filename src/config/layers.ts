/**
 * Configuration layers: the values a source (a config file, the command line) gives for
 * each key, and how layers combine into one validated config. A later layer replaces a
 * key of an earlier one as a whole (flags override the file key by key).
 *
 * @module
 */

import type { KeySpec } from "./schema.ts";

/** The values one source gives a key, and where they were written (for error messages). */
export interface KeyValues {
  readonly values: readonly (string | boolean)[];
  /** "--pool6" or "gw.toml line 3: pool6". */
  readonly where: string;
}

/** One source's values, by key name. */
export type Layer = Map<string, KeyValues>;

/**
 * Applies `layers` in order onto `config` with `keys`. Throws one sentence that names the
 * key and where it was written.
 */
export function applyLayers<C>(config: C, keys: readonly KeySpec<C>[], ...layers: Layer[]): C {
  const merged = new Map<string, KeyValues>();
  for (const layer of layers) for (const [name, kv] of layer) merged.set(name, kv);
  for (const k of keys) {
    const kv = merged.get(k.name);
    if (!kv) continue;
    for (const v of kv.values) {
      try {
        k.apply(config, v);
      } catch (err) {
        throw new Error(`${kv.where}: ${(err as Error).message}`);
      }
    }
  }
  return config;
}
