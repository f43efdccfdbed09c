/**
 * What the running gateway shows its operators: the one interface the control socket,
 * the `stats`/`sessions`/`bib` commands and the Prometheus endpoint read from. The
 * gateway (`nat64 run`) implements it; nothing here reaches into the engine.
 *
 * Counter names follow the grammar of `counters.ts` (e.g. `in6_udp_packets`,
 * `drop_ttl_expired`, `sessions_tcp`, `dns64_queries`), which is how the renderers know
 * a traffic counter from a drop reason or a gauge without a second table.
 *
 * @module
 */

/** The transport protocols sessions and BIB entries are kept for (RFC 6146 §3). */
export type SessionProto = "tcp" | "udp" | "icmp";

/** The protocols in the order every listing and table shows them. */
export const SESSION_PROTOS: readonly SessionProto[] = ["tcp", "udp", "icmp"];

/** The gateway's identity and health. */
export interface GatewayStatus {
  /** The program's version. */
  version: string;
  /** Stateless (RFC 7915) or stateful (RFC 6146) translation. */
  mode: "siit" | "nat64";
  /** When the gateway started, ISO 8601. */
  startedAt: string;
  /** Seconds since the start. */
  uptimeS: number;
  /** The TUN interface's name. */
  tun: string;
  /** The gateway's process id. */
  pid: number;
}

/**
 * A filter and a page of a listing. `addr` matches any address of the row (IPv6 or
 * IPv4, canonical text without port); `cursor` is the `next` of the previous page,
 * opaque to clients.
 */
export interface ListQuery {
  /** Only this protocol. */
  proto?: SessionProto;
  /** Only rows with this address on either side. */
  addr?: string;
  /** Where the previous page ended. */
  cursor?: string;
  /** Most rows in this page (the control server caps it). */
  limit: number;
}

/** One page of a listing. */
export interface ListPage<T> {
  /** The rows, in a stable order. */
  items: T[];
  /** The cursor for the next page; absent on the last page. */
  next?: string;
  /** Rows matching the filter across all pages. */
  total: number;
}

/**
 * A NAT64 session (RFC 6146 §3.2): transport addresses as `[v6]:port` or `v4:port`
 * (for ICMP the port is the query identifier).
 */
export interface SessionRow {
  /** "tcp", "udp" or "icmp". */
  proto: string;
  /** The IPv6 client, e.g. `[2001:db8::5]:2000`. */
  v6: string;
  /** The pool4 transport address the client is translated to. */
  v4: string;
  /** The IPv4 server. */
  remote4: string;
  /** The IPv4 server as the client sees it (RFC 6052 embedded). */
  remote6: string;
  /** TCP state (RFC 6146 §3.5.2), e.g. "ESTABLISHED"; absent for UDP and ICMP. */
  state?: string;
  /** Seconds until the session expires unless traffic refreshes it. */
  expiresInS: number;
}

/** A Binding Information Base entry (RFC 6146 §3.1). */
export interface BibRow {
  /** "tcp", "udp" or "icmp". */
  proto: string;
  /** The IPv6 transport address. */
  v6: string;
  /** The IPv4 transport address it is bound to. */
  v4: string;
  /** Configured by the operator rather than created by traffic. */
  static: boolean;
  /** Sessions using this binding. */
  sessions: number;
}

/** What the running gateway exposes to the control socket and metrics. */
export interface GatewayView {
  /** Identity and uptime. */
  status(): GatewayStatus;
  /** The config in force, keys as the flag names. */
  config(): Record<string, unknown>;
  /** Counters by name (grammar in `counters.ts`); DNS64 ones prefixed `dns64_`. */
  counters(): Record<string, number | bigint>;
  /** One page of sessions (asked of the datapath worker that holds them). */
  sessions(q: ListQuery): ListPage<SessionRow> | Promise<ListPage<SessionRow>>;
  /** One page of the BIB. */
  bib(q: ListQuery): ListPage<BibRow> | Promise<ListPage<BibRow>>;
}

/** Anything that keeps counters of its own (the logger, the control server, the PREF64 advertiser). */
export interface CounterSource {
  /** Its counters by name. */
  counters(): Record<string, number | bigint>;
}

/**
 * `view` with the counters of `sources` added, so the control socket and the metrics
 * show the operator tools' own counters beside the engine's. A source's name wins
 * over the view's on a clash.
 */
export function withCounters(view: GatewayView, ...sources: CounterSource[]): GatewayView {
  return {
    status: () => view.status(),
    config: () => view.config(),
    counters: () => Object.assign({}, view.counters(), ...sources.map((s) => s.counters())),
    sessions: (q) => view.sessions(q),
    bib: (q) => view.bib(q),
  };
}
