/**
 * `nat64`: the command-line entry. Dispatches to a subcommand and turns any error into
 * one line on stderr and a non-zero exit, never a stack trace.
 *
 * @module
 */

import { runTranslate } from "./offline/translate.ts";
import { checkConfigCommand, runGatewayCommand } from "./gateway/run.ts";
import { runStatsCommand } from "./control/stats_command.ts";
import { runBibCommand, runSessionsCommand } from "./control/list_commands.ts";
import { runDns64Command } from "./dns64/cli.ts";

const USAGE = `usage: nat64 <subcommand> [flags]
  run           run the gateway on a TUN device (nat64 run --help)
  check-config  validate a config file without starting anything
  dns64         the DNS64 listener alone (needs only --allow-net)
  translate     feed .pkt/.pcap files through the translator offline
  stats         counters of a running gateway (--watch for a live view)
  sessions      NAT64 sessions of a running gateway
  bib           NAT64 bindings of a running gateway
Each subcommand takes --help.`;

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: runGatewayCommand,
  "check-config": checkConfigCommand,
  dns64: runDns64Command,
  translate: runTranslate,
  stats: runStatsCommand,
  sessions: runSessionsCommand,
  bib: runBibCommand,
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
