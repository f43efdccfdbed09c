/**
 * A GatewayView with made-up but consistent content, for the control socket, CLI and
 * metrics tests: `sessionCount` sessions spread over tcp/udp/icmp, one BIB entry per
 * client, counters that grow by a fixed step on every read (so rates are predictable).
 *
 * @module
 */

import type { BibRow, GatewayStatus, GatewayView, ListPage, ListQuery, SessionRow } from "../../src/control/view.ts";

const PROTOS = ["tcp", "udp", "icmp"] as const;

/** A fake gateway; see the module comment. */
export class FakeView implements GatewayView {
  readonly sessionRows: SessionRow[] = [];
  readonly bibRows: BibRow[] = [];
  /** Counters before any read; each read adds `step` to the traffic counters. */
  readonly base: Record<string, number | bigint>;
  /** Added to in6_udp_packets on every read; in6_udp_bytes grows by 100 × step. */
  step = 0;
  reads = 0;
  /** When set, every method throws this message. */
  failWith?: string;
  /** Every query the view was asked, for assertions. */
  readonly queries: ListQuery[] = [];

  constructor(sessionCount = 5) {
    for (let i = 0; i < sessionCount; i++) {
      const proto = PROTOS[i % 3];
      const port = 2000 + i;
      this.sessionRows.push({
        proto,
        v6: `[2001:db8::${(i % 7) + 1}]:${port}`,
        v4: `192.0.2.1:${10000 + i}`,
        remote4: `198.51.100.${(i % 5) + 1}:80`,
        remote6: `[64:ff9b::c633:64${(i % 5 + 1).toString(16).padStart(2, "0")}]:80`,
        expiresInS: 7200 - i,
        ...(proto === "tcp" ? { state: "ESTABLISHED" } : {}),
      });
      this.bibRows.push({
        proto,
        v6: `[2001:db8::${(i % 7) + 1}]:${port}`,
        v4: `192.0.2.1:${10000 + i}`,
        static: i === 0,
        sessions: 1,
      });
    }
    this.base = {
      in6_udp_packets: 1000,
      in6_udp_bytes: 100000,
      out4_udp_packets: 990,
      out4_udp_bytes: 80000,
      in4_tcp_packets: 0,
      drop_ttl_expired: 3,
      drop_no_binding: 0,
      icmp4_errors_sent: 2,
      sessions_tcp: 2,
      sessions_udp: 2,
      sessions_icmp: 1,
      bib_tcp: 2,
      bib_udp: 2,
      bib_icmp: 1,
      pool4_used_udp: 2,
      pool4_size_udp: 64512,
      dns64_queries: 42,
      out6_tcp_bytes: 2n ** 60n,
    };
  }

  status(): GatewayStatus {
    this.#check();
    return {
      version: "0.1.0-test",
      mode: "nat64",
      startedAt: "2026-01-02T03:04:05.000Z",
      uptimeS: 3725,
      tun: "nat64",
      pid: 4242,
    };
  }

  config(): Record<string, unknown> {
    this.#check();
    return { mode: "nat64", pool6: "64:ff9b::/96", "lowest-ipv6-mtu": 1280 };
  }

  counters(): Record<string, number | bigint> {
    this.#check();
    this.reads++;
    const c = { ...this.base };
    c.in6_udp_packets = (c.in6_udp_packets as number) + this.step * this.reads;
    c.in6_udp_bytes = (c.in6_udp_bytes as number) + 100 * this.step * this.reads;
    return c;
  }

  sessions(q: ListQuery): ListPage<SessionRow> {
    return this.#page(this.sessionRows, q, (r) => [r.v6, r.v4, r.remote4, r.remote6]);
  }

  bib(q: ListQuery): ListPage<BibRow> {
    return this.#page(this.bibRows, q, (r) => [r.v6, r.v4]);
  }

  #page<T extends { proto: string }>(rows: T[], q: ListQuery, addrs: (r: T) => string[]): ListPage<T> {
    this.#check();
    this.queries.push(q);
    const host = (a: string) => a.replace(/^\[/, "").replace(/\]?:\d+$/, "");
    const matching = rows.filter((r) =>
      (!q.proto || r.proto === q.proto) && (!q.addr || addrs(r).some((a) => host(a) === q.addr))
    );
    const start = q.cursor ? Number(q.cursor) : 0;
    const items = matching.slice(start, start + q.limit);
    const end = start + items.length;
    return { items, total: matching.length, next: end < matching.length ? String(end) : undefined };
  }

  #check(): void {
    if (this.failWith) throw new Error(this.failWith);
  }
}
