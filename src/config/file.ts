/**
 * The config file: TOML (parsed by the npm package `smol-toml`) whose keys are the flag
 * names, e.g. `pool6 = "64:ff9b::/96"`, `eamt = ["2001:db8::/120=192.0.2.0/24"]`,
 * `lowest-ipv6-mtu = 1400`. Errors name the file, the line and the key.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import type { KeySpec } from "./schema.ts";
import type { Layer } from "./layers.ts";

/** The line (1-based) where `key` is assigned, for messages; 0 when it cannot be found. */
function lineOf(text: string, key: string): number {
  const escaped = key.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  const re = new RegExp(`^\\s*(?:${escaped}|"${escaped}"|'${escaped}')\\s*=`);
  const i = text.split("\n").findIndex((l) => re.test(l));
  return i + 1;
}

/** Turns one TOML value into the values of a key, or throws a sentence about its type. */
function toValues(spec: KeySpec<any>, value: unknown): (string | boolean)[] {
  const list = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && !spec.multiple) throw new Error("takes one value, not a list");
  return list.map((v) => {
    if (spec.kind === "boolean") {
      if (typeof v !== "boolean") throw new Error(`must be true or false, not ${JSON.stringify(v)}`);
      return v;
    }
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "bigint") return String(v);
    throw new Error(`must be a string or a number, not ${JSON.stringify(v)}`);
  });
}

/** Parses config text into a layer; `path` names the file in errors. */
export function parseConfigText(text: string, path: string, keys: readonly KeySpec<any>[]): Layer {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      throw new Error(`${path} line ${err.line}: ${first}`);
    }
    throw err;
  }
  const layer: Layer = new Map();
  const known = new Map(keys.map((k) => [k.name, k]));
  for (const [key, value] of Object.entries(doc)) {
    const where = `${path} line ${lineOf(text, key)}: ${key}`;
    const spec = known.get(key);
    if (!spec) {
      const hint = typeof value === "object" && !Array.isArray(value) ? " (sections are not used: keys are flat)" : "";
      throw new Error(`${where}: unknown key${hint}`);
    }
    try {
      layer.set(key, { values: toValues(spec, value), where });
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
  }
  return layer;
}

/** Reads and parses a config file into a layer. */
export async function readConfigFile(path: string, keys: readonly KeySpec<any>[]): Promise<Layer> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (err as Error).message;
    throw new Error(`${path}: ${why}`);
  }
  return parseConfigText(text, path, keys);
}
