/**
 * The configuration keys of the operator tools (control socket, metrics, logging), in
 * the same `KeySpec` form as the translator's keys, so they are flags and config-file
 * keys at once: `--log-format json` and `log-format = "json"` are the same setting.
 *
 * @module
 */

import type { KeySpec } from "../config/schema.ts";
import {
  DEFAULT_SESSION_RATE,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LoggerOptions,
  type LogLevel,
  type SessionLogOptions,
} from "./logger.ts";
import { type ListenAddress, parseListenAddress } from "./metrics.ts";
import { DEFAULT_CONTROL_SOCKET, DEFAULT_CONTROL_SOCKET_MODE } from "./server.ts";

/** How the gateway is operated, validated. */
export interface OperatorConfig {
  /** Path of the control socket. */
  controlSocket: string;
  /** Its permission bits. */
  controlSocketMode: number;
  /** Where `/metrics` is served; absent: not served. */
  metricsListen?: ListenAddress;
  /** Least severe level logged. */
  logLevel: LogLevel;
  /** Text or JSON lines. */
  logFormat: LogFormat;
  /** Log session creation and deletion. */
  logSessions: boolean;
  /** Most session lines per second. */
  logSessionsRate: number;
  /** Include session destinations in those lines. */
  logSessionsDestinations: boolean;
}

/** The operator config before any key is applied. */
export function defaultOperatorConfig(): OperatorConfig {
  return {
    controlSocket: DEFAULT_CONTROL_SOCKET,
    controlSocketMode: DEFAULT_CONTROL_SOCKET_MODE,
    logLevel: "info",
    logFormat: "text",
    logSessions: false,
    logSessionsRate: DEFAULT_SESSION_RATE,
    logSessionsDestinations: false,
  };
}

/** The {@link LoggerOptions} an operator config asks for. */
export function loggerOptions(c: OperatorConfig): LoggerOptions {
  return { level: c.logLevel, format: c.logFormat, ...sessionLogOptions(c) };
}

/** The session line settings an operator config asks for (what a reload applies). */
export function sessionLogOptions(c: OperatorConfig): SessionLogOptions {
  return { sessions: c.logSessions, sessionRate: c.logSessionsRate, sessionDestinations: c.logSessionsDestinations };
}

function oneOf<T extends string>(value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new Error(`"${value}" is not one of ${allowed.join(", ")}`);
  return value as T;
}

/** Every operator key, in the order `--help` lists them. */
export const OPERATOR_KEYS: readonly KeySpec<OperatorConfig>[] = [
  {
    name: "control-socket",
    kind: "string",
    help: `Unix socket for nat64 stats/sessions/bib (default ${DEFAULT_CONTROL_SOCKET})`,
    apply: (c, v) => {
      if (!(v as string).startsWith("/")) throw new Error(`"${v}" is not an absolute path`);
      c.controlSocket = v as string;
    },
  },
  {
    name: "control-socket-mode",
    kind: "string",
    help: "permission bits of the control socket, octal (default 0600)",
    apply: (c, v) => {
      if (!/^0?[0-7]{3}$/.test(v as string)) throw new Error(`"${v}" is not an octal mode such as 0600 or 0660`);
      c.controlSocketMode = parseInt(v as string, 8);
    },
  },
  {
    name: "metrics-listen",
    kind: "string",
    help: "serve Prometheus /metrics on PORT (loopback), ADDR:PORT or [IPV6]:PORT (default: off)",
    apply: (c, v) => (c.metricsListen = parseListenAddress(v as string)),
  },
  {
    name: "log-level",
    kind: "string",
    help: `least severe level logged: ${LOG_LEVELS.join(", ")} (default info)`,
    apply: (c, v) => (c.logLevel = oneOf(v as string, LOG_LEVELS)),
  },
  {
    name: "log-format",
    kind: "string",
    help: "text (default) or json (one object per line)",
    apply: (c, v) => (c.logFormat = oneOf(v as string, LOG_FORMATS)),
  },
  {
    name: "log-sessions",
    kind: "boolean",
    help: "log each session's and BIB entry's creation and removal (RFC 6888 REQ-12; rate-limited)",
    apply: (c, v) => (c.logSessions = v as boolean),
  },
  {
    name: "log-sessions-rate",
    kind: "string",
    help: `most session log lines per second; the rest are counted (default ${DEFAULT_SESSION_RATE})`,
    apply: (c, v) => {
      if (!/^\d+$/.test(v as string) || Number(v) < 1 || Number(v) > 1_000_000) {
        throw new Error(`"${v}" is not a whole number from 1 to 1000000`);
      }
      c.logSessionsRate = Number(v);
    },
  },
  {
    name: "log-sessions-destinations",
    kind: "boolean",
    help: "also log session destinations (RFC 6888 REQ-12 advises against it; default off)",
    apply: (c, v) => (c.logSessionsDestinations = v as boolean),
  },
];
