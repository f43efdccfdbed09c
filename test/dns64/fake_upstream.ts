/**
 * A fake upstream resolver for the DNS64 tests, built with dns-packet: it answers from a
 * list of records (following CNAME and DNAME like a recursive resolver), and a test can
 * override any (name, type) with an RCODE, silence, a forced UDP truncation or AD=1. It
 * records every query it gets, so tests can check what was (not) forwarded.
 */

import dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import dgram from "node:dgram";

/** A record as the fake serves it (dns-packet form). */
export interface FakeRecord {
  name: string;
  type: string;
  ttl: number;
  data: any;
}

/** How to answer one (name, type), instead of the zone data. */
export interface Override {
  rcode?: "SERVFAIL" | "REFUSED" | "FORMERR" | "NXDOMAIN";
  /** Do not answer at all (the client times out). */
  silent?: boolean;
  /** Answer UDP with TC=1 and no records, so the client must retry over TCP. */
  truncateUdp?: boolean;
  /** Over UDP, pad the answer past 4096 bytes whatever EDNS size was asked for, as a broken server might. */
  oversizeUdp?: boolean;
  /** Set AD=1, as a validating resolver would for secure data. */
  authenticated?: boolean;
  /** Leave the SOA out of a negative answer. */
  noSoa?: boolean;
}

/** One query the fake received. */
export interface SeenQuery {
  name: string;
  type: string;
  transport: "udp" | "tcp";
  dnssecOk: boolean;
  checkingDisabled: boolean;
}

/** The zone every test shares; see the comments for what each name is for. */
export const ZONE = "dns64.example";

/** The SOA of the zone: TTL 300, MINIMUM 120, so negative answers live 120 s (RFC 2308 §5). */
export const SOA: FakeRecord = {
  name: ZONE,
  type: "SOA",
  ttl: 300,
  data: {
    mname: `ns.${ZONE}`,
    rname: `admin.${ZONE}`,
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 120,
  },
};

/** The shared test data. */
export const RECORDS: FakeRecord[] = [
  SOA,
  { name: `v4only.${ZONE}`, type: "A", ttl: 3600, data: "192.0.2.1" },
  { name: `shortttl.${ZONE}`, type: "A", ttl: 30, data: "192.0.2.2" },
  { name: `two.${ZONE}`, type: "A", ttl: 300, data: "192.0.2.3" },
  { name: `two.${ZONE}`, type: "A", ttl: 300, data: "198.51.100.3" },
  { name: `dual.${ZONE}`, type: "A", ttl: 300, data: "192.0.2.4" },
  { name: `dual.${ZONE}`, type: "AAAA", ttl: 300, data: "2001:db8:1::4" },
  { name: `mapped.${ZONE}`, type: "A", ttl: 300, data: "192.0.2.5" },
  { name: `mapped.${ZONE}`, type: "AAAA", ttl: 300, data: "::ffff:192.0.2.5" },
  { name: `mixed.${ZONE}`, type: "A", ttl: 300, data: "192.0.2.6" },
  { name: `mixed.${ZONE}`, type: "AAAA", ttl: 300, data: "::ffff:192.0.2.6" },
  { name: `mixed.${ZONE}`, type: "AAAA", ttl: 300, data: "2001:db8:1::6" },
  { name: `ownprefix.${ZONE}`, type: "A", ttl: 300, data: "192.0.2.7" },
  { name: `ownprefix.${ZONE}`, type: "AAAA", ttl: 300, data: "2001:db8:64::c000:207" },
  { name: `alias.${ZONE}`, type: "CNAME", ttl: 200, data: `v4only.${ZONE}` },
  { name: `alias2.${ZONE}`, type: "CNAME", ttl: 200, data: `alias.${ZONE}` },
  { name: `sub.${ZONE}`, type: "DNAME", ttl: 200, data: `target.${ZONE}` },
  { name: `host.target.${ZONE}`, type: "A", ttl: 300, data: "192.0.2.8" },
  { name: `nodata.${ZONE}`, type: "TXT", ttl: 300, data: "no addresses here" },
  // 192.0.0.9 is global (IANA special-purpose registry, RFC 7723), so even the WKP may carry it.
  { name: `global.${ZONE}`, type: "A", ttl: 300, data: "192.0.0.9" },
  { name: `1.2.0.192.in-addr.arpa`, type: "PTR", ttl: 300, data: `v4only.${ZONE}` },
  ...Array.from({ length: 40 }, (_, i) => ({ name: `many.${ZONE}`, type: "A", ttl: 300, data: `198.51.100.${i + 1}` })),
];

/** A fake resolver on 127.0.0.1 (UDP and TCP on one port). */
export class FakeUpstream {
  readonly seen: SeenQuery[] = [];
  readonly overrides = new Map<string, Override>();
  readonly #udp: dgram.Socket;
  readonly #tcp: Deno.TcpListener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #loop: Promise<void>;
  readonly port: number;

  private constructor(udp: dgram.Socket, tcp: Deno.TcpListener, port: number) {
    this.#udp = udp;
    this.#tcp = tcp;
    this.port = port;
    udp.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
      const reply = this.#reply(msg, "udp");
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    });
    this.#loop = this.#accept();
  }

  /** Starts a fake on a free port. */
  static async start(): Promise<FakeUpstream> {
    for (;;) {
      const udp = dgram.createSocket("udp4");
      const port = await new Promise<number>((resolve) => udp.bind(0, "127.0.0.1", () => resolve(udp.address().port)));
      try {
        return new FakeUpstream(udp, Deno.listen({ hostname: "127.0.0.1", port }), port);
      } catch {
        // The TCP side of this port is taken; try another.
        udp.close();
      }
    }
  }

  /** "127.0.0.1:PORT", for the listener's upstream option. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Overrides how (name, type) is answered. */
  override(name: string, type: string, how: Override): void {
    this.overrides.set(`${name.toLowerCase()}/${type}`, how);
  }

  /** Queries seen for `name` (any case) and, when given, `type`. */
  seenFor(name: string, type?: string): SeenQuery[] {
    return this.seen.filter((q) => q.name.toLowerCase() === name.toLowerCase() && (!type || q.type === type));
  }

  async stop(): Promise<void> {
    this.#udp.close();
    this.#tcp.close();
    for (const c of this.#conns) c.close();
    await this.#loop;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#tcp) {
        this.#conns.add(conn);
        this.#serve(conn).finally(() => this.#conns.delete(conn));
      }
    } catch {
      return;
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    try {
      const head = new Uint8Array(2);
      if (!(await readFull(conn, head))) return;
      const query = new Uint8Array((head[0] << 8) | head[1]);
      if (!(await readFull(conn, query))) return;
      const reply = this.#reply(query, "tcp");
      if (reply) await conn.write(Uint8Array.from([reply.length >> 8, reply.length & 0xff, ...reply]));
    } catch {
      return;
    } finally {
      try {
        conn.close();
      } catch {
        // Closed by stop().
      }
    }
  }

  #reply(wire: Uint8Array, transport: "udp" | "tcp"): Uint8Array | null {
    const query = dnsPacket.decode(Buffer.from(wire));
    const q = query.questions[0];
    const opt = query.additionals.find((r: FakeRecord) => r.type === "OPT");
    this.seen.push({
      name: q.name,
      type: q.type,
      transport,
      dnssecOk: Boolean(opt && opt.flags & dnsPacket.DNSSEC_OK),
      checkingDisabled: Boolean(query.flags & dnsPacket.CHECKING_DISABLED),
    });
    const how = this.overrides.get(`${q.name.toLowerCase()}/${q.type}`) ?? {};
    if (how.silent) return null;
    const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE |
      (how.authenticated ? dnsPacket.AUTHENTIC_DATA : 0);
    const base = { type: "response", id: query.id, questions: [q], additionals: opt ? [{ ...opt, options: [] }] : [] };
    if (how.truncateUdp && transport === "udp") {
      return dnsPacket.encode({ ...base, flags: flags | dnsPacket.TRUNCATED_RESPONSE });
    }
    if (how.rcode) return dnsPacket.encode({ ...base, flags: flags | RCODES[how.rcode] });
    const found = resolveInZone(q.name, q.type);
    return dnsPacket.encode({
      ...base,
      flags: flags | found.rcode,
      answers: found.answers,
      authorities: found.answers.length === 0 || found.rcode !== 0 ? (how.noSoa ? [] : [negativeSoa()]) : [],
      additionals: [
        ...(found.answers.length ? [{ name: `ns.${ZONE}`, type: "A", ttl: 300, data: "192.0.2.53" }] : []),
        ...(how.oversizeUdp && transport === "udp")
          ? [{ name: `pad.${ZONE}`, type: "TXT", ttl: 300, data: Array.from({ length: 20 }, () => "x".repeat(250)) }]
          : [],
        ...base.additionals,
      ],
    });
  }
}

const RCODES = { SERVFAIL: 2, REFUSED: 5, FORMERR: 1, NXDOMAIN: 3 } as const;

/** RFC 2308 §3: the SOA of a negative answer carries TTL min(SOA TTL, MINIMUM). */
function negativeSoa(): FakeRecord {
  return { ...SOA, ttl: Math.min(SOA.ttl, SOA.data.minimum) };
}

/** Resolves like a recursive server would: CNAMEs and DNAMEs followed, chain included. */
function resolveInZone(qname: string, qtype: string): { rcode: number; answers: FakeRecord[] } {
  const answers: FakeRecord[] = [];
  let name = qname;
  for (let hop = 0; hop < 8; hop++) {
    const lower = name.toLowerCase();
    const here = RECORDS.filter((r) => r.name.toLowerCase() === lower);
    const exact = here.filter((r) => r.type === qtype);
    if (exact.length) return { rcode: 0, answers: [...answers, ...exact.map((r) => ({ ...r, name }))] };
    const cname = here.find((r) => r.type === "CNAME");
    if (cname) {
      answers.push({ ...cname, name });
      name = cname.data;
      continue;
    }
    const dname = RECORDS.find((r) => r.type === "DNAME" && lower.endsWith("." + r.name.toLowerCase()));
    if (dname) {
      const rewritten = name.slice(0, name.length - dname.name.length) + dname.data;
      answers.push(dname, { name, type: "CNAME", ttl: dname.ttl, data: rewritten });
      name = rewritten;
      continue;
    }
    const exists = here.length > 0 || RECORDS.some((r) => r.name.toLowerCase().endsWith("." + lower));
    return { rcode: exists || answers.length ? 0 : 3, answers };
  }
  return { rcode: 2, answers: [] };
}

async function readFull(conn: Deno.Conn, buf: Uint8Array): Promise<boolean> {
  let got = 0;
  while (got < buf.length) {
    const n = await conn.read(buf.subarray(got));
    if (n === null) return false;
    got += n;
  }
  return true;
}
