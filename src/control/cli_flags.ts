/**
 * Flags shared by the operator commands (`stats`, `sessions`, `bib`), parsed with the
 * same machinery as the config flags so errors read the same way.
 *
 * @module
 */

import { type CommandLine, type ExtraOptions, readCommandLine } from "../config/flags.ts";
import { DEFAULT_CONTROL_SOCKET } from "./server.ts";

/** The flags every operator command takes. */
const COMMON: ExtraOptions = {
  "control-socket": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean" },
};

/** Help lines for the common flags. */
export const COMMON_HELP = `  --control-socket PATH   the gateway's control socket (default ${DEFAULT_CONTROL_SOCKET})
  --json                  print JSON instead of a table
  --help                  this text`;

/** A parsed operator command line. */
export interface OperatorArgs {
  /** The control socket's path. */
  socket: string;
  /** Print JSON. */
  json: boolean;
  /** Print help and stop. */
  help: boolean;
  /** The command's own flags. */
  extra: CommandLine["extra"];
}

/** Parses `args` with the common flags and `own`; throws one sentence naming a bad flag. */
export function parseOperatorArgs(args: string[], own: ExtraOptions): OperatorArgs {
  const cl = readCommandLine(args, { ...COMMON, ...own }, []);
  if (cl.positionals.length > 0) throw new Error(`unexpected argument "${cl.positionals[0]}" (see --help)`);
  return {
    socket: (cl.extra["control-socket"] as string | undefined) ?? DEFAULT_CONTROL_SOCKET,
    json: cl.extra.json === true,
    help: cl.extra.help === true,
    extra: cl.extra,
  };
}

/** `text` as a whole number from `min` to `max`, or an error naming `flag`. */
export function wholeNumberFlag(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new Error(`${flag}: "${text}" is not a whole number from ${min} to ${max}`);
  }
  return Number(text);
}
