/**
 * Command-line flags: the config keys of `schema.ts` as `--key value` flags, parsed with
 * `node:util` parseArgs (`@std/cli` lives on JSR, which deployments may not reach).
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { defaultTranslatorConfig, type KeySpec, TRANSLATOR_KEYS, type TranslatorConfig } from "./schema.ts";
import { applyLayers, type Layer } from "./layers.ts";

/** Extra flags a subcommand has besides the config keys. */
export type ExtraOptions = NonNullable<ParseArgsConfig["options"]>;

/** What the command line said: the config keys as a layer, the subcommand's own flags, positionals. */
export interface CommandLine {
  layer: Layer;
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

/** Reads `args`: every config key in `keys` as a flag, plus the subcommand's `extra` flags. */
export function readCommandLine(
  args: string[],
  extra: ExtraOptions = {},
  keys: readonly KeySpec<any>[] = TRANSLATOR_KEYS,
): CommandLine {
  const options: ExtraOptions = { ...extra };
  for (const k of keys) options[k.name] = { type: k.kind, multiple: k.multiple ?? false };
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw flagError(err);
  }
  const layer: Layer = new Map();
  for (const k of keys) {
    const raw = parsed.values[k.name];
    if (raw !== undefined) layer.set(k.name, { values: Array.isArray(raw) ? raw : [raw], where: `--${k.name}` });
  }
  const extraValues: CommandLine["extra"] = {};
  for (const name of Object.keys(extra)) extraValues[name] = parsed.values[name];
  return { layer, extra: extraValues, positionals: parsed.positionals };
}

/** The result of {@link parseFlags}: a translator config from flags alone, and the rest of the command line. */
export interface ParsedFlags extends CommandLine {
  config: TranslatorConfig;
}

/** Parses `args` into a translator config (defaults, then the flags) and the rest of the command line. */
export function parseFlags(args: string[], extra: ExtraOptions = {}): ParsedFlags {
  const cl = readCommandLine(args, extra, TRANSLATOR_KEYS);
  return { ...cl, config: applyLayers(defaultTranslatorConfig(), TRANSLATOR_KEYS, cl.layer) };
}

/** One help line per key, for `--help`. */
export function keysHelp(keys: readonly KeySpec<any>[] = TRANSLATOR_KEYS): string {
  return keys.map((k) => `  --${k.name}${k.kind === "string" ? " VALUE" : ""}`.padEnd(30) + k.help).join("\n");
}
