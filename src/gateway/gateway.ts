/**
 * The running gateway: puts the pieces together and owns their lifetimes. The engine
 * translates; the TUN device and the datapath loop move packets; the control socket
 * and the metrics endpoint show what happens. Start-up fails with one sentence and
 * undoes what it had done; stop undoes everything in reverse order.
 *
 * @module
 */

import { Engine } from "../engine/engine.ts";
import { Libc } from "../tun/libc.ts";
import { TunDevice } from "../tun/device.ts";
import { Poller } from "../tun/poller.ts";
import { configureInterface } from "../tun/interface.ts";
import { checkMtuFitsSlots, type DatapathExit, DatapathStats, runDatapath } from "../datapath/loop.ts";
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
import { SessionTimers } from "../nat64/timers.ts";
import { SessionLog } from "../nat64/session_log.ts";
import { sessionLogOptions } from "../control/keys.ts";
import { Checkpoints, restoreState, saveState } from "../nat64/state_file.ts";

/** Packets per batch: enough to amortise the per-batch wait, small enough to keep latency low. */
const SLOTS = 64;
/** Slot bytes beyond the MTU: the engine's headroom for headers that grow. */
const SLOT_SPARE = 256;

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

/** A started gateway. */
export class Gateway {
  readonly #logger: Logger;
  readonly #engine: Engine;
  readonly #tun: TunDevice;
  readonly #poller: Poller;
  readonly #control: ControlServer;
  readonly #metrics?: MetricsServer;
  readonly #dns64?: Dns64Server;
  readonly #pref64?: Pref64Advertiser;
  readonly #stop = new AbortController();
  readonly #stats: DatapathStats;
  readonly #datapath: Promise<DatapathExit>;
  readonly #timers: SessionTimers;
  readonly #sessionLog: SessionLog;
  readonly #checkpoints?: Checkpoints;
  readonly view: GatewayView;
  #loaded: LoadedConfig;

  private constructor(
    parts: {
      logger: Logger;
      engine: Engine;
      tun: TunDevice;
      poller: Poller;
      control: ControlServer;
      metrics?: MetricsServer;
      dns64?: Dns64Server;
      pref64?: Pref64Advertiser;
      view: GatewayView;
      stats: DatapathStats;
      timers: SessionTimers;
      sessionLog: SessionLog;
      loaded: LoadedConfig;
    },
  ) {
    this.#logger = parts.logger;
    this.#engine = parts.engine;
    this.#tun = parts.tun;
    this.#poller = parts.poller;
    this.#control = parts.control;
    this.#metrics = parts.metrics;
    this.#dns64 = parts.dns64;
    this.#pref64 = parts.pref64;
    this.view = parts.view;
    this.#stats = parts.stats;
    this.#loaded = parts.loaded;
    this.#datapath = runDatapath({
      engine: this.#engine,
      port: this.#tun.memoryPort(this.#engine.memory),
      readiness: this.#poller,
      signal: this.#stop.signal,
      deviceName: this.#tun.name,
      stats: this.#stats,
    });
    this.#timers = parts.timers;
    this.#timers.start();
    this.#sessionLog = parts.sessionLog;
    this.#sessionLog.run(this.#loaded.config.operator.logSessions);
    const { stateFile, checkpointInterval } = this.#loaded.config.run;
    if (stateFile && checkpointInterval > 0) {
      this.#checkpoints = new Checkpoints(() => this.#saveState(stateFile), this.#logger);
      this.#checkpoints.start(checkpointInterval);
    }
  }

  /** Saves the NAT64 tables to `file` (on stop and at checkpoints). */
  async #saveState(file: string): Promise<void> {
    const saved = await saveState(this.#engine, file, performance.now());
    this.#logger.debug("NAT64 tables saved", { file, sessions: saved.sessions, bytes: saved.bytes });
  }

  /** Starts every part; on failure stops what had started and throws its one sentence. */
  static async start(loaded: LoadedConfig, logger: Logger): Promise<Gateway> {
    const { config } = loaded;
    const undo: (() => void | Promise<void>)[] = [];
    try {
      warnIfOwnAddressIsLocal(loaded, logger);
      const engine = Engine.create({
        slotCount: SLOTS,
        slotSize: config.run.tunMtu + SLOT_SPARE,
        sessionCapacity: config.translator.nat64.sessionCapacity,
      });
      engine.configure(withHostAddressesDenied(config.translator, config.run.tun, logger), {
        sessionEvents: config.operator.logSessions,
      });
      checkMtuFitsSlots(config.run.tunMtu, engine);
      if (config.run.stateFile && config.translator.mode === "nat64") {
        // Before any packet: the restored sessions keep their pool4 ports.
        const restored = await restoreState(engine, config.run.stateFile, performance.now(), logger);
        if (restored) logger.info("NAT64 tables restored", { file: config.run.stateFile, ...restored });
      }

      const libc = Libc.open(config.run.libc);
      const tun = TunDevice.open(libc, { name: config.run.tun });
      undo.push(() => tun.close());
      if (!config.run.noSetup) {
        await configureInterface(
          { name: tun.name, mtu: config.run.tunMtu, addresses: config.run.tunAddresses, routes: tunRoutes(config) },
          (args) => logger.debug("ip", { command: args.join(" ") }),
        );
      }
      const poller = new Poller(libc, tun.fd);
      undo.push(() => poller.close());

      const stats = new DatapathStats();
      const timers = new SessionTimers(engine, tun.memoryPort(engine.memory));
      const startedAt = new Date();
      // The view reads the config in force through the gateway, so a reload shows at once.
      // `let`, not `const`: a control request may read it before the gateway exists.
      // deno-lint-ignore prefer-const
      let gw: Gateway | undefined;
      const engineView = new EngineView(engine, stats, timers.stats, () => gw?.loaded ?? loaded, tun.name, startedAt);
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
      gw = new Gateway({
        logger,
        engine,
        tun,
        poller,
        control: control!,
        metrics,
        dns64,
        pref64,
        view,
        stats,
        timers,
        sessionLog: new SessionLog(engine, logger),
        loaded,
      });
      logger.info("gateway running", {
        tun: tun.name,
        mode: config.translator.mode,
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
   * would need the device re-created are reported and keep their old value.
   */
  reload(next: LoadedConfig): void {
    const old = this.#loaded.config;
    const restartOnly: string[] = (["tun", "tunMtu", "libc", "stateFile", "checkpointInterval"] as const).filter((k) =>
      old.run[k] !== next.config.run[k]
    );
    // The tables are laid out once, at start.
    if (old.translator.nat64.sessionCapacity !== next.config.translator.nat64.sessionCapacity) {
      restartOnly.push("sessionCapacity");
    }
    // Events so far are logged under the settings they happened under.
    this.#sessionLog.drain();
    const operator = next.config.operator;
    this.#engine.configure(withHostAddressesDenied(next.config.translator, this.#tun.name, this.#logger), {
      sessionEvents: operator.logSessions,
    });
    this.#logger.setSessionOptions(sessionLogOptions(operator));
    this.#sessionLog.run(operator.logSessions);
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

  /** Resolves when the datapath ends (stop, or the device vanished). */
  finished(): Promise<DatapathExit> {
    return this.#datapath;
  }

  /**
   * Stops the datapath and closes everything; returns why the datapath ended. With a
   * state file the NAT64 tables are saved first, so the next start restores them.
   */
  async stop(): Promise<DatapathExit> {
    this.#stop.abort();
    const exit = await this.#datapath;
    this.#timers.stop();
    this.#sessionLog.stop();
    await this.#checkpoints?.stop();
    const { stateFile } = this.#loaded.config.run;
    if (stateFile && this.#loaded.config.translator.mode === "nat64") {
      try {
        const saved = await saveState(this.#engine, stateFile, performance.now());
        this.#logger.info("NAT64 tables saved", { file: stateFile, sessions: saved.sessions });
      } catch (err) {
        this.#logger.error("NAT64 tables not saved", { reason: (err as Error).message });
      }
    }
    await this.#metrics?.close();
    await this.#dns64?.stop();
    // The last advertisement carries lifetime 0, so hosts stop using a prefix nobody translates.
    await this.#pref64?.stop();
    await this.#control.close();
    this.#poller.close();
    this.#tun.close();
    return exit;
  }
}
