/**
 * `nat64 dns64 ...`: the DNS64 listener on its own, the sandboxed way to run it (network
 * permission only; with FFI to libc as well, UDP goes in batches). Flags are the config-file keys; each bad flag is one line naming it
 * and exit code 2.
 *
 * @module
 */

import { keysHelp, readCommandLine } from "../config/flags.ts";
import { applyLayers } from "../config/layers.ts";
import { Dns64ConfigError, type Dns64Options, formatEndpoint } from "./options.ts";
import { Dns64Server } from "./server.ts";
import { defaultDns64Options, DNS64_KEYS } from "./keys.ts";

const USAGE = `usage: nat64 dns64 --listen ADDR:PORT --upstream ADDR[:PORT] [options]
${keysHelp(DNS64_KEYS)}
  --help                        this text`;

/** A flag that does not parse; the message names it. */
class FlagError extends Error {}

/**
 * Parses `args` into {@link Dns64Options}; throws {@link FlagError} with a one-line
 * message naming the flag.
 */
export function parseDns64Flags(args: string[]): Dns64Options | "help" {
  try {
    const cl = readCommandLine(args, { help: { type: "boolean" } }, DNS64_KEYS);
    if (cl.extra.help) return "help";
    if (cl.positionals.length) throw new Error(`unexpected argument "${cl.positionals[0]}"`);
    return applyLayers(defaultDns64Options(), DNS64_KEYS, cl.layer);
  } catch (e) {
    throw new FlagError((e as Error).message);
  }
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
    // The listener has the process to itself; its notes go where this command's lines go.
    server = new Dns64Server(options, { exclusive: true, log: (line) => console.error(`nat64 dns64: ${line}`) });
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
