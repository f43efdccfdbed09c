/**
 * Replays the Jool graybox corpus (`../shared/conformance/jool-graybox/`, test data
 * only) through the WASM engine: each case's `env` becomes translator flags, its `send`
 * packets go through the engine in order, and every emitted packet is compared with the
 * expected one, byte by byte, except at the case's `ignore_offsets`.
 */

import { Engine } from "../../src/engine/engine.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { type Item, translateItems } from "../../src/offline/translate.ts";

/** Where the shared corpus sits, beside the project root. */
export const CORPUS = new URL("../../../shared/conformance/jool-graybox/", import.meta.url);

/** One case of the manifest. */
export interface Case {
  id: string;
  group: string;
  from?: "4" | "6";
  to?: "4" | "6";
  send: string[];
  expect: string[];
  ignore_offsets: number[];
  env: Record<string, unknown>;
}

/** Reads one suite ("siit" or "nat64") of the manifest. */
export function loadSuite(suite: "siit" | "nat64"): Case[] {
  const manifest = JSON.parse(Deno.readTextFileSync(new URL("manifest.json", CORPUS)));
  return manifest.suites[suite];
}

/** The translator flags that reproduce a case's `env`. */
export function envToFlags(env: Record<string, unknown>): string[] {
  const args: string[] = ["--mode", String(env.mode)];
  const opt = (flag: string, v: unknown) => {
    if (v !== null && v !== undefined) args.push(`--${flag}`, String(v));
  };
  opt("pool6", env.pool6);
  for (const [v6, v4] of (env.eamt as [string, string][] | undefined) ?? []) args.push("--eamt", `${v6}=${v4}`);
  opt("rfc6791v4", env.rfc6791v4_prefix);
  opt("rfc6791v6", env.rfc6791v6_prefix);
  opt("lowest-ipv6-mtu", env.lowest_ipv6_mtu);
  opt("mtu-v6", env.mtu_v6_side);
  opt("mtu-v4", env.mtu_v4_side);
  opt("ipv4", env.translator_ipv4);
  opt("ipv6", env.translator_ipv6);
  if (env.amend_udp_checksum_zero) args.push("--udp-zero-csum", "calc");
  if (env.zeroize_traffic_class) args.push("--zeroize-traffic-class");
  // Jool's source-icmpv6-errors-better: off means RFC 6146 §3.6's source.
  if (env.source_icmpv6_errors_better === false) args.push("--icmpv6-error-source", "destination");
  for (const p of (env.pool4 as { addr: string; ports: string; protos: string[] }[] | undefined) ?? []) {
    for (const proto of p.protos) args.push("--pool4", `${proto},${p.addr}:${p.ports}`);
  }
  for (const [proto, v4, v6] of (env.static_bib as [string, string, string][] | undefined) ?? []) {
    args.push("--static-bib", `${proto},${v4},${v6}`);
  }
  // The corpus puts documentation (non-global) IPv4 addresses under 64:ff9b::/96, which
  // RFC 6052 §3.1 forbids by default; Jool does not enforce that rule.
  if (env.pool6 === "64:ff9b::/96") args.push("--allow-nonglobal-wkp");
  return args;
}

/** How to replay a case beyond its `send` packets. */
export interface ReplayOptions {
  /** Milliseconds the clock advances (timers run) between the sends and the comparison. */
  waitMs?: number;
  /**
   * What the network beyond the translator answers to a packet it emitted, if anything:
   * the answer goes back through the engine and the answered packet is not compared.
   */
  network?: (emitted: Uint8Array) => Uint8Array | undefined;
}

/** Why a case failed, in one line; null when it passed. */
export function runCase(c: Case, opts: ReplayOptions = {}): string | null {
  const read = (p: string) => Deno.readFileSync(new URL(`${c.id.split("/")[0]}/${p}`, CORPUS));
  const { config } = parseFlags(envToFlags(c.env));
  const sent = c.send.map((p) => ({ data: read(p), timeMs: 0 }));
  const engine = Engine.create({ slotSize: Math.max(2048, ...sent.map((p) => p.data.length + 256)) });
  engine.configure(config);
  const items: Item[] = [{ kind: "packets", packets: sent }];
  if (opts.waitMs) items.push({ kind: "clock", advanceMs: opts.waitMs });
  let got = translateItems(engine, items);
  if (opts.network) {
    const answers = got.map((p) => opts.network!(p.data));
    const back = answers.flatMap((a) => a ? [{ data: a, timeMs: 0 }] : []);
    got = [
      ...got.filter((_, i) => !answers[i]),
      ...(back.length ? translateItems(engine, [{ kind: "packets", packets: back }]) : []),
    ];
  }
  const expected = c.expect.map(read);
  if (got.length !== expected.length) {
    return `emitted ${got.length} packet(s), expected ${expected.length}` +
      (got.length ? ` (first: IPv${got[0].data[0] >> 4}, ${got[0].data.length} bytes)` : "");
  }
  const ignore = new Set(c.ignore_offsets);
  for (let i = 0; i < expected.length; i++) {
    const g = got[i].data, e = expected[i];
    if (g.length !== e.length) return `packet ${i + 1}: ${g.length} bytes, expected ${e.length}`;
    const diffs: number[] = [];
    for (let off = 0; off < e.length; off++) if (!ignore.has(off) && g[off] !== e[off]) diffs.push(off);
    if (diffs.length) {
      const show = diffs.slice(0, 6).map((o) => `@${o} ${g[o].toString(16)}≠${e[o].toString(16)}`).join(", ");
      return `packet ${i + 1}: ${diffs.length} byte(s) differ: ${show}`;
    }
  }
  return null;
}

/**
 * Runs a suite; prints one line per failing case and the closing `N passed, M failed`
 * line; returns the ids that failed, each with its reason. `options` gives each case
 * what it needs beyond its packets.
 */
export function replaySuite(cases: Case[], options: (c: Case) => ReplayOptions = () => ({})): Map<string, string> {
  const failed = new Map<string, string>();
  for (const c of cases) {
    let why: string | null;
    try {
      why = runCase(c, options(c));
    } catch (err) {
      why = `threw: ${(err as Error).message}`;
    }
    if (why) {
      failed.set(c.id, why);
      console.log(`FAIL ${c.id}: ${why}`);
    }
  }
  console.log(`${cases.length - failed.size} passed, ${failed.size} failed`);
  return failed;
}
