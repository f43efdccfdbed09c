/**
 * `nat64`: the command-line entry. Dispatches to a subcommand and turns any error into
 * one line on stderr and a non-zero exit, never a stack trace.
 *
 * @module
 */

import { runTranslate } from "./offline/translate.ts";

const USAGE = `usage: nat64 <subcommand> [flags]
  translate   feed .pkt/.pcap files through the translator offline (nat64 translate --help)`;

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  translate: runTranslate,
};

/** Runs the CLI with `args`; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const run = SUBCOMMANDS[name];
  if (!run) {
    console.error(`nat64: unknown subcommand "${name}"\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    console.error(`nat64 ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
