/**
 * `nat64 dns64 ...`: the DNS64 listener on its own, the sandboxed way to run it (network
 * permission only). Flags are the config-file keys; each bad flag is one line naming it
 * and exit code 2.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Dns64ConfigError, type Dns64Options, formatEndpoint } from "./options.ts";
import { Dns64Server } from "./server.ts";

const USAGE = `usage: nat64 dns64 --listen ADDR:PORT --upstream ADDR[:PORT] [options]

  --listen ADDR:PORT          UDP and TCP listener; IPv6 as [ADDR]:PORT (repeatable)
  --upstream ADDR[:PORT]      resolver to forward to, port 53 by default (repeatable, tried in order)
  --prefix P[=V4PREFIX]       RFC 6052 prefix, optionally only for IPv4 in V4PREFIX (repeatable;
                              default 64:ff9b::/96)
  --timeout-ms N              time allowed for one upstream attempt (default 1000)
  --retries N                 extra passes over the upstream list (default 2)
  --synthesize-on-servfail    synthesize when the AAAA lookup fails or times out (default off:
                              it hides outages)
  --exclude-aaaa P            real AAAA inside P count as absent (repeatable; default
                              ::ffff:0:0/96 and every --prefix)
  --exclude-a P               IPv4 inside P is never synthesized (repeatable)
  --allow-client P            networks that may query; others get REFUSED (repeatable; default
                              127.0.0.0/8 and ::1/128)
  --rate-limit N              queries per second per client, 0 for none (default 0)
  --cache-size N              responses kept, 0 disables the cache (default 10000)
  --edns-udp-size N           largest UDP answer sent or asked for (default 1232)
  --udp-batch                 serve UDP with recvmmsg/sendmmsg through libc: several times the
                              query rate, but needs --allow-ffi (default off: network only)
  --help                      this text
`;

const NUMERIC = {
  "timeout-ms": "timeoutMs",
  "retries": "retries",
  "rate-limit": "rateLimit",
  "cache-size": "cacheSize",
  "edns-udp-size": "ednsUdpSize",
} as const;

const LISTS = {
  "listen": "listen",
  "upstream": "upstream",
  "prefix": "prefix",
  "exclude-aaaa": "excludeAaaa",
  "exclude-a": "excludeA",
  "allow-client": "allowClient",
} as const;

/** A flag that does not parse; the message names it. */
class FlagError extends Error {}

/**
 * Parses `args` into {@link Dns64Options}; throws {@link FlagError} or `Dns64ConfigError`
 * with a one-line message naming the flag.
 */
export function parseDns64Flags(args: string[]): Dns64Options | "help" {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(Object.keys(LISTS).map((k) => [k, { type: "string" as const, multiple: true }])),
        ...Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: "string" as const }])),
        "synthesize-on-servfail": { type: "boolean" },
        "udp-batch": { type: "boolean" },
        "help": { type: "boolean" },
      },
    }));
  } catch (e) {
    throw new FlagError((e as Error).message.split(/\.\s/)[0].replace(/\.$/, ""));
  }
  if (values.help) return "help";
  const options: Dns64Options = {
    listen: (values.listen as string[] | undefined) ?? [],
    upstream: (values.upstream as string[] | undefined) ?? [],
  };
  for (const [flag, key] of Object.entries(LISTS)) {
    const v = values[flag] as string[] | undefined;
    if (v !== undefined) options[key] = v;
  }
  for (const [flag, key] of Object.entries(NUMERIC)) {
    const v = values[flag] as string | undefined;
    if (v === undefined) continue;
    if (!/^\d+$/.test(v)) throw new Dns64ConfigError(flag, `"${v}" is not a whole number`);
    options[key] = Number(v);
  }
  if (values["synthesize-on-servfail"]) options.synthesizeOnServfail = true;
  if (values["udp-batch"]) options.udpBatch = true;
  return options;
}

/**
 * Runs the listener until SIGINT or SIGTERM. Returns 0 after a clean stop, 2 for bad
 * flags, 1 when a listener cannot be bound.
 */
export async function runDns64Command(args: string[]): Promise<number> {
  let server: Dns64Server;
  try {
    const options = parseDns64Flags(args);
    if (options === "help") {
      console.log(USAGE);
      return 0;
    }
    server = new Dns64Server(options);
  } catch (e) {
    if (e instanceof Dns64ConfigError) console.error(`nat64 dns64: --${e.message}`);
    else if (e instanceof FlagError) console.error(`nat64 dns64: ${e.message}`);
    else throw e;
    return 2;
  }
  try {
    await server.start();
  } catch (e) {
    console.error(`nat64 dns64: ${(e as Error).message}`);
    return 1;
  }
  console.error(`nat64 dns64: listening on ${server.addresses().map(formatEndpoint).join(", ")}`);
  await untilSignal();
  await server.stop();
  console.error(`nat64 dns64: stopped; counters ${JSON.stringify(server.counters())}`);
  return 0;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handler = () => {
      for (const s of signals) Deno.removeSignalListener(s, handler);
      resolve();
    };
    for (const s of signals) Deno.addSignalListener(s, handler);
  });
}
