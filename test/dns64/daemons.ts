/**
 * Starts Debian's nsd (authoritative) and unbound (with its dns64 module) on loopback
 * high ports in a temporary directory, for the integration and differential tests and
 * the benchmark. Every start returns a handle whose stop() kills the process and removes
 * the directory.
 */

import dgram from "node:dgram";
import { exchange } from "./client.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** The zones of the fixtures directory, with the file that holds each. */
export const ZONES = [
  { name: "dns64.example", file: "dns64.example.zone" },
  { name: "2.0.192.in-addr.arpa", file: "2.0.192.in-addr.arpa.zone" },
];

/** A running daemon. */
export interface Daemon {
  readonly port: number;
  /** Its process id (the benchmark pins it to a CPU). */
  readonly pid: number;
  stop(): Promise<void>;
}

/** The path of `name` in the usual binary directories, or null when it is not installed. */
export function findBinary(name: string): string | null {
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"]) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      continue;
    }
  }
  return null;
}

/** The first of `names` that is missing, for a skip message. */
export function missingBinary(...names: string[]): string | null {
  return names.find((n) => findBinary(n) === null) ?? null;
}

/**
 * A port free for both UDP and TCP on 127.0.0.1 at the time of asking, taken below the
 * kernel's ephemeral range (32768 and up) so that client sockets do not grab it before the
 * daemon binds it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    let tcp: Deno.Listener;
    try {
      tcp = Deno.listen({ hostname: "127.0.0.1", port });
    } catch {
      continue;
    }
    tcp.close();
    const udp = dgram.createSocket("udp4");
    const free = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, "127.0.0.1", () => resolve(true));
    });
    udp.close();
    if (free) return port;
  }
}

/** A zone given as text, named after its origin. */
export interface ExtraZone {
  readonly name: string;
  readonly text: string;
}

/** nsd serving the fixture zones, and `extra` zones, on 127.0.0.1. */
export async function startNsd(extra: readonly ExtraZone[] = []): Promise<Daemon> {
  const zones = [...ZONES, ...extra.map((z) => ({ name: z.name, file: `${z.name}.zone` }))];
  return await withRetries("nsd", async (dir, port) => {
    for (const z of ZONES) await Deno.copyFile(new URL(z.file, FIXTURES), `${dir}/${z.file}`);
    for (const z of extra) await Deno.writeTextFile(`${dir}/${z.name}.zone`, z.text);
    await Deno.writeTextFile(
      `${dir}/nsd.conf`,
      `server:
  ip-address: 127.0.0.1@${port}
  port: ${port}
  zonesdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  database: ""
  username: ""
  xfrdfile: "${dir}/xfrd.state"
  zonelistfile: "${dir}/zone.list"
  logfile: "${dir}/daemon.log"
  server-count: 1
  tcp-count: 100
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
  verbosity: 0
remote-control:
  control-enable: no
${zones.map((z) => `zone:\n  name: ${z.name}\n  zonefile: ${z.file}\n`).join("")}`,
    );
    return ["-d", "-c", `${dir}/nsd.conf`];
  });
}

/** Options of an unbound instance. */
export interface UnboundOptions {
  /** Zones delegated to an authoritative server on 127.0.0.1 (stub zones). */
  readonly stubs: { name: string; port: number }[];
  /** The dns64-prefix; the module is loaded only when given. */
  readonly dns64Prefix?: string;
}

/** unbound with one thread, optionally running the dns64 module. */
export async function startUnbound(options: UnboundOptions): Promise<Daemon> {
  const dns64 = options.dns64Prefix
    ? `  module-config: "dns64 iterator"\n  dns64-prefix: ${options.dns64Prefix}\n`
    : `  module-config: "iterator"\n`;
  return await withRetries("unbound", async (dir, port) => {
    await Deno.writeTextFile(
      `${dir}/unbound.conf`,
      `server:
  interface: 127.0.0.1@${port}
  port: ${port}
  num-threads: 1
  so-reuseport: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  logfile: "${dir}/daemon.log"
  verbosity: 0
  do-not-query-localhost: no
  qname-minimisation: no
  access-control: 127.0.0.0/8 allow
  local-zone: "2.0.192.in-addr.arpa." nodefault
  local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
${dns64}remote-control:
  control-enable: no
${options.stubs.map((s) => `stub-zone:\n  name: "${s.name}"\n  stub-addr: 127.0.0.1@${s.port}\n`).join("")}`,
    );
    return ["-d", "-c", `${dir}/unbound.conf`];
  });
}

/**
 * Starts `name` in a fresh temporary directory on a free port, with the arguments
 * `configure` writes the config for, and waits until it answers. A port taken in the
 * meantime makes the daemon exit; then another port is tried.
 */
async function withRetries(name: string, configure: (dir: string, port: number) => Promise<string[]>): Promise<Daemon> {
  const binary = findBinary(name)!;
  let lastError = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = await Deno.makeTempDir({ prefix: `dns64-${name}-` });
    const port = await freePort();
    const args = await configure(dir, port);
    const daemon = await launch(binary, args, dir, port, "v4only.dns64.example");
    if (typeof daemon !== "string") return daemon;
    lastError = daemon;
  }
  throw new Error(`${name} did not start on loopback: ${lastError}`);
}

/**
 * Starts `binary` and waits until it answers an A query for `probe`. Returns the reason
 * (its log) when it exits first or does not answer within 20 s.
 */
async function launch(
  binary: string,
  args: string[],
  dir: string,
  port: number,
  probe: string,
): Promise<Daemon | string> {
  const child = new Deno.Command(binary, { args, stdout: "null", stderr: "piped" }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  child.status.then(() => (exited = true));
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await stderr;
    await Deno.remove(dir, { recursive: true });
  };
  const query = probeQuery(probe);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !exited) {
    if (await exchange(port, query, "udp", 200)) return { port, pid: child.pid, stop };
  }
  const log = await Deno.readTextFile(`${dir}/daemon.log`).catch(() => "");
  await stop();
  return `${(await stderr).trim()} ${log.trim()}`.trim();
}

function probeQuery(name: string): Uint8Array {
  const labels = name.split(".").flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  return Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}

/** Output of one dig run. */
export interface DigResult {
  readonly status: string;
  readonly flags: string[];
  /** Answer lines as "name type data" (TTL left out), names lower-cased. */
  readonly answers: string[];
  /** TTLs of the answer lines, in order. */
  readonly ttls: number[];
}

/** Runs dig against 127.0.0.1:`port` and parses its header and answer section. */
export async function dig(port: number, name: string, type: string, ...extra: string[]): Promise<DigResult> {
  const out = await new Deno.Command(findBinary("dig")!, {
    args: [
      `@127.0.0.1`,
      "-p",
      String(port),
      name,
      type,
      "+noall",
      "+comments",
      "+answer",
      "+tries=1",
      "+time=3",
      ...extra,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const status = /status: (\w+)/.exec(text)?.[1] ?? "NONE";
  const flags = (/;; flags: ([a-z ]+);/.exec(text)?.[1] ?? "").trim().split(" ");
  const answers: string[] = [];
  const ttls: number[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith(";") || line.trim() === "") continue;
    const [owner, ttl, , rtype, ...data] = line.split(/\s+/);
    answers.push(`${owner.toLowerCase()} ${rtype} ${data.join(" ").toLowerCase()}`);
    ttls.push(Number(ttl));
  }
  return { status, flags, answers, ttls };
}
