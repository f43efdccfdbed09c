/**
 * The control protocol: one JSON object per line each way over a Unix socket. A request
 * is `{"op":"status"}`, `{"op":"config"}`, `{"op":"counters"}`,
 * `{"op":"sessions","proto":"tcp","addr":"2001:db8::5","limit":100,"cursor":"…"}` or the
 * same for `"bib"`; the answer is `{"result":…}` or `{"error":"one sentence"}`.
 *
 * This module turns a line into a checked request, and nothing else: a request that is
 * not understood is refused here with a sentence naming the field.
 *
 * @module
 */

import { formatIP, parseIP } from "../net/ip.ts";
import { type ListQuery, SESSION_PROTOS, type SessionProto } from "./view.ts";

/** Longest request line accepted; real requests are under 300 bytes. */
export const MAX_REQUEST_BYTES = 4096;
/** Rows per page when a listing request gives no limit. */
export const DEFAULT_PAGE_SIZE = 100;
/** Most rows one page may hold, so one answer never stalls the event loop for long. */
export const MAX_PAGE_SIZE = 1000;
/** Longest cursor accepted (cursors are the gateway's, and short). */
const MAX_CURSOR_LENGTH = 256;

/** The operations that take no argument. */
export type SimpleOp = "status" | "config" | "counters";
/** The listing operations. */
export type ListOp = "sessions" | "bib";

/** A checked request. */
export type ControlRequest = { op: SimpleOp } | { op: ListOp; query: ListQuery };

const SIMPLE_OPS: readonly string[] = ["status", "config", "counters"];
const LIST_OPS: readonly string[] = ["sessions", "bib"];
const LIST_FIELDS: readonly string[] = ["op", "proto", "addr", "cursor", "limit"];

/** Checks the filter and page fields of a listing request. */
function listQuery(op: string, req: Record<string, unknown>): ListQuery {
  for (const key of Object.keys(req)) {
    if (!LIST_FIELDS.includes(key)) throw new Error(`unknown field "${key}" in a ${op} request`);
  }
  const query: ListQuery = { limit: DEFAULT_PAGE_SIZE };
  if (req.proto !== undefined) {
    if (!SESSION_PROTOS.includes(req.proto as SessionProto)) {
      throw new Error(`field "proto" must be one of ${SESSION_PROTOS.join(", ")}, not ${JSON.stringify(req.proto)}`);
    }
    query.proto = req.proto as SessionProto;
  }
  if (req.addr !== undefined) {
    if (typeof req.addr !== "string") throw new Error(`field "addr" must be an address string`);
    try {
      // Canonical text (RFC 5952 for IPv6), so the gateway compares one spelling only.
      query.addr = formatIP(parseIP(req.addr));
    } catch {
      throw new Error(`field "addr": "${req.addr}" is neither an IPv4 nor an IPv6 address`);
    }
  }
  if (req.cursor !== undefined) {
    if (typeof req.cursor !== "string" || req.cursor.length > MAX_CURSOR_LENGTH) {
      throw new Error(`field "cursor" must be the "next" string of a previous answer`);
    }
    query.cursor = req.cursor;
  }
  if (req.limit !== undefined) {
    const n = req.limit;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
      throw new Error(`field "limit" must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
    }
    query.limit = n;
  }
  return query;
}

/** Parses one request line; throws one sentence saying what is wrong with it. */
export function parseRequest(line: string): ControlRequest {
  let req: unknown;
  try {
    req = JSON.parse(line);
  } catch {
    throw new Error("the request is not valid JSON");
  }
  if (typeof req !== "object" || req === null || Array.isArray(req)) {
    throw new Error("the request must be a JSON object");
  }
  const fields = req as Record<string, unknown>;
  const op = fields.op;
  if (typeof op !== "string") throw new Error(`the request has no "op" string`);
  if (SIMPLE_OPS.includes(op)) {
    const extra = Object.keys(fields).find((k) => k !== "op");
    if (extra) throw new Error(`unknown field "${extra}" in a ${op} request`);
    return { op: op as SimpleOp };
  }
  if (LIST_OPS.includes(op)) return { op: op as ListOp, query: listQuery(op, fields) };
  throw new Error(`unknown op "${op}" (known: ${[...SIMPLE_OPS, ...LIST_OPS].join(", ")})`);
}
