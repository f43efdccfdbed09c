/**
 * `nat64 run` and `nat64 check-config`: load the configuration (file and flags), start
 * the gateway, and run it until SIGINT or SIGTERM; SIGHUP reloads the config file.
 *
 * @module
 */

import { keysHelp } from "../config/flags.ts";
import { Logger } from "../control/logger.ts";
import { loggerOptions } from "../control/keys.ts";
import { GATEWAY_KEYS, loadGatewayConfig } from "./config.ts";
import { Gateway } from "./gateway.ts";
import { formatPrefix } from "../net/ip.ts";
import { Engine, pool4Pairs } from "../engine/engine.ts";

/** Usage text of `run`. */
export const RUN_HELP = `usage: nat64 run [--config FILE] [flags]
  Creates or attaches the TUN, routes the translator's prefixes into it and translates
  until SIGINT/SIGTERM; SIGHUP re-reads FILE. Flags override the file key by key.
${keysHelp(GATEWAY_KEYS)}`;

/** Runs `nat64 run ARGS`; returns the exit code. */
export async function runGatewayCommand(args: string[]): Promise<number> {
  if (args.includes("--help")) {
    console.log(RUN_HELP);
    return 0;
  }
  const loaded = await loadGatewayConfig(args);
  if (loaded.positionals.length) throw new Error(`unexpected argument "${loaded.positionals[0]}" (see --help)`);
  const logger = new Logger(loggerOptions(loaded.config.operator));
  const gateway = await Gateway.start(loaded, logger);

  const stopped = new Promise<string>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => resolve(sig));
  });
  const onHup = async () => {
    try {
      // The same file and flags as at start, read again: flags still override the file.
      await gateway.reload(await loadGatewayConfig(args));
    } catch (err) {
      logger.error("reload refused, the running config stays", { reason: (err as Error).message });
    }
  };
  Deno.addSignalListener("SIGHUP", onHup);

  const why = await Promise.race([stopped, gateway.finished().then((e) => e.message)]);
  const exit = await gateway.stop();
  logger.info("gateway stopped", { why: exit.reason === "stopped" ? why : exit.message });
  logger.close();
  return exit.reason === "stopped" ? 0 : 1;
}

/** Runs `nat64 check-config FILE [flags]`: validates without starting anything. */
export async function checkConfigCommand(args: string[]): Promise<number> {
  const [file, ...rest] = args;
  if (!file || file.startsWith("-")) throw new Error("usage: nat64 check-config FILE [flags]");
  const loaded = await loadGatewayConfig(["--config", file, ...rest]);
  const t = loaded.config.translator;
  // The engine has the last word: what it would refuse at start-up is refused here too.
  const engine = { slotCount: 1, sessionCapacity: t.nat64.sessionCapacity, pool4Pairs: pool4Pairs(t.nat64.pool4) };
  Engine.create(engine).configure(t, {
    sessionEvents: loaded.config.operator.logSessions,
  });
  const parts = [
    `mode ${t.mode}`,
    t.pool6 ? `pool6 ${formatPrefix(t.pool6)}` : "no pool6",
    `${t.eamt.length} EAMT entr${t.eamt.length === 1 ? "y" : "ies"}`,
    `tun ${loaded.config.run.tun}`,
  ];
  console.log(`${file}: valid (${parts.join(", ")})`);
  return 0;
}
