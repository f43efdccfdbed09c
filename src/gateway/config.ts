/**
 * The whole gateway configuration: every key table (translator, run, operator tools)
 * as one set of flags and file keys, loaded from `--config FILE` and the command line
 * (flags override the file key by key), and checked as a whole.
 *
 * @module
 */

import {
  checkTranslatorConfig,
  defaultTranslatorConfig,
  type KeySpec,
  TRANSLATOR_KEYS,
  type TranslatorConfig,
} from "../config/schema.ts";
import { applyLayers, type Layer } from "../config/layers.ts";
import { type ExtraOptions, readCommandLine } from "../config/flags.ts";
import { readConfigFile } from "../config/file.ts";
import { formatPrefix } from "../net/ip.ts";
import { defaultOperatorConfig, OPERATOR_KEYS, type OperatorConfig } from "../control/keys.ts";
import { defaultRunConfig, RUN_KEYS, type RunConfig } from "./keys.ts";
import { defaultDns64Options, DNS64_KEYS } from "../dns64/keys.ts";
import type { Dns64Options } from "../dns64/options.ts";
import { defaultPref64Config, PREF64_KEYS, type Pref64Config, pref64Options } from "../pref64/keys.ts";

/** Everything `nat64 run` is told. */
export interface GatewayConfig {
  translator: TranslatorConfig;
  run: RunConfig;
  operator: OperatorConfig;
  /** The built-in DNS64 listener; it runs when `dns64-listen` is given. */
  dns64: Dns64Options;
  /** Router advertisements with the PREF64 option; sent when `pref64-interface` is given. */
  pref64: Pref64Config;
}

/** Lifts the keys of one section onto the whole config, their names behind `prefix`. */
function section<S>(keys: readonly KeySpec<S>[], pick: (c: GatewayConfig) => S, prefix = ""): KeySpec<GatewayConfig>[] {
  return keys.map((k) => ({
    ...k,
    name: prefix + k.name,
    apply: (c: GatewayConfig, v: string | boolean) => k.apply(pick(c), v),
  }));
}

/** Every key of the gateway, flags and file alike. */
export const GATEWAY_KEYS: readonly KeySpec<GatewayConfig>[] = [
  ...section(TRANSLATOR_KEYS, (c) => c.translator),
  ...section(RUN_KEYS, (c) => c.run),
  ...section(OPERATOR_KEYS, (c) => c.operator),
  ...section(DNS64_KEYS, (c) => c.dns64, "dns64-"),
  ...section(PREF64_KEYS, (c) => c.pref64),
];

/** The config before any key is applied. */
export function defaultGatewayConfig(): GatewayConfig {
  return {
    translator: defaultTranslatorConfig(),
    run: defaultRunConfig(),
    operator: defaultOperatorConfig(),
    dns64: defaultDns64Options(),
    pref64: defaultPref64Config(),
  };
}

/** A loaded config, with the text of every key as given (what `config` on the control socket shows). */
export interface LoadedConfig {
  config: GatewayConfig;
  /** Key name → the values given, from file and flags merged. */
  given: Record<string, string | boolean | (string | boolean)[]>;
  /** The config file, if one was named. */
  file?: string;
}

/** Builds and checks a config from layers (file first, then flags). */
export function buildGatewayConfig(...layers: Layer[]): Omit<LoadedConfig, "file"> {
  const config = applyLayers(defaultGatewayConfig(), GATEWAY_KEYS, ...layers);
  checkTranslatorConfig(config.translator);
  pref64Options(config.pref64, config.translator.pool6);
  // One session table per engine: flows spread over queues by hash would each meet
  // another table, so stateful NAT64 (RFC 6146) keeps to one queue.
  if (config.run.queues > 1 && config.translator.mode === "nat64") {
    throw new Error(
      `queues = ${config.run.queues} needs mode = "siit": stateful NAT64 keeps its sessions in one queue`,
    );
  }
  if (config.dns64.listen.length) {
    if (!config.dns64.upstream.length) throw new Error("dns64-listen needs dns64-upstream: the resolver to ask");
    // The listener synthesizes with the prefix the translator uses unless told otherwise.
    if (!config.dns64.prefix?.length && config.translator.pool6) {
      config.dns64.prefix = [formatPrefix(config.translator.pool6)];
    }
  }
  const given: LoadedConfig["given"] = {};
  for (const layer of layers) {
    for (const [name, kv] of layer) {
      const spec = GATEWAY_KEYS.find((k) => k.name === name);
      given[name] = spec?.multiple ? [...kv.values] : kv.values[kv.values.length - 1];
    }
  }
  return { config, given };
}

/** Reads `--config FILE` (if any) and the flags of `args`; `extra` are the subcommand's own flags. */
export async function loadGatewayConfig(args: string[], extra: ExtraOptions = {}): Promise<
  LoadedConfig & { extra: Record<string, unknown>; positionals: string[] }
> {
  const cl = readCommandLine(args, { ...extra, config: { type: "string" } }, GATEWAY_KEYS);
  const file = cl.extra.config as string | undefined;
  const layers = file ? [await readConfigFile(file, GATEWAY_KEYS), cl.layer] : [cl.layer];
  return { ...buildGatewayConfig(...layers), file, extra: cl.extra, positionals: cl.positionals };
}

/**
 * The prefixes routed into the TUN: traffic for IPv4-side hosts as IPv6 sees them
 * (pool6), and for IPv6-side hosts as IPv4 sees them (the EAMT IPv4 prefixes and, in
 * NAT64 mode, pool4), plus any extra routes.
 */
export function tunRoutes(c: GatewayConfig): string[] {
  if (c.run.noRoutes) return [];
  const t = c.translator;
  const routes = [
    ...(t.pool6 ? [formatPrefix(t.pool6)] : []),
    ...t.eamt.map((e) => formatPrefix(e.v4)),
    ...(t.mode === "nat64" ? t.nat64.pool4.map((r) => formatPrefix(r.prefix)) : []),
    ...c.run.routes,
  ];
  return [...new Set(routes)];
}
