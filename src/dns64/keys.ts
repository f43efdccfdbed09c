/**
 * The DNS64 listener's keys in the `KeySpec` form every other key has, so one table
 * serves `nat64 dns64 --listen ...`, `nat64 run --dns64-listen ...` and the config file.
 * Values are checked once more, as a whole, by `resolveOptions` (options.ts).
 *
 * @module
 */

import type { KeySpec } from "../config/schema.ts";
import type { Dns64Options } from "./options.ts";

/** The options before any key is applied. */
export function defaultDns64Options(): Dns64Options {
  return { listen: [], upstream: [] };
}

type ListKey = "listen" | "upstream" | "prefix" | "excludeAaaa" | "excludeA" | "allowClient";
type NumberKey = "timeoutMs" | "retries" | "rateLimit" | "cacheSize" | "ednsUdpSize";

function list(name: string, field: ListKey, help: string): KeySpec<Dns64Options> {
  return {
    name,
    kind: "string",
    multiple: true,
    help,
    apply: (o, v) => (o[field] = [...(o[field] ?? []), v as string]),
  };
}

function whole(name: string, field: NumberKey, help: string): KeySpec<Dns64Options> {
  return {
    name,
    kind: "string",
    help,
    apply: (o, v) => {
      if (!/^\d{1,9}$/.test(v as string)) throw new Error(`"${v}" is not a whole number`);
      o[field] = Number(v);
    },
  };
}

/** Every DNS64 key, unprefixed (`nat64 run` prefixes them with `dns64-`). */
export const DNS64_KEYS: readonly KeySpec<Dns64Options>[] = [
  list("listen", "listen", "UDP and TCP listener ADDR:PORT, IPv6 as [ADDR]:PORT (repeatable)"),
  list("upstream", "upstream", "resolver to forward to, ADDR[:PORT], port 53 by default (repeatable, in order)"),
  list("prefix", "prefix", "RFC 6052 prefix P[=V4PREFIX], optionally only for IPv4 in V4PREFIX (repeatable)"),
  whole("timeout-ms", "timeoutMs", "time allowed for one upstream attempt (default 1000)"),
  whole("retries", "retries", "extra passes over the upstream list (default 2)"),
  {
    name: "synthesize-on-servfail",
    kind: "boolean",
    help: "synthesize when the AAAA lookup fails or times out (default off: it hides outages)",
    apply: (o, v) => (o.synthesizeOnServfail = v as boolean),
  },
  list("exclude-aaaa", "excludeAaaa", "real AAAA inside P count as absent (default ::ffff:0:0/96 and every prefix)"),
  list("exclude-a", "excludeA", "IPv4 inside P is never synthesized (repeatable)"),
  list("allow-client", "allowClient", "networks that may query, others get REFUSED (default loopback)"),
  whole("rate-limit", "rateLimit", "queries per second per client, 0 for none (default 0)"),
  whole("cache-size", "cacheSize", "responses kept, 0 disables the cache (default 10000)"),
  whole("edns-udp-size", "ednsUdpSize", "largest UDP answer sent or asked for (default 1232)"),
  {
    name: "udp-batch",
    kind: "boolean",
    help:
      "serve UDP with recvmmsg/sendmmsg through libc, several times the query rate (default: when FFI is permitted)",
    apply: (o, v) => (o.udpBatch = v as boolean),
  },
];
