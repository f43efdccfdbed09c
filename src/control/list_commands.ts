/**
 * `nat64 sessions` and `nat64 bib`: list the gateway's sessions or BIB entries, like
 * `jool session display` and `jool bib display`, fetched page by page from the control
 * socket and printed as one table (or one JSON object with `--json`).
 *
 * @module
 */

import { formatIP, parseIP } from "../net/ip.ts";
import { ControlClient } from "./client.ts";
import { COMMON_HELP, parseOperatorArgs, wholeNumberFlag } from "./cli_flags.ts";
import { toJson } from "./json.ts";
import { renderBib, renderSessions } from "./listing_render.ts";
import { MAX_PAGE_SIZE } from "./protocol.ts";
import { type BibRow, type ListQuery, SESSION_PROTOS, type SessionProto, type SessionRow } from "./view.ts";

type ListOp = "sessions" | "bib";

const NOUN: Record<ListOp, string> = { sessions: "sessions", bib: "BIB entries" };

function usage(op: ListOp): string {
  return `usage: nat64 ${op} [flags]
  lists the running gateway's ${NOUN[op]} (RFC 6146 §3)
  --proto tcp|udp|icmp    only this protocol
  --addr ADDR             only entries with this IPv4 or IPv6 address on either side
  --limit N               show at most N entries (default: all)
${COMMON_HELP}`;
}

/** Fetches up to `limit` rows, following the gateway's cursors. */
async function fetchAll<T>(client: ControlClient, op: ListOp, filter: Omit<ListQuery, "limit">, limit: number) {
  const items: T[] = [];
  let total = 0;
  let cursor: string | undefined;
  do {
    const page = await client.list<T>(op, { ...filter, cursor, limit: Math.min(MAX_PAGE_SIZE, limit - items.length) });
    items.push(...page.items);
    total = page.total;
    // A cursor that yields nothing would loop forever; the listing is as complete as it gets.
    cursor = page.items.length > 0 ? page.next : undefined;
  } while (cursor !== undefined && items.length < limit);
  return { total, items };
}

async function runList(op: ListOp, args: string[]): Promise<number> {
  const opts = parseOperatorArgs(args, {
    proto: { type: "string" },
    addr: { type: "string" },
    limit: { type: "string" },
  });
  if (opts.help) {
    console.log(usage(op));
    return 0;
  }
  const filter: Omit<ListQuery, "limit"> = {};
  const proto = opts.extra.proto as string | undefined;
  if (proto !== undefined) {
    if (!SESSION_PROTOS.includes(proto as SessionProto)) {
      throw new Error(`--proto: "${proto}" is not one of ${SESSION_PROTOS.join(", ")}`);
    }
    filter.proto = proto as SessionProto;
  }
  const addr = opts.extra.addr as string | undefined;
  if (addr !== undefined) {
    try {
      filter.addr = formatIP(parseIP(addr));
    } catch {
      throw new Error(`--addr: "${addr}" is neither an IPv4 nor an IPv6 address`);
    }
  }
  const limitText = opts.extra.limit as string | undefined;
  const limit = limitText === undefined ? Infinity : wholeNumberFlag("--limit", limitText, 1, Number.MAX_SAFE_INTEGER);

  const client = await ControlClient.connect(opts.socket);
  let listing: { total: number; items: (SessionRow | BibRow)[] };
  try {
    listing = await fetchAll<SessionRow | BibRow>(client, op, filter, limit);
  } finally {
    client.close();
  }
  if (opts.json) {
    console.log(toJson(listing));
    return 0;
  }
  if (listing.items.length === 0) {
    console.log(`no ${NOUN[op]}${filter.proto || filter.addr ? " match" : ""}`);
    return 0;
  }
  const lines = op === "sessions"
    ? renderSessions(listing.items as SessionRow[])
    : renderBib(listing.items as BibRow[]);
  lines.push(
    listing.items.length < listing.total
      ? `${listing.items.length} of ${listing.total} ${NOUN[op]} shown`
      : `${listing.total} ${NOUN[op]}`,
  );
  console.log(lines.join("\n"));
  return 0;
}

/** `nat64 sessions [flags]`: the gateway's sessions; returns the exit code. */
export function runSessionsCommand(args: string[]): Promise<number> {
  return runList("sessions", args);
}

/** `nat64 bib [flags]`: the gateway's BIB; returns the exit code. */
export function runBibCommand(args: string[]): Promise<number> {
  return runList("bib", args);
}
