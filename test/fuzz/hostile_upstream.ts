/**
 * An upstream resolver for the DNS64 fuzzer that answers honestly only sometimes: over
 * UDP and TCP on one 127.0.0.1 port it picks, per query and by a seeded generator, an
 * honest answer or a hostile one (silence, damaged bytes, compression pointer loops,
 * counts of 65535, length lies, wrong ID, misplaced OPT records, random RCODEs, answers
 * of hundreds of records, TC=1 that sends the client to TCP, TCP length prefixes that
 * lie). Names starting with "alive-" are always answered honestly, so a liveness probe
 * is not at the mercy of the dice. A script replaces the dice for regression tests.
 */

import dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import { damage, lieCount, pointerTrap, questionEnd } from "./dns_mutate.ts";
import { Prng } from "./prng.ts";

/** The zone the honest answers come from. */
export const FUZZ_ZONE = "fuzz.example";

/** How a query may be answered. */
export const MODES = [
  "honest",
  "silent",
  "damage-after-question",
  "damage-anywhere",
  "pointer-trap",
  "count-lie",
  "rdlength-lie",
  "truncated",
  "wrong-id",
  "opt-games",
  "rcode",
  "many-records",
] as const;
/** One of {@link MODES}. */
export type Mode = typeof MODES[number];

/** TCP answers: honest, or a length prefix that promises more than comes, garbage, or a slammed door. */
const TCP_MODES = ["honest", "honest", "prefix-lie", "garbage", "close", "damage"] as const;

// deno-lint-ignore no-explicit-any
type Packet = any;

/** Honest zone data: A for *v4only, A and AAAA for *dual, 300 A for *many, a CNAME for *alias, NXDOMAIN else. */
function honest(query: Packet, many = false): Uint8Array {
  const q = query.questions[0];
  const name: string = q.name.toLowerCase();
  const answers: Packet[] = [];
  const a = (data: string) => ({ name: q.name, type: "A", ttl: 60, data });
  if (q.type === "A" && (name.endsWith("v4only." + FUZZ_ZONE) || name.endsWith("dual." + FUZZ_ZONE))) {
    answers.push(a("192.0.2.1"));
  }
  if (q.type === "AAAA" && name.endsWith("dual." + FUZZ_ZONE)) {
    answers.push({ name: q.name, type: "AAAA", ttl: 60, data: "2001:db8::1" });
  }
  if (q.type === "A" && (many || name.endsWith("many." + FUZZ_ZONE))) {
    for (let i = 0; i < 300; i++) answers.push(a(`198.51.100.${i % 250 + 1}`));
  }
  if (name.endsWith("alias." + FUZZ_ZONE)) {
    answers.push({ name: q.name, type: "CNAME", ttl: 60, data: `v4only.${FUZZ_ZONE}` });
  }
  const known = /(v4only|dual|many|alias)\.fuzz\.example$/.test(name);
  const soa = {
    name: FUZZ_ZONE,
    type: "SOA",
    ttl: 60,
    data: {
      mname: `ns.${FUZZ_ZONE}`,
      rname: `admin.${FUZZ_ZONE}`,
      serial: 1,
      refresh: 60,
      retry: 60,
      expire: 60,
      minimum: 30,
    },
  };
  return new Uint8Array(dnsPacket.encode({
    type: "response",
    id: query.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known || answers.length ? 0 : 3),
    questions: [q],
    answers,
    authorities: answers.length ? [] : [soa],
    additionals: query.additionals.filter((r: Packet) => r.type === "OPT").map((r: Packet) => ({ ...r, options: [] })),
  }));
}

/** The answer for `mode` (null: say nothing). */
function answer(query: Packet, mode: Mode, rng: Prng, tcp: boolean): Uint8Array | null {
  const good = honest(query, mode === "many-records");
  const qEnd = questionEnd(good);
  switch (mode) {
    case "honest":
    case "many-records":
      return good;
    case "silent":
      return null;
    case "damage-after-question":
      return damage(good, rng, qEnd);
    case "damage-anywhere":
      return damage(good, rng);
    case "pointer-trap":
      return pointerTrap(good, qEnd < good.length ? qEnd : 12, rng);
    case "count-lie":
      return lieCount(good, rng);
    case "rdlength-lie": {
      const out = good.slice();
      // The first record's RDLENGTH sits 8 bytes after its (uncompressed or pointer) owner name.
      const at = qEnd + (out[qEnd] >= 0xc0 ? 2 : out.indexOf(0, qEnd) - qEnd + 1) + 8;
      if (at + 1 < out.length) {
        const v = rng.pick([0, 1, 3, 17, 255, 0xffff]);
        out[at] = v >> 8;
        out[at + 1] = v & 0xff;
      }
      return out;
    }
    case "truncated": {
      if (tcp) return good;
      const out = good.slice(0, rng.below(2) ? qEnd : good.length);
      out[2] |= 0x02;
      return out;
    }
    case "wrong-id": {
      const out = good.slice();
      out[1] ^= 1 + rng.below(255);
      return out;
    }
    case "opt-games": {
      const opt = Uint8Array.of(0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0);
      const twice = Uint8Array.from([...good, ...opt, ...opt]);
      twice[11] += 2;
      return twice;
    }
    case "rcode": {
      const out = good.slice();
      out[3] = (out[3] & 0xf0) | rng.below(16);
      return out;
    }
  }
}

/** Names whose recent answers are kept, and answers kept per name (bounded, so the heap stays flat). */
const SENT_NAMES = 256;
const SENT_PER_NAME = 4;

/** A fixed way to answer, for regression tests: the query's bytes in, the answer out (null: silence). */
export type Script = (query: Uint8Array, tcp: boolean) => Uint8Array | null;

/** The hostile resolver. */
export class HostileUpstream {
  /** How many answers of each mode were sent (or withheld). */
  readonly modes = new Map<string, number>();
  /** The last answers sent per lower-cased name, for findings; the oldest name goes first when full. */
  readonly #sent = new Map<string, Uint8Array[]>();
  readonly port: number;
  readonly #udp: dgram.Socket;
  readonly #tcp: Deno.TcpListener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #loop: Promise<void>;
  readonly #rng: Prng;
  readonly #script: Script | null;
  /** When false, every query is answered honestly. */
  hostile = true;

  private constructor(udp: dgram.Socket, tcp: Deno.TcpListener, port: number, seed: number, script: Script | null) {
    this.#udp = udp;
    this.#tcp = tcp;
    this.port = port;
    this.#rng = new Prng(seed);
    this.#script = script;
    udp.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
      const reply = this.#reply(new Uint8Array(msg), false);
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    });
    this.#loop = this.#accept();
  }

  /** Starts on a free port (the same one for UDP and TCP); with `script`, every answer comes from it. */
  static async start(seed: number, script: Script | null = null): Promise<HostileUpstream> {
    for (;;) {
      const udp = dgram.createSocket("udp4");
      const port = await new Promise<number>((resolve) => udp.bind(0, "127.0.0.1", () => resolve(udp.address().port)));
      try {
        return new HostileUpstream(udp, Deno.listen({ hostname: "127.0.0.1", port }), port, seed, script);
      } catch {
        udp.close();
      }
    }
  }

  /** "127.0.0.1:PORT". */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Closes every socket. */
  async stop(): Promise<void> {
    this.#udp.close();
    this.#tcp.close();
    for (const c of this.#conns) c.close();
    await this.#loop;
  }

  /** The answers sent lately for `name` (any case), oldest first. */
  sentFor(name: string): Uint8Array[] {
    return this.#sent.get(name.toLowerCase()) ?? [];
  }

  #remember(name: string, reply: Uint8Array): void {
    const key = name.toLowerCase();
    const list = this.#sent.get(key) ?? [];
    this.#sent.delete(key);
    this.#sent.set(key, [...list.slice(-(SENT_PER_NAME - 1)), reply]);
    if (this.#sent.size > SENT_NAMES) this.#sent.delete(this.#sent.keys().next().value!);
  }

  #count(mode: string): void {
    this.modes.set(mode, (this.modes.get(mode) ?? 0) + 1);
  }

  #reply(wire: Uint8Array, tcp: boolean): Uint8Array | null {
    if (this.#script) return this.#script(wire, tcp);
    let query: Packet;
    try {
      query = dnsPacket.decode(Buffer.from(wire));
    } catch {
      return null;
    }
    if (!query.questions?.length) return null;
    const alive = String(query.questions[0].name).toLowerCase().startsWith("alive-");
    const mode: Mode = !this.hostile || alive ? "honest" : this.#rng.pick(MODES);
    this.#count(mode);
    const reply = answer(query, mode, this.#rng, tcp);
    if (reply) this.#remember(String(query.questions[0].name), reply);
    return reply;
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
      const head = await readFull(conn, 2);
      const query = head && await readFull(conn, (head[0] << 8) | head[1]);
      if (!query) return;
      const reply = this.#reply(query, true);
      if (!reply) return;
      const how = this.hostile && !this.#script ? this.#rng.pick(TCP_MODES) : "honest";
      this.#count(`tcp-${how}`);
      if (how === "close") return;
      const body = how === "garbage"
        ? this.#rng.bytes(this.#rng.range(0, 40))
        : how === "damage"
        ? damage(reply, this.#rng)
        : reply;
      const declared = how === "prefix-lie" ? Math.min(0xffff, body.length + this.#rng.range(1, 1000)) : body.length;
      await conn.write(Uint8Array.from([declared >> 8, declared & 0xff, ...body]));
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
}

async function readFull(conn: Deno.Conn, n: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) return null;
    got += r;
  }
  return out;
}
