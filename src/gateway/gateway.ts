/**
 * The running gateway: puts the pieces together and owns their lifetimes. Datapath
 * workers translate, one per TUN queue, each with its own engine (`src/datapath/`);
 * this thread keeps the control socket, the metrics endpoint, the DNS64 listener and
 * PREF64, which therefore answer at once however busy the datapath is. Start-up fails
 * with one sentence and undoes what it had done; stop undoes everything in reverse order.
 *
 * @module
 */

import { Libc } from "../tun/libc.ts";
import { TunDevice } from "../tun/device.ts";
import { configureInterface } from "../tun/interface.ts";
import type { DatapathExit } from "../datapath/loop.ts";
import { QueueWorker } from "../datapath/queue.ts";
import type { QueueInit } from "../datapath/protocol.ts";
import { type EngineConfig, UsoFamily } from "../engine/config_tlv.ts";
import { pool4Pairs } from "../engine/engine.ts";
import { ControlServer } from "../control/server.ts";
import { MetricsServer } from "../control/metrics.ts";
import type { Logger } from "../control/logger.ts";
import { type CounterSource, type GatewayView, withCounters } from "../control/view.ts";
import { type LoadedConfig, tunRoutes } from "./config.ts";
import { EngineView } from "./view.ts";
import { formatIP, formatPrefix, parseIP, type Prefix, prefixContains } from "../net/ip.ts";
import { MAX_DENY_V4, type TranslatorConfig } from "../config/schema.ts";
import { Dns64Server } from "../dns64/server.ts";
import type { Dns64Options } from "../dns64/options.ts";
import { Pref64Advertiser } from "../pref64/advertiser.ts";
import { pref64Options } from "../pref64/keys.ts";
import { sessionLogOptions } from "../control/keys.ts";
import { Checkpoints } from "../nat64/state_file.ts";

/** Packets per batch: enough to amortise the per-batch wait, small enough to keep latency low. */
const SLOTS = 64;
/** Slot bytes beyond the MTU: the engine's headroom for headers that grow. */
const SLOT_SPARE = 256;
/** Slots with offloads hold the largest super-packet the kernel hands over (64 KiB, the engine's limit). */
const OFFLOAD_SLOT_SIZE = 65600;

/**
 * The translator's own addresses are the sources of the ICMP errors it writes into the
 * TUN. If the host owns one of them, the kernel drops those errors as martians (a packet
 * arriving from outside with a local source), and traceroute or PMTUD silently break.
 */
function warnIfOwnAddressIsLocal(loaded: LoadedConfig, logger: Logger): void {
  const own = [loaded.config.translator.ipv4, loaded.config.translator.ipv6].filter((a) => a).map((a) => formatIP(a!));
  let local: string[];
  try {
    local = Deno.networkInterfaces().map((i) => i.address);
  } catch {
    return; // without --allow-sys the check is skipped, not the gateway
  }
  for (const addr of own.filter((a) => local.includes(a))) {
    logger.warn("the translator's own address belongs to this host: the kernel will drop the ICMP errors it sends", {
      address: addr,
      fix: "use an address of no local interface for ipv4/ipv6",
    });
  }
}

/**
 * RFC 6147 §5 is for the network the gateway serves, and the listener must not be an
 * open resolver: unless `allow-client` is given, it answers loopback and the IPv6
 * networks of this host's interfaces (the TUN's excepted).
 */
function withServedClients(options: Dns64Options, tun: string): Dns64Options {
  if (options.allowClient?.length) return options;
  const served = new Set<string>(["::1/128", "127.0.0.0/8"]);
  try {
    for (const i of Deno.networkInterfaces()) {
      if (i.family !== "IPv6" || i.name === tun || i.address.startsWith("fe80") || i.address === "::1") continue;
      served.add(formatPrefix(networkOf(i.address, i.cidr)));
    }
  } catch {
    // without --allow-sys only loopback is served: the safe side
  }
  return { ...options, allowClient: [...served] };
}

/** The network an interface address sits in. */
function networkOf(address: string, cidr: string): Prefix {
  const length = Number(cidr.slice(cidr.indexOf("/") + 1));
  const addr = Uint8Array.from(parseIP(address));
  for (let bit = length; bit < 128; bit++) addr[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { family: 6, addr, length };
}

/** The listener's counters under the `dns64_` names the control socket and metrics expect. */
function dns64Counters(server: Dns64Server): CounterSource {
  return {
    counters: () =>
      Object.fromEntries(
        Object.entries(server.counters()).map(([k, v]) => [
          `dns64_${k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase())}`,
          v,
        ]),
      ),
  };
}

/**
 * The translator must not be a way into the gateway host itself (issue of every
 * translator on an edge box: a client would reach the box's services through an address
 * of the other family). This host's own addresses, the TUN's excepted, join the deny
 * lists the engine applies to translated destinations; link-local and loopback are
 * refused by the engine already.
 */
function withHostAddressesDenied(t: TranslatorConfig, tun: string, logger: Logger): TranslatorConfig {
  let interfaces: Deno.NetworkInterfaceInfo[];
  try {
    interfaces = Deno.networkInterfaces();
  } catch {
    logger.warn("without --allow-sys the host's own addresses cannot be kept out of translation");
    return t;
  }
  const denyV4 = [...t.denyV4], denyV6 = [...t.denyV6];
  const pool4 = t.nat64.pool4.map((r) => r.prefix);
  for (const i of interfaces) {
    if (i.name === tun) continue;
    const addr = parseIP(i.address);
    // A stateful NAT64 hairpins its pool4 addresses (RFC 6146 §3.8), host's or not.
    if (addr.length === 4 && addr[0] !== 127 && !pool4.some((p) => prefixContains(p, addr))) {
      denyV4.push({ family: 4, addr, length: 32 });
    } else if (addr.length === 16 && addr[0] !== 0xfe && !(addr.every((b, k) => k === 15 ? b === 1 : b === 0))) {
      denyV6.push({ family: 6, addr, length: 128 });
    }
  }
  const fit = (list: Prefix[]) => {
    if (list.length > MAX_DENY_V4) logger.warn("more host addresses than the deny lists hold", { kept: MAX_DENY_V4 });
    return list.slice(0, MAX_DENY_V4);
  };
  return { ...t, denyV4: fit(denyV4), denyV6: fit(denyV6) };
}

/**
 * The configuration each of `queues` engines gets: the same translation, and an equal
 * share of the ICMP error rate, so that together they send no more than configured.
 */
function perQueue(t: TranslatorConfig, queues: number): TranslatorConfig {
  if (queues === 1) return t;
  return { ...t, icmpErrorsPerSecond: Math.max(1, Math.floor(t.icmpErrorsPerSecond / queues)) };
}

/**
 * What the engines are configured with: the translator keys, and what the TUN accepted
 * of the offloads: virtio-net headers at all, and UDP super-packets (USO, since
 * Linux 6.2) per output family, so a batch's datagrams of one flow leave in one write.
 */
function engineConfig(t: TranslatorConfig, tun: TunDevice): EngineConfig {
  const uso = (tun.offloads.includes("uso4") ? UsoFamily.IPV4 : 0) |
    (tun.offloads.includes("uso6") ? UsoFamily.IPV6 : 0);
  return { ...t, offloads: tun.offloads.length > 0, uso };
}

/** A started gateway. */
export class Gateway {
  readonly #logger: Logger;
  readonly #tun: TunDevice;
  readonly #queues: QueueWorker[];
  readonly #control: ControlServer;
  readonly #metrics?: MetricsServer;
  readonly #dns64?: Dns64Server;
  readonly #pref64?: Pref64Advertiser;
  readonly #finished: Promise<DatapathExit>;
  readonly #checkpoints?: Checkpoints;
  readonly view: GatewayView;
  #loaded: LoadedConfig;

  private constructor(
    parts: {
      logger: Logger;
      tun: TunDevice;
      queues: QueueWorker[];
      control: ControlServer;
      metrics?: MetricsServer;
      dns64?: Dns64Server;
      pref64?: Pref64Advertiser;
      view: GatewayView;
      loaded: LoadedConfig;
    },
  ) {
    this.#logger = parts.logger;
    this.#tun = parts.tun;
    this.#queues = parts.queues;
    this.#control = parts.control;
    this.#metrics = parts.metrics;
    this.#dns64 = parts.dns64;
    this.#pref64 = parts.pref64;
    this.view = parts.view;
    this.#loaded = parts.loaded;
    // The first queue to end ends the gateway: a device that went away took every queue.
    this.#finished = Promise.race(this.#queues.map((q) => q.finished));
    const { stateFile, checkpointInterval } = this.#loaded.config.run;
    if (stateFile && checkpointInterval > 0 && this.#loaded.config.translator.mode === "nat64") {
      this.#checkpoints = new Checkpoints(() => this.#saveState(stateFile), this.#logger);
      this.#checkpoints.start(checkpointInterval);
    }
  }

  /** Saves the NAT64 tables to `file` (on stop and at checkpoints); stateful NAT64 runs one queue. */
  async #saveState(file: string): Promise<void> {
    const saved = await this.#queues[0].save(file);
    this.#logger.debug("NAT64 tables saved", { file, sessions: saved.sessions, bytes: saved.bytes });
  }

  /** Starts every part; on failure stops what had started and throws its one sentence. */
  static async start(loaded: LoadedConfig, logger: Logger): Promise<Gateway> {
    const { config } = loaded;
    const undo: (() => void | Promise<void>)[] = [];
    try {
      warnIfOwnAddressIsLocal(loaded, logger);
      const libc = Libc.open(config.run.libc);
      const tun = TunDevice.open(libc, {
        name: config.run.tun,
        offloads: !config.run.noOffloads,
        queues: config.run.queues,
      });
      undo.push(() => tun.close());
      if (!config.run.noSetup) {
        await configureInterface(
          { name: tun.name, mtu: config.run.tunMtu, addresses: config.run.tunAddresses, routes: tunRoutes(config) },
          (args) => logger.debug("ip", { command: args.join(" ") }),
        );
      }
      const translator = perQueue(withHostAddressesDenied(config.translator, tun.name, logger), tun.fds.length);
      const vnet = tun.offloads.length > 0;
      const stateful = config.translator.mode === "nat64";
      const queues: QueueWorker[] = [];
      undo.push(async () => {
        for (const q of queues) await q.stop();
      });
      for (const [queue, fd] of tun.fds.entries()) {
        const init: QueueInit = {
          queue,
          fd,
          deviceName: tun.name,
          vnet,
          libcPath: config.run.libc,
          mtu: config.run.tunMtu,
          engine: {
            slotCount: SLOTS,
            slotSize: vnet ? OFFLOAD_SLOT_SIZE : config.run.tunMtu + SLOT_SPARE,
            sessionCapacity: stateful ? config.translator.nat64.sessionCapacity : 0,
            pool4Pairs: pool4Pairs(config.translator.nat64.pool4),
          },
          translator: engineConfig(translator, tun),
          options: { sessionEvents: config.operator.logSessions },
          restoreFrom: stateful ? config.run.stateFile : undefined,
        };
        queues.push(await QueueWorker.start(init, logger));
      }
      const restored = queues[0].restored;
      if (restored) logger.info("NAT64 tables restored", { file: config.run.stateFile, ...restored });

      const startedAt = new Date();
      // The view reads the config in force through the gateway, so a reload shows at once.
      // `let`, not `const`: a control request may read it before the gateway exists.
      // deno-lint-ignore prefer-const
      let gw: Gateway | undefined;
      const engineView = new EngineView(queues, () => gw?.loaded ?? loaded, tun.name, startedAt);
      const sources: CounterSource[] = [logger];
      let dns64: Dns64Server | undefined;
      if (config.dns64.listen.length) {
        const server = new Dns64Server(withServedClients(config.dns64, tun.name));
        await server.start();
        undo.push(() => server.stop());
        sources.push(dns64Counters(server));
        dns64 = server;
        logger.info("dns64 listening", { on: config.dns64.listen.join(", ") });
      }
      let pref64: Pref64Advertiser | undefined;
      const advertise = pref64Options(config.pref64, config.translator.pool6);
      if (advertise) {
        const advertiser = new Pref64Advertiser({ ...advertise, logger, libcPath: config.run.libc });
        await advertiser.start();
        undo.push(() => advertiser.stop());
        sources.push(advertiser);
        pref64 = advertiser;
      }
      // The control server counts its own requests, and its view shows them too
      // (`let`: the view is made before the server it counts).
      // deno-lint-ignore prefer-const
      let control: ControlServer | undefined;
      const view = withCounters(engineView, ...sources, { counters: () => control?.counters() ?? {} });
      control = new ControlServer(view, {
        path: config.operator.controlSocket,
        mode: config.operator.controlSocketMode,
        logger,
      });
      await control.start();
      undo.push(() => control!.close());

      let metrics: MetricsServer | undefined;
      if (config.operator.metricsListen) {
        metrics = new MetricsServer(view, { listen: config.operator.metricsListen, logger });
        metrics.start();
        undo.push(() => metrics!.close());
      }
      gw = new Gateway({ logger, tun, queues, control: control!, metrics, dns64, pref64, view, loaded });
      logger.info("gateway running", {
        tun: tun.name,
        mode: config.translator.mode,
        queues: queues.length,
        offloads: tun.offloads.length ? tun.offloads.join(",") : "off",
        control: control.path,
      });
      return gw;
    } catch (err) {
      for (const step of undo.reverse()) await step();
      throw err;
    }
  }

  /** The config in force. */
  get loaded(): LoadedConfig {
    return this.#loaded;
  }

  /**
   * Applies a new config where that needs no restart (the translator's keys); keys that
   * would need the device re-created are reported and keep their old value. A config
   * the engine refuses leaves the running one in force and rejects with its sentence.
   */
  async reload(next: LoadedConfig): Promise<void> {
    const old = this.#loaded.config;
    const restartOnly: string[] =
      (["tun", "tunMtu", "libc", "stateFile", "checkpointInterval", "queues", "noOffloads"] as const)
        .filter((k) => old.run[k] !== next.config.run[k]);
    // The tables are laid out once, at start.
    if (old.translator.nat64.sessionCapacity !== next.config.translator.nat64.sessionCapacity) {
      restartOnly.push("sessionCapacity");
    }
    const operator = next.config.operator;
    const translator = perQueue(
      withHostAddressesDenied(next.config.translator, this.#tun.name, this.#logger),
      this.#queues.length,
    );
    const config = engineConfig(translator, this.#tun);
    const options = { sessionEvents: operator.logSessions };
    // The first queue has the engine's word on the config before any queue changes.
    await this.#queues[0].configure(config, options);
    for (const q of this.#queues.slice(1)) await q.configure(config, options);
    this.#logger.setSessionOptions(sessionLogOptions(operator));
    this.#loaded = {
      ...next,
      config: {
        ...next.config,
        run: old.run,
        // The session log keys apply at once; the other operator keys need a restart.
        operator: {
          ...old.operator,
          logSessions: operator.logSessions,
          logSessionsRate: operator.logSessionsRate,
          logSessionsDestinations: operator.logSessionsDestinations,
        },
      },
    };
    this.#logger.info("configuration reloaded", { file: next.file });
    if (restartOnly.length) {
      this.#logger.warn("some keys only change on restart", { keys: restartOnly.join(", ") });
    }
  }

  /** Resolves when the datapath ends (stop, the device vanished, a worker died). */
  finished(): Promise<DatapathExit> {
    return this.#finished;
  }

  /**
   * Stops the datapath and closes everything; returns why the datapath ended. With a
   * state file the NAT64 tables are saved first, so the next start restores them.
   */
  async stop(): Promise<DatapathExit> {
    await this.#checkpoints?.stop();
    const { stateFile } = this.#loaded.config.run;
    if (stateFile && this.#loaded.config.translator.mode === "nat64") {
      try {
        const saved = await this.#queues[0].save(stateFile);
        this.#logger.info("NAT64 tables saved", { file: stateFile, sessions: saved.sessions });
      } catch (err) {
        this.#logger.error("NAT64 tables not saved", { reason: (err as Error).message });
      }
    }
    const exits = [];
    for (const q of this.#queues) exits.push(await q.stop());
    await this.#metrics?.close();
    await this.#dns64?.stop();
    // The last advertisement carries lifetime 0, so hosts stop using a prefix nobody translates.
    await this.#pref64?.stop();
    await this.#control.close();
    this.#tun.close();
    return exits.find((e) => e.reason !== "stopped") ?? exits[0];
  }
}
