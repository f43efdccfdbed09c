/**
 * The gateway's log: one line per event on stderr (journald adds its own metadata),
 * human-readable text by default or JSON lines (`--log-format json`), filtered by level.
 *
 * Per-session lines (`--log-sessions`) record each session's creation and deletion for
 * abuse tracing, in the spirit of RFC 6888 REQ-12: the client's IPv6 transport address
 * and the IPv4 one it was given, with a timestamp. Destinations are left out unless
 * asked for, because REQ-12 says a CGN SHOULD NOT log them. These lines pass through a
 * token bucket; what it drops is counted and reported in a warning line, so the log
 * never silently loses records.
 *
 * @module
 */

import { TokenBucket } from "./token_bucket.ts";
import type { SessionRow } from "./view.ts";

/** Severity, most severe first. */
export type LogLevel = "error" | "warn" | "info" | "debug";
/** Line format. */
export type LogFormat = "text" | "json";

/** The levels in order of severity. */
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];
/** The line formats. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** Values attached to a line; written as `key=value` in text, as fields in JSON. */
export type LogFields = Record<string, string | number | bigint | boolean | undefined>;

/** How the logger behaves; every field has a default. */
export interface LoggerOptions {
  /** Lines less severe than this are not written (default "info"). */
  level?: LogLevel;
  /** "text" (default) or "json". */
  format?: LogFormat;
  /** Write session create/delete lines (default off). */
  sessions?: boolean;
  /** Session lines per second, sustained (default 100). */
  sessionRate?: number;
  /** Session lines allowed at once before the rate applies (default 4 × the rate). */
  sessionBurst?: number;
  /** Also log session destinations (RFC 6888 REQ-12 advises against; default off). */
  sessionDestinations?: boolean;
  /** Where lines go (default: stderr). Gets a line without its newline. */
  write?: (line: string) => void;
  /** The timestamp of a line (default: now, ISO 8601). */
  timestamp?: () => string;
  /** Monotonic milliseconds for the rate limit (default performance.now). */
  clock?: () => number;
  /** Milliseconds between a dropped session line and the warning that counts the drops (default 1000). */
  dropReportDelayMs?: number;
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let done = 0;
  while (done < bytes.length) done += Deno.stderr.writeSync(bytes.subarray(done));
}

/** `value` as a text-format field: bare when safe, JSON-quoted when it has spaces, quotes or `=`. */
function textValue(value: string | number | bigint | boolean): string {
  const s = String(value);
  return s === "" || /[\s"=\\]/.test(s) ? JSON.stringify(s) : s;
}

/** Writes log lines; see the module comment. */
export class Logger {
  readonly #level: number;
  readonly #format: LogFormat;
  readonly #write: (line: string) => void;
  readonly #timestamp: () => string;
  readonly #sessionBucket?: TokenBucket;
  readonly #sessionRate: number;
  readonly #destinations: boolean;
  readonly #dropReportDelayMs: number;
  #sessionLines = 0n;
  #sessionDropped = 0n;
  #unreported = 0;
  #reportTimer?: ReturnType<typeof setTimeout>;

  constructor(options: LoggerOptions = {}) {
    this.#level = LOG_LEVELS.indexOf(options.level ?? "info");
    if (this.#level < 0) throw new Error(`log level "${options.level}" is not one of ${LOG_LEVELS.join(", ")}`);
    this.#format = options.format ?? "text";
    if (!LOG_FORMATS.includes(this.#format)) {
      throw new Error(`log format "${options.format}" is not one of ${LOG_FORMATS.join(", ")}`);
    }
    this.#write = options.write ?? writeStderr;
    this.#timestamp = options.timestamp ?? (() => new Date().toISOString());
    this.#sessionRate = options.sessionRate ?? 100;
    this.#destinations = options.sessionDestinations ?? false;
    this.#dropReportDelayMs = options.dropReportDelayMs ?? 1000;
    if (options.sessions) {
      this.#sessionBucket = new TokenBucket(
        this.#sessionRate,
        options.sessionBurst ?? 4 * this.#sessionRate,
        options.clock,
      );
    }
  }

  /** True when lines of `level` are written. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.#level;
  }

  /** Something failed and an operator must act. */
  error(msg: string, fields?: LogFields): void {
    this.#log("error", msg, fields);
  }

  /** Something is wrong but the gateway carries on. */
  warn(msg: string, fields?: LogFields): void {
    this.#log("warn", msg, fields);
  }

  /** A normal event worth a line (start, stop, listeners). */
  info(msg: string, fields?: LogFields): void {
    this.#log("info", msg, fields);
  }

  /** Detail for diagnosis. */
  debug(msg: string, fields?: LogFields): void {
    this.#log("debug", msg, fields);
  }

  /**
   * Records a session's creation or deletion when `--log-sessions` is on. These lines
   * ignore the level (the operator asked for them) but not the rate limit.
   */
  session(event: "create" | "delete", row: SessionRow): void {
    if (!this.#sessionBucket) return;
    if (!this.#sessionBucket.take()) {
      this.#sessionDropped++;
      this.#unreported++;
      this.#scheduleDropReport();
      return;
    }
    this.#reportDrops();
    this.#sessionLines++;
    const fields: LogFields = { event, proto: row.proto, v6: row.v6, v4: row.v4 };
    if (this.#destinations) Object.assign(fields, { remote6: row.remote6, remote4: row.remote4 });
    this.#emit("info", `session ${event}`, fields);
  }

  /** The logger's own counters, for the control socket and metrics. */
  counters(): Record<string, bigint> {
    return { log_session_lines: this.#sessionLines, log_session_lines_dropped: this.#sessionDropped };
  }

  /** Writes the pending drop report, if any, and stops its timer. */
  close(): void {
    this.#reportDrops();
  }

  #log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LOG_LEVELS.indexOf(level) <= this.#level) this.#emit(level, msg, fields);
  }

  #emit(level: LogLevel, msg: string, fields: LogFields = {}): void {
    const time = this.#timestamp();
    if (this.#format === "json") {
      const record: Record<string, unknown> = { time, level, msg };
      for (const [k, v] of Object.entries(fields)) {
        if (v !== undefined) record[k] = typeof v === "bigint" ? v.toString() : v;
      }
      this.#write(JSON.stringify(record));
      return;
    }
    let line = `${time} ${level.padEnd(5)} ${msg}`;
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${textValue(v)}`;
    this.#write(line);
  }

  #scheduleDropReport(): void {
    if (this.#reportTimer !== undefined) return;
    const timer = setTimeout(() => {
      this.#reportTimer = undefined;
      this.#reportDrops();
    }, this.#dropReportDelayMs);
    // The report must not keep a stopping gateway alive.
    Deno.unrefTimer(timer);
    this.#reportTimer = timer;
  }

  #reportDrops(): void {
    if (this.#reportTimer !== undefined) {
      clearTimeout(this.#reportTimer);
      this.#reportTimer = undefined;
    }
    if (this.#unreported === 0) return;
    const dropped = this.#unreported;
    this.#unreported = 0;
    this.#emit("warn", "session log lines dropped by the rate limit", {
      dropped,
      rate_per_s: this.#sessionRate,
      total_dropped: this.#sessionDropped,
    });
  }
}
