/**
 * Command-line flags: the config keys of `schema.ts` as `--key value` flags, parsed with
 * `node:util` parseArgs (`@std/cli` lives on JSR, which deployments may not reach).
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { defaultTranslatorConfig, type KeySpec, TRANSLATOR_KEYS, type TranslatorConfig } from "./schema.ts";

/** Extra flags a subcommand has besides the config keys. */
export type ExtraOptions = NonNullable<ParseArgsConfig["options"]>;

/** The result of parsing: the translator config, the subcommand's own flags, and positionals. */
export interface ParsedFlags {
  config: TranslatorConfig;
  /** Which config keys were given, so a config file's values can be overridden key by key. */
  given: Set<string>;
  extra: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** Turns parseArgs' own messages into one sentence that names the flag. */
function flagError(err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  const unknown = msg.match(/Unknown option '([^']+)'/);
  if (unknown) return new Error(`unknown flag ${unknown[1]} (see --help)`);
  const missing = msg.match(/Option '([^']+?)(?: <value>)?' argument missing/);
  if (missing) return new Error(`flag ${missing[1].replace(/^-\w, /, "")} needs a value`);
  return new Error(msg.split("\n")[0]);
}

/**
 * Parses `args` into a translator config (defaults, then each key in order) plus the
 * subcommand's `extra` flags. Throws one sentence naming the bad flag.
 */
export function parseFlags(args: string[], extra: ExtraOptions = {}, keys: readonly KeySpec[] = TRANSLATOR_KEYS): ParsedFlags {
  const options: ExtraOptions = { ...extra };
  for (const k of keys) options[k.name] = { type: k.kind, multiple: k.multiple ?? false };
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw flagError(err);
  }
  const config = defaultTranslatorConfig();
  const given = new Set<string>();
  for (const k of keys) {
    const raw = parsed.values[k.name];
    if (raw === undefined) continue;
    given.add(k.name);
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      try {
        k.apply(config, v);
      } catch (err) {
        throw new Error(`--${k.name}: ${(err as Error).message}`);
      }
    }
  }
  const extraValues: ParsedFlags["extra"] = {};
  for (const name of Object.keys(extra)) extraValues[name] = parsed.values[name];
  return { config, given, extra: extraValues, positionals: parsed.positionals };
}

/** One help line per key, for `--help`. */
export function keysHelp(keys: readonly KeySpec[] = TRANSLATOR_KEYS): string {
  return keys.map((k) => `  --${k.name}${k.kind === "string" ? " VALUE" : ""}`.padEnd(30) + k.help).join("\n");
}
