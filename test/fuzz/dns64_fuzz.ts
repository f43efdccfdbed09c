/**
 * The DNS64 fuzzer: a `Dns64Server` on loopback in front of a `HostileUpstream`, fed
 * rounds of generated, broken and damaged queries over UDP and pipelined TCP. Every
 * answer is judged (`dns_queries.ts`), a good query must still be answered after every
 * round, over UDP and TCP, and the heap is measured after a full GC once per round.
 * Deterministic in what it sends for a seed (round `r` draws from `subSeed(seed, r)`);
 * the hostile upstream's choices follow arrival order.
 */

import dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import v8 from "node:v8";
import vm from "node:vm";
import { Dns64Server } from "../../src/dns64/server.ts";
import { HostileUpstream } from "./hostile_upstream.ts";
import { checkAnswer, drawQuery, FUZZ_PREFIX, type FuzzQuery, SERVER_EDNS_SIZE, stampId } from "./dns_queries.ts";
import { tcpConnection, type TcpEnding, udpRound } from "./dns_exchange.ts";
import { Prng, subSeed, toHex } from "./prng.ts";

/** One kind of problem, with a query that shows it. */
export interface DnsFinding {
  seed: number;
  round: number;
  transport: "udp" | "tcp" | "listener";
  how: string;
  queryHex: string;
  problem: string;
  hits: number;
  /** Hex of the upstream's latest answers for the query's name (the likely cause when the query was fine). */
  upstreamHex: string[];
}

/** How long and how wide a run is. */
export interface DnsRun {
  seed: number;
  /** Stop after this many rounds ... */
  rounds?: number;
  /** ... or at this `performance.now()` time. */
  deadline?: number;
  udpPerRound?: number;
  tcpPerRound?: number;
  onFinding?: (f: DnsFinding) => void;
}

/** What a run did. */
export interface DnsStats {
  rounds: number;
  queries: number;
  answers: number;
  seconds: number;
  findings: DnsFinding[];
  /** `heapUsed` after a full GC at the end of each round (empty when no GC could be had). */
  heap: number[];
  /** How the hostile upstream answered, by mode. */
  upstreamModes: Map<string, number>;
  /** Lines the listener wrote to `console.error` (it logs the internal errors it turned into SERVFAIL). */
  errorLines: number;
  /** The first of those lines. */
  firstErrorLine: string | null;
}

/** Waiting time for the answers of one round: synthesis asks upstream twice, each may time out and retry over TCP. */
const ROUND_WAIT_MS = 1500;

/** A full garbage collection, or null where V8 does not expose one. */
export function garbageCollector(): (() => void) | null {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    return typeof gc === "function" ? gc : null;
  } catch {
    return null;
  }
}

/** ID of the liveness queries. */
const ALIVE_ID = 0xa11e;
/** Liveness attempts before the listener counts as down: on a loaded machine one upstream answer may come late. */
const PROBE_ATTEMPTS = 3;

function aliveQuery(name: string): Uint8Array {
  return new Uint8Array(dnsPacket.encode({
    type: "query",
    id: ALIVE_ID,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: "AAAA", class: "IN" }],
  }));
}

/** Why an answer to the liveness query is wrong, or null. */
function aliveProblem(answer: Uint8Array | null | undefined): string | null {
  if (!answer) return "no answer to a good query";
  try {
    const m = dnsPacket.decode(Buffer.from(answer));
    // deno-lint-ignore no-explicit-any
    const aaaa = m.answers.filter((r: any) => r.type === "AAAA").map((r: any) => r.data);
    if (m.rcode !== "NOERROR" || aaaa.length !== 1 || aaaa[0] !== "2001:db8:64::c000:201") {
      return `a good query got ${m.rcode} with AAAA [${aaaa.join(", ")}]`;
    }
    return null;
  } catch (e) {
    return `the answer to a good query does not decode: ${(e as Error).message}`;
  }
}

/**
 * Asks a good query (a new name each time, which the upstream answers honestly) over
 * `transport`; null when one of {@link PROBE_ATTEMPTS} attempts is answered right.
 */
async function probe(port: number, round: number, transport: "udp" | "tcp"): Promise<string | null> {
  let problem: string | null = null;
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) {
    const query = aliveQuery(`alive-${round}-${transport}-${attempt}.v4only.fuzz.example`);
    const answer = transport === "udp"
      ? (await udpRound(port, [query], [true], ROUND_WAIT_MS)).answers[0]
      : (await tcpConnection(port, [query], "wait", 1, ROUND_WAIT_MS)).answers.get(ALIVE_ID);
    problem = aliveProblem(answer);
    if (!problem) return null;
  }
  return `${problem} (${PROBE_ATTEMPTS} attempts)`;
}

/** Runs the DNS64 fuzzer; the listener and the upstream live for the whole run. */
export async function runDns64Fuzz(run: DnsRun): Promise<DnsStats> {
  const upstream = await HostileUpstream.start(run.seed);
  const server = new Dns64Server({
    listen: ["127.0.0.1:0"],
    upstream: [upstream.address],
    prefix: [FUZZ_PREFIX],
    timeoutMs: 50,
    retries: 0,
    cacheSize: 64,
    ednsUdpSize: SERVER_EDNS_SIZE,
  });
  await server.start();
  const port = server.addresses()[0].port;
  const gc = garbageCollector();
  const stats: DnsStats = {
    rounds: 0,
    queries: 0,
    answers: 0,
    seconds: 0,
    findings: [],
    heap: [],
    upstreamModes: upstream.modes,
    errorLines: 0,
    firstErrorLine: null,
  };
  const byKind = new Map<string, DnsFinding>();
  const upstreamAnswers = (q: FuzzQuery | null) => {
    const name = q && questionName(q.bytes);
    return name ? upstream.sentFor(name).map(toHex) : [];
  };
  const report = (round: number, transport: DnsFinding["transport"], q: FuzzQuery | null, problem: string) => {
    const key = `${transport}|${q?.how.replace(/\S+\.fuzz\.example|\S+\.ip6\.arpa/, "NAME") ?? ""}|${
      problem.replace(/\d+/g, "#")
    }`;
    const known = byKind.get(key);
    if (known) return void known.hits++;
    const f: DnsFinding = {
      seed: run.seed,
      round,
      transport,
      how: q?.how ?? "",
      queryHex: q ? toHex(q.bytes) : "",
      problem,
      hits: 1,
      upstreamHex: upstreamAnswers(q),
    };
    byKind.set(key, f);
    stats.findings.push(f);
    run.onFinding?.(f);
  };
  const unhandled = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    report(stats.rounds, "listener", null, `an unhandled rejection escaped: ${String(e.reason?.message ?? e.reason)}`);
  };
  globalThis.addEventListener("unhandledrejection", unhandled);
  // Counted rather than printed: a hostile upstream makes the listener log on purpose.
  const consoleError = console.error;
  console.error = (...args: unknown[]) => {
    stats.errorLines++;
    stats.firstErrorLine ??= args.map(String).join(" ");
  };
  const started = performance.now();
  try {
    for (let r = 0; r < (run.rounds ?? Infinity); r++) {
      if (run.deadline !== undefined && performance.now() >= run.deadline) break;
      const rng = new Prng(subSeed(run.seed, r));
      let nextId = 1;
      const draw = () => {
        const q = drawQuery(rng);
        stampId(q.bytes, nextId++);
        return q;
      };
      const udp = Array.from({ length: run.udpPerRound ?? 60 }, draw);
      const tcp = Array.from({ length: run.tcpPerRound ?? 4 }, () => ({
        queries: Array.from({ length: rng.range(1, 12) }, draw),
        ending: rng.pick<TcpEnding>(["wait", "wait", "zero-length", "prefix-lie", "half-frame"]),
      }));
      const [udpResult, ...tcpResults] = await Promise.all([
        udpRound(port, udp.map((q) => q.bytes), udp.map((q) => q.expect.answer), ROUND_WAIT_MS),
        ...tcp.map((c) =>
          tcpConnection(
            port,
            c.queries.map((q) => q.bytes),
            c.ending,
            c.queries.filter((q) => q.expect.answer).length,
            ROUND_WAIT_MS,
          )
        ),
      ]);
      udp.forEach((q, i) => checkAnswer(q, udpResult.answers[i], "udp").forEach((p) => report(r, "udp", q, p)));
      if (udpResult.strays) report(r, "udp", null, `${udpResult.strays} UDP answer(s) matched no query`);
      tcp.forEach((c, k) => {
        const res = tcpResults[k];
        if (res.refused) return report(r, "tcp", null, "the listener refused a TCP connection");
        for (const q of c.queries) {
          const answer = q.bytes.length >= 2 ? res.answers.get((q.bytes[0] << 8) | q.bytes[1]) ?? null : null;
          checkAnswer(q, answer, "tcp").forEach((p) => report(r, "tcp", q, p));
        }
        if (res.strays) report(r, "tcp", null, `${res.strays} TCP answer(s) matched no query`);
      });
      stats.queries += udp.length + tcp.reduce((n, c) => n + c.queries.length, 0);
      stats.answers += udpResult.answers.filter(Boolean).length + tcpResults.reduce((n, t) => n + t.answers.size, 0);
      const [udpProblem, tcpProblem] = await Promise.all([probe(port, r, "udp"), probe(port, r, "tcp")]);
      if (udpProblem) report(r, "udp", null, `after round ${r}: ${udpProblem}`);
      if (tcpProblem) report(r, "tcp", null, `after round ${r}: ${tcpProblem}`);
      stats.rounds++;
      if (gc) {
        gc();
        gc();
        stats.heap.push(Deno.memoryUsage().heapUsed);
      }
    }
  } finally {
    console.error = consoleError;
    globalThis.removeEventListener("unhandledrejection", unhandled);
    await server.stop();
    await upstream.stop();
  }
  stats.seconds = (performance.now() - started) / 1000;
  return stats;
}

/** Least-squares slope of `samples` in units per sample (heap growth per round). */
export function slope(samples: number[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2, my = samples.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  samples.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

/** The question name of a query dns-packet can read, or null. */
function questionName(bytes: Uint8Array): string | null {
  try {
    return dnsPacket.decode(Buffer.from(bytes)).questions[0]?.name ?? null;
  } catch {
    return null;
  }
}

/** One line per finding (the upstream's answers for the name follow on their own lines). */
export function describeDnsFinding(f: DnsFinding): string {
  const query = f.queryHex ? `, query ${f.how} ${f.queryHex.slice(0, 200)}${f.queryHex.length > 200 ? "…" : ""}` : "";
  const upstream = f.upstreamHex.map((h) => `\n    upstream answered ${h.slice(0, 400)}${h.length > 400 ? "…" : ""}`)
    .join("");
  return `${f.transport}: ${f.problem} (seen ${f.hits}×) — seed ${f.seed} round ${f.round}${query}${upstream}`;
}
