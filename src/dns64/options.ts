/**
 * The DNS64 listener's options: the shape the CLI flags and the config file fill in
 * (`Dns64Options`, keys named like the flags), their defaults, and their validation into
 * the parsed form the listener runs on (`Dns64Config`). Every error names its key.
 *
 * @module
 */

import { formatPrefix, parsePrefix, type Prefix, RFC6052_LENGTHS } from "../net/ip.ts";
import { type HostPort, parseHostPort } from "../net/endpoint.ts";

/** Options as written in flags or a config file. Keys match the flag names in camelCase. */
export interface Dns64Options {
  /** `listen`: "ADDR:PORT" or "[V6ADDR]:PORT"; each gets a UDP and a TCP listener. */
  listen: string[];
  /** `upstream`: "ADDR" or "ADDR:PORT" / "[V6ADDR]:PORT" (port 53 by default), tried in order. */
  upstream: string[];
  /** `prefix`: "P" or "P=V4PREFIX" (use P for IPv4 inside V4PREFIX); default 64:ff9b::/96. */
  prefix?: string[];
  /** `timeout-ms`: how long one upstream attempt may take (default 1000). */
  timeoutMs?: number;
  /** `retries`: extra passes over the upstream list after the first (default 2). */
  retries?: number;
  /** `synthesize-on-servfail`: treat an AAAA error or timeout as "no AAAA" (RFC 6147 §5.1.2, §5.1.3). Default off. */
  synthesizeOnServfail?: boolean;
  /** `exclude-aaaa`: IPv6 ranges whose AAAA records count as absent (default ::ffff:0:0/96 and every prefix). */
  excludeAaaa?: string[];
  /** `exclude-a`: IPv4 ranges never synthesized (default none; the WKP rule applies regardless). */
  excludeA?: string[];
  /** `allow-client`: networks whose queries are answered (default 127.0.0.0/8 and ::1/128). */
  allowClient?: string[];
  /** `rate-limit`: queries per second per client address, 0 for none (default 0). */
  rateLimit?: number;
  /** `cache-size`: responses kept, 0 to disable the cache (default 10000). */
  cacheSize?: number;
  /** `edns-udp-size`: the largest UDP response sent or asked for (default 1232, DNS flag day 2020). */
  ednsUdpSize?: number;
  /**
   * `udp-batch`: serve UDP with recvmmsg/sendmmsg through libc, many queries per system
   * call. Unset: whenever FFI to libc is permitted, else the network-only path. true:
   * always (an error without the permission). false: never.
   */
  udpBatch?: boolean;
}

/** A host and port. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** One synthesis prefix, used for the IPv4 addresses inside `v4Range` (all when null). */
export interface PrefixRule {
  readonly prefix: Prefix;
  readonly v4Range: Prefix | null;
}

/** Validated options. */
export interface Dns64Config {
  readonly listen: readonly Endpoint[];
  readonly upstream: readonly Endpoint[];
  readonly prefixes: readonly PrefixRule[];
  readonly timeoutMs: number;
  readonly retries: number;
  readonly synthesizeOnServfail: boolean;
  readonly excludeAaaa: readonly Prefix[];
  readonly excludeA: readonly Prefix[];
  readonly allowClient: readonly Prefix[];
  readonly rateLimit: number;
  readonly cacheSize: number;
  readonly ednsUdpSize: number;
  /** "auto": batch when FFI to libc is permitted. */
  readonly udpBatch: boolean | "auto";
  /**
   * Everything that shapes an answer, as text: part of every cache key, so a response
   * built under one configuration is never served under another.
   */
  readonly fingerprint: string;
}

/** An option that does not validate; the message starts with the key's name. */
export class Dns64ConfigError extends Error {
  /** The key, as a flag or config-file name ("prefix", "timeout-ms", ...). */
  readonly key: string;
  constructor(key: string, message: string) {
    super(`${key}: ${message}`);
    this.key = key;
  }
}

const DEFAULTS = {
  prefix: ["64:ff9b::/96"],
  timeoutMs: 1000,
  retries: 2,
  excludeAaaa: ["::ffff:0:0/96"],
  allowClient: ["127.0.0.0/8", "::1/128"],
  cacheSize: 10000,
  ednsUdpSize: 1232,
};

/** Validates `options` and fills in defaults; throws {@link Dns64ConfigError} naming the bad key. */
export function resolveOptions(options: Dns64Options): Dns64Config {
  const listen = list("listen", options.listen).map((t) => parseEndpoint("listen", t, null));
  if (listen.length === 0) throw new Dns64ConfigError("listen", "at least one ADDR:PORT is required");
  const upstream = list("upstream", options.upstream).map((t) => parseEndpoint("upstream", t, 53));
  if (upstream.length === 0) throw new Dns64ConfigError("upstream", "at least one resolver address is required");
  const prefixes = list("prefix", options.prefix ?? DEFAULTS.prefix).map(parsePrefixRule);
  if (prefixes.length === 0) throw new Dns64ConfigError("prefix", "at least one prefix is required");
  const excludeAaaa = list("exclude-aaaa", options.excludeAaaa ?? DEFAULTS.excludeAaaa)
    .map((t) => prefixOf("exclude-aaaa", t, 6));
  // RFC 6147 §5.1.4: our own prefixes in a real AAAA answer point back at this translator.
  if (options.excludeAaaa === undefined) excludeAaaa.push(...prefixes.map((r) => r.prefix));
  const excludeA = list("exclude-a", options.excludeA ?? []).map((t) => prefixOf("exclude-a", t, 4));
  const allowClient = list("allow-client", options.allowClient ?? DEFAULTS.allowClient)
    .map((t) => prefixOf("allow-client", t));
  const config = {
    listen,
    upstream,
    prefixes,
    timeoutMs: integer("timeout-ms", options.timeoutMs ?? DEFAULTS.timeoutMs, 10, 60000),
    retries: integer("retries", options.retries ?? DEFAULTS.retries, 0, 10),
    synthesizeOnServfail: boolean("synthesize-on-servfail", options.synthesizeOnServfail ?? false),
    excludeAaaa,
    excludeA,
    allowClient,
    rateLimit: integer("rate-limit", options.rateLimit ?? 0, 0, 1_000_000),
    cacheSize: integer("cache-size", options.cacheSize ?? DEFAULTS.cacheSize, 0, 10_000_000),
    // RFC 6891 §6.2.5: values below 512 are treated as 512.
    ednsUdpSize: integer("edns-udp-size", options.ednsUdpSize ?? DEFAULTS.ednsUdpSize, 512, 65535),
    udpBatch: options.udpBatch === undefined ? "auto" as const : boolean("udp-batch", options.udpBatch),
  };
  const fingerprint = JSON.stringify([
    config.prefixes.map((r) => [formatPrefix(r.prefix), r.v4Range ? formatPrefix(r.v4Range) : ""]),
    config.excludeAaaa.map(formatPrefix),
    config.excludeA.map(formatPrefix),
    config.synthesizeOnServfail,
    config.ednsUdpSize,
  ]);
  return { ...config, fingerprint };
}

function list(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new Dns64ConfigError(key, "expected a list of strings");
  }
  return value as string[];
}

function integer(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new Dns64ConfigError(key, `${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

function boolean(key: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new Dns64ConfigError(key, `${JSON.stringify(value)} is not true or false`);
  return value;
}

function prefixOf(key: string, text: string, family?: 4 | 6): Prefix {
  try {
    return parsePrefix(text, family);
  } catch (e) {
    throw new Dns64ConfigError(key, (e as Error).message);
  }
}

/** "P" or "P=V4PREFIX": an RFC 6052 prefix, optionally bound to an IPv4 range. */
function parsePrefixRule(text: string): PrefixRule {
  const [p, range, extra] = text.split("=");
  if (extra !== undefined) throw new Dns64ConfigError("prefix", `"${text}" has more than one "="`);
  const prefix = prefixOf("prefix", p, 6);
  if (!RFC6052_LENGTHS.includes(prefix.length)) {
    throw new Dns64ConfigError("prefix", `"${p}" is /${prefix.length}; RFC 6052 allows /32, /40, /48, /56, /64, /96`);
  }
  // RFC 6052 §2.2: bits 64-71 (the u-octet) must be zero, so a prefix may not set them.
  if (prefix.length > 64 && prefix.addr[8] !== 0) {
    throw new Dns64ConfigError("prefix", `"${p}" sets bits 64-71, which RFC 6052 §2.2 reserves (u-octet)`);
  }
  return { prefix, v4Range: range === undefined ? null : prefixOf("prefix", range, 4) };
}

/**
 * Parses "ADDR:PORT", "[V6]:PORT" or, when `defaultPort` is given, a bare address. The
 * host is returned in canonical text so it compares equal to socket addresses.
 */
export function parseEndpoint(key: string, text: string, defaultPort: number | null): Endpoint {
  let e: HostPort;
  try {
    e = parseHostPort(text);
  } catch (err) {
    throw new Dns64ConfigError(key, (err as Error).message);
  }
  const port = e.port ?? defaultPort;
  if (port === null) throw new Dns64ConfigError(key, `"${text}" needs a port (ADDR:PORT or [ADDR]:PORT)`);
  return { host: e.host, port, family: e.family };
}

/** "ADDR:PORT" or "[ADDR]:PORT" for messages. */
export function formatEndpoint(e: Endpoint): string {
  return e.family === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
