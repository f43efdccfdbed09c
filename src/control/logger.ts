/**
 * The gateway's log: one line per event on stderr (journald adds its own metadata),
 * human-readable text by default or JSON lines (`--log-format json`), filtered by level.
 *
 * Per-session lines (`--log-sessions`) record each session's and BIB entry's creation
 * and removal for abuse tracing, in the spirit of RFC 6888 REQ-12: the IPv6 transport
 * address and the IPv4 one it was given, timestamped when the engine saw it (format in
 * `session_lines.ts`). Destinations are left out unless asked for, because REQ-12 says a
 * CGN SHOULD NOT log them. These lines pass through a token bucket; what it drops, and
 * what the engine could not record, is counted and summed up in one warning line a
 * second at most, so the log never silently loses records.
 *
 * @module
 */

import { TokenBucket } from "./token_bucket.ts";
import type { SessionEvent } from "../engine/session_events.ts";
import { sessionLine } from "./session_lines.ts";

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

/** The session line settings, which a reload may change. */
export interface SessionLogOptions {
  /** Write session and BIB create/remove lines (default off). */
  sessions?: boolean;
  /** Session lines per second, sustained (default 1000). */
  sessionRate?: number;
  /** Session lines allowed at once before the rate applies (default the rate: one second's worth). */
  sessionBurst?: number;
  /** Also log session destinations (RFC 6888 REQ-12 advises against; default off). */
  sessionDestinations?: boolean;
}

/** Default session lines per second. */
export const DEFAULT_SESSION_RATE = 1000;

/** How the logger behaves; every field has a default. */
export interface LoggerOptions extends SessionLogOptions {
  /** Lines less severe than this are not written (default "info"). */
  level?: LogLevel;
  /** "text" (default) or "json". */
  format?: LogFormat;
  /** Where lines go (default: stderr). Gets a line without its newline. */
  write?: (line: string) => void;
  /** The timestamp of a line (default: now, ISO 8601). */
  timestamp?: () => string;
  /**
   * The timestamp of a session line, from the engine's clock when the event happened
   * (monotonic milliseconds; default: `performance.timeOrigin` plus them, ISO 8601).
   */
  eventTimestamp?: (monotonicMs: number) => string;
  /** Monotonic milliseconds for the rate limit (default performance.now). */
  clock?: () => number;
  /** Milliseconds between the first session line not logged and the warning that counts them (default 1000). */
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
  readonly #eventTimestamp: (monotonicMs: number) => string;
  readonly #clock?: () => number;
  readonly #dropReportDelayMs: number;
  #sessionBucket?: TokenBucket;
  #sessionRate = DEFAULT_SESSION_RATE;
  #destinations = false;
  #sessionLines = 0n;
  #sessionDropped = 0n;
  #unreportedDropped = 0;
  #unreportedLost = 0;
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
    this.#eventTimestamp = options.eventTimestamp ??
      ((ms) => new Date(performance.timeOrigin + ms).toISOString());
    this.#clock = options.clock;
    this.#dropReportDelayMs = options.dropReportDelayMs ?? 1000;
    this.setSessionOptions(options);
  }

  /**
   * Applies new session line settings (on reload); what the old ones did not log is
   * summed up first, and the counters carry on.
   */
  setSessionOptions(options: SessionLogOptions): void {
    this.#reportDrops();
    this.#sessionRate = options.sessionRate ?? DEFAULT_SESSION_RATE;
    this.#destinations = options.sessionDestinations ?? false;
    this.#sessionBucket = options.sessions
      ? new TokenBucket(this.#sessionRate, options.sessionBurst ?? this.#sessionRate, this.#clock)
      : undefined;
  }

  /** True when session lines are written. */
  get sessions(): boolean {
    return this.#sessionBucket !== undefined;
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
   * Writes `count` session or BIB events, event `i` read by `read(i)`, when
   * `--log-sessions` is on. These lines ignore the level (the operator asked for them)
   * but not the rate limit; an event the limit drops is counted, not read.
   */
  sessionEvents(count: number, read: (i: number) => SessionEvent): void {
    const bucket = this.#sessionBucket;
    if (!bucket) return;
    for (let i = 0; i < count; i++) {
      if (!bucket.take()) {
        this.#sessionDropped++;
        this.#unreportedDropped++;
        continue;
      }
      this.#sessionLines++;
      this.#sessionLine(read(i));
    }
    if (this.#unreportedDropped) this.#scheduleDropReport();
  }

  /** Counts `count` events the engine could not record (its buffer was full), for the next warning. */
  sessionEventsLost(count: number): void {
    if (!this.#sessionBucket || count <= 0) return;
    this.#unreportedLost += count;
    this.#scheduleDropReport();
  }

  /** The logger's own counters, for the control socket and metrics. */
  counters(): Record<string, bigint> {
    return { log_session_lines: this.#sessionLines, log_session_lines_dropped: this.#sessionDropped };
  }

  /** Writes the pending drop report, if any, and stops its timer. */
  close(): void {
    this.#reportDrops();
  }

  #sessionLine(ev: SessionEvent): void {
    const line = sessionLine(ev, this.#destinations);
    const time = this.#eventTimestamp(ev.nowMs);
    if (this.#format === "json") {
      this.#write(JSON.stringify({ time, level: "info", msg: line.msg, ...line.bindingFields, ...line.fields }));
      return;
    }
    let text = `${time} ${"info".padEnd(5)} ${line.msg} ${line.binding}`;
    for (const [k, v] of Object.entries(line.fields)) text += ` ${k}=${textValue(v)}`;
    this.#write(text);
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

  /** One line for what was not logged since the last one: dropped by the rate limit, lost by the engine. */
  #reportDrops(): void {
    if (this.#reportTimer !== undefined) {
      clearTimeout(this.#reportTimer);
      this.#reportTimer = undefined;
    }
    if (this.#unreportedDropped === 0 && this.#unreportedLost === 0) return;
    const fields: LogFields = {
      rate_limited: this.#unreportedDropped,
      buffer_full: this.#unreportedLost,
      rate_per_s: this.#sessionRate,
    };
    this.#unreportedDropped = 0;
    this.#unreportedLost = 0;
    this.#emit("warn", "session events not logged", fields);
  }
}
