/**
 * `nat64 sessions` and `nat64 bib` as tables: one row per entry, the IPv6 side on the
 * left and the IPv4 side on the right, the way a packet crosses the gateway.
 *
 * @module
 */

import { renderTable } from "./table.ts";
import { formatDuration } from "./units.ts";
import type { BibRow, SessionRow } from "./view.ts";

/** The sessions table: protocol, both IPv6 ends, both IPv4 ends, TCP state, time to expiry. */
export function renderSessions(rows: readonly SessionRow[]): string[] {
  return renderTable(
    [
      { title: "proto", align: "left" },
      { title: "IPv6 client", align: "left" },
      { title: "IPv6 remote", align: "left" },
      { title: "IPv4 local", align: "left" },
      { title: "IPv4 remote", align: "left" },
      { title: "state", align: "left" },
      { title: "expires in", align: "right" },
    ],
    rows.map((r) => [r.proto, r.v6, r.remote6, r.v4, r.remote4, r.state ?? "-", formatDuration(r.expiresInS)]),
  );
}

/** The BIB table: protocol, the binding, whether the operator configured it, sessions using it. */
export function renderBib(rows: readonly BibRow[]): string[] {
  return renderTable(
    [
      { title: "proto", align: "left" },
      { title: "IPv6", align: "left" },
      { title: "IPv4", align: "left" },
      { title: "kind", align: "left" },
      { title: "sessions", align: "right" },
    ],
    rows.map((r) => [r.proto, r.v6, r.v4, r.static ? "static" : "dynamic", String(r.sessions)]),
  );
}
