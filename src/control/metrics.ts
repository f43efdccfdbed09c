/**
 * Prometheus metrics: the gateway's counters in the text exposition format (version
 * 0.0.4), served at `/metrics` on an address the operator opts into
 * (`--metrics-listen 127.0.0.1:9464`).
 *
 * Names come from the counter grammar of `counters.ts`: `in6_udp_packets` becomes
 * `nat64_packets_total{direction="in",side="ipv6",proto="udp"}`, `drop_ttl_expired`
 * becomes `nat64_drops_total{reason="ttl_expired"}`, `packets_in_v4` becomes
 * `nat64_packets_total{direction="in",side="ipv4",proto="all"}`; sessions and BIB
 * sizes are gauges.
 *
 * @module
 */

import { parseHostPort } from "../net/endpoint.ts";
import { classifyCounter } from "./counters.ts";
import type { Logger } from "./logger.ts";
import type { GatewayStatus, GatewayView } from "./view.ts";

/** Port used when `--metrics-listen` names only an address (9464: unassigned, near other exporters). */
export const DEFAULT_METRICS_PORT = 9464;

/** An address and port to listen on. */
export interface ListenAddress {
  /** Literal IPv4 or IPv6 address (no names: nothing is resolved at start-up). */
  hostname: string;
  /** TCP port; 0 lets the kernel choose (tests). */
  port: number;
}

/**
 * Parses `PORT`, `ADDR:PORT`, `[IPV6]:PORT`, `ADDR` or `[IPV6]`. A bare port listens on
 * 127.0.0.1: metrics reveal traffic volumes, so they stay on loopback unless an address
 * is named.
 */
export function parseListenAddress(text: string): ListenAddress {
  if (/^\d+$/.test(text)) text = `127.0.0.1:${text}`;
  // "::1:9464" is a valid address as well as an address and a port: refuse to guess.
  if (!text.startsWith("[") && (text.match(/:/g) ?? []).length > 1) {
    throw new Error(`"${text}" is ambiguous: write an IPv6 address in brackets ([IPV6]:PORT)`);
  }
  const e = parseHostPort(text);
  return { hostname: e.host, port: e.port ?? DEFAULT_METRICS_PORT };
}

/** A metric family: its samples share a name, a type and a help line. */
interface Family {
  type: "counter" | "gauge";
  help: string;
  samples: string[];
}

/** Escapes a label value (exposition format: backslash, double quote, newline). */
function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(pairs: Record<string, string | undefined>): string {
  const set = Object.entries(pairs).filter(([, v]) => v !== undefined);
  return set.length === 0 ? "" : `{${set.map(([k, v]) => `${k}="${labelValue(v as string)}"`).join(",")}}`;
}

/** A metric name from free text: only `[a-zA-Z0-9_]`, never starting with a digit. */
function metricName(text: string): string {
  const clean = text.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[0-9]/.test(clean) ? `_${clean}` : clean;
}

/** A counter's name ending in `_total` once (Prometheus convention). */
const total = (base: string) => (base.endsWith("_total") ? base : `${base}_total`);

const sideLabel = (family: 4 | 6) => (family === 4 ? "ipv4" : "ipv6");

/** The exposition text for `counters` and `status`. */
export function renderMetrics(status: GatewayStatus, counters: Record<string, number | bigint>): string {
  const families = new Map<string, Family>();
  const add = (name: string, type: Family["type"], help: string, labelText: string, value: number | bigint) => {
    let family = families.get(name);
    if (!family) families.set(name, family = { type, help, samples: [] });
    family.samples.push(`${name}${labelText} ${value}`);
  };
  add(
    "nat64_info",
    "gauge",
    "The running gateway: version, mode and TUN interface (always 1).",
    labels({ version: status.version, mode: status.mode, tun: status.tun }),
    1,
  );
  add(
    "nat64_start_time_seconds",
    "gauge",
    "When the gateway started, seconds since the Unix epoch.",
    "",
    Date.parse(status.startedAt) / 1000,
  );
  for (const name of Object.keys(counters).sort()) {
    const value = counters[name];
    const c = classifyCounter(name);
    switch (c.kind) {
      case "traffic":
        add(
          `nat64_${c.unit}_total`,
          "counter",
          `${c.unit === "bytes" ? "Bytes" : "Packets"} received (in) from or sent (out) to each side.`,
          labels({ direction: c.direction, side: sideLabel(c.family), proto: c.proto }),
          value,
        );
        break;
      case "translated":
        add(
          "nat64_translated_packets_total",
          "counter",
          "Packets translated, by direction.",
          labels({ direction: c.direction }),
          value,
        );
        break;
      case "drop":
        add("nat64_drops_total", "counter", "Packets dropped, by reason.", labels({ reason: c.reason }), value);
        break;
      case "icmp_error":
        add(
          "nat64_icmp_errors_sent_total",
          "counter",
          "ICMP errors the translator generated.",
          labels({ side: sideLabel(c.family), type: c.type }),
          value,
        );
        break;
      case "sessions":
        add("nat64_sessions", "gauge", "Sessions now (RFC 6146 §3.2).", labels({ proto: c.proto }), value);
        break;
      case "bib":
        add("nat64_bib_entries", "gauge", "BIB entries now (RFC 6146 §3.1).", labels({ proto: c.proto }), value);
        break;
      case "pool4":
        add(
          `nat64_pool4_${c.use}`,
          "gauge",
          c.use === "used" ? "pool4 transport addresses in use." : "pool4 transport addresses available in all.",
          labels({ proto: c.proto }),
          value,
        );
        break;
      case "dns64":
        add(total(`nat64_dns64_${metricName(c.name)}`), "counter", `DNS64 counter ${c.name}.`, "", value);
        break;
      case "other":
        add(total(`nat64_${metricName(c.name)}`), "counter", `Gateway counter ${c.name}.`, "", value);
        break;
    }
  }
  let text = "";
  for (const [name, f] of families) {
    text += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n${f.samples.join("\n")}\n`;
  }
  return text;
}

/** Options of {@link MetricsServer}. */
export interface MetricsServerOptions {
  /** Where to listen. */
  listen: ListenAddress;
  /** Where start-up and failures are logged. */
  logger?: Logger;
}

/** Serves `/metrics` over HTTP from a {@link GatewayView}. */
export class MetricsServer {
  readonly #view: GatewayView;
  readonly #options: MetricsServerOptions;
  readonly #stop = new AbortController();
  #server?: Deno.HttpServer<Deno.NetAddr>;

  constructor(view: GatewayView, options: MetricsServerOptions) {
    this.#view = view;
    this.#options = options;
  }

  /** The bound address (with the real port when 0 was asked for); valid after start. */
  get address(): Deno.NetAddr {
    if (!this.#server) throw new Error("the metrics server is not started");
    return this.#server.addr;
  }

  /** Starts listening; throws one sentence naming the address if it cannot. */
  start(): void {
    const { hostname, port } = this.#options.listen;
    try {
      this.#server = Deno.serve(
        { hostname, port, signal: this.#stop.signal, onListen: () => {} },
        (req) => this.#handle(req),
      );
    } catch (err) {
      throw new Error(`cannot serve metrics on ${hostname}:${port}: ${(err as Error).message}`);
    }
    this.#options.logger?.info("metrics listening", {
      url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${this.address.port}/metrics`,
    });
  }

  /** Stops serving. */
  async close(): Promise<void> {
    if (!this.#server) return;
    this.#stop.abort();
    await this.#server.finished;
    this.#server = undefined;
  }

  #handle(req: Request): Response {
    if (new URL(req.url).pathname !== "/metrics") {
      return new Response("only /metrics is served here\n", { status: 404 });
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("use GET\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    try {
      const body = renderMetrics(this.#view.status(), this.#view.counters());
      return new Response(body, { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
    } catch (err) {
      this.#options.logger?.warn("metrics could not be read from the gateway", { error: (err as Error).message });
      return new Response(`the gateway could not report its counters: ${(err as Error).message}\n`, { status: 500 });
    }
  }
}
