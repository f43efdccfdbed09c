/**
 * Router Advertisements carrying the PREF64 option (RFC 8781) on one LAN interface:
 * unsolicited ones on the RFC 4861 §6.2.4 schedule, answers to Router Solicitations
 * (§6.2.6, rate-limited), and on stop a final one with zero lifetimes (§6.2.5) so hosts
 * stop using a prefix nobody translates any more.
 *
 * The gateway is not meant to be the hosts' default router unless configured: the
 * Router Lifetime defaults to 0, which RFC 4861 §4.2 defines as "not a default router",
 * while the PREF64 option is still processed (RFC 8781 §5 does not depend on it).
 *
 * @module
 */

import { formatIPv6, type Prefix } from "../net/ip.ts";
import type { Logger } from "../control/logger.ts";
import { describeErrno } from "../tun/libc.ts";
import { Icmp6Socket } from "./icmp6_socket.ts";
import { readLinkFacts } from "./link.ts";
import { encodePref64Option, MAX_PREF64_LIFETIME_S } from "./option.ts";
import { buildRouterAdvertisement, isValidRouterSolicitation } from "./ra.ts";
import { DEFAULT_MAX_RTR_ADV_INTERVAL_S, nextUnsolicitedDelayMs, solicitedDelayMs } from "./schedule.ts";

/** ff02::1, all nodes on the link: where every advertisement goes (RFC 4861 §6.2.6 multicasts answers too). */
const ALL_NODES = new Uint8Array([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
/** How soon to look again for the interface's link-local address while it is missing or tentative. */
const SOURCE_RETRY_MS = 1000;

/** What to advertise where. */
export interface Pref64Options {
  /** The LAN interface hosts are on. */
  interface: string;
  /** The NAT64 prefix (an RFC 6052 length). */
  prefix: Prefix;
  /** MaxRtrAdvInterval in seconds (default 600). */
  intervalS?: number;
  /** PREF64 lifetime in seconds (default 3 × the interval, at most 65528: RFC 8781 §4.1). */
  lifetimeS?: number;
  /** Router Lifetime in seconds; 0 (default) means "not a default router". */
  routerLifetimeS?: number;
  /** Where sends, failures and the source address are logged. */
  logger?: Logger;
  /** A number in [0, 1) for the RFC 4861 jitter (default Math.random). */
  random?: () => number;
  /** libc to call the socket functions in. */
  libcPath?: string;
}

/** The PREF64 lifetime when none is configured: 3 × MaxRtrAdvInterval, within the option's range. */
export function defaultPref64LifetimeS(intervalS: number): number {
  return Math.min(3 * intervalS, MAX_PREF64_LIFETIME_S);
}

const isUnspecified = (addr: Uint8Array) => addr.every((b) => b === 0);

/** Sends PREF64 router advertisements on one interface; see the module comment. */
export class Pref64Advertiser {
  readonly #ifname: string;
  readonly #prefix: Prefix;
  readonly #intervalS: number;
  readonly #lifetimeS: number;
  readonly #routerLifetimeS: number;
  readonly #logger?: Logger;
  readonly #random: () => number;
  readonly #libcPath?: string;
  #socket?: Icmp6Socket;
  #linkAddress?: Uint8Array;
  #bound = false;
  #running = false;
  #receiving?: Promise<void>;
  #sending?: Promise<void>;
  #unsolicitedTimer?: ReturnType<typeof setTimeout>;
  #unsolicitedAtMs = Infinity;
  #solicitedTimer?: ReturnType<typeof setTimeout>;
  #lastMulticastMs?: number;
  #unsolicitedSent = 0;
  #sourceWarned = false;
  #raSent = 0n;
  #raAnswers = 0n;
  #rsReceived = 0n;
  #rsInvalid = 0n;
  #sendErrors = 0n;

  /** Checks the options (the encoders throw one sentence on a bad prefix or lifetime). */
  constructor(options: Pref64Options) {
    this.#ifname = options.interface;
    this.#prefix = options.prefix;
    this.#intervalS = options.intervalS ?? DEFAULT_MAX_RTR_ADV_INTERVAL_S;
    this.#lifetimeS = options.lifetimeS ?? defaultPref64LifetimeS(this.#intervalS);
    this.#routerLifetimeS = options.routerLifetimeS ?? 0;
    this.#logger = options.logger;
    this.#random = options.random ?? Math.random;
    this.#libcPath = options.libcPath;
    this.#advertisement(false);
  }

  /** Opens the socket and starts advertising; throws one sentence if the socket or the interface cannot be had. */
  async start(): Promise<void> {
    if (this.#running) return;
    const facts = await readLinkFacts(this.#ifname);
    this.#linkAddress = facts.mac;
    this.#socket = Icmp6Socket.open(this.#ifname, this.#libcPath);
    this.#running = true;
    if (this.#lifetimeS < this.#intervalS || this.#lifetimeS < this.#routerLifetimeS) {
      // RFC 8781 §4.1: a prefix that expires before the next RA, or before the router does, flaps.
      this.#logger?.warn("the PREF64 lifetime is shorter than the RA interval or the router lifetime", {
        lifetime_s: this.#lifetimeS,
        interval_s: this.#intervalS,
        router_lifetime_s: this.#routerLifetimeS,
      });
    }
    this.#logger?.info("advertising PREF64", {
      interface: this.#ifname,
      prefix: `${formatIPv6(this.#prefix.addr)}/${this.#prefix.length}`,
      lifetime_s: this.#lifetimeS,
      interval_s: this.#intervalS,
      router_lifetime_s: this.#routerLifetimeS,
    });
    this.#receiving = this.#receiveLoop(this.#socket);
    await this.#sendMulticast();
  }

  /** Sends the final advertisement (zero lifetimes), stops the timers and closes the socket. */
  async stop(): Promise<void> {
    if (!this.#running || !this.#socket) return;
    this.#running = false;
    clearTimeout(this.#unsolicitedTimer);
    clearTimeout(this.#solicitedTimer);
    await this.#sending;
    if (this.#bound) this.#send(this.#advertisement(true));
    this.#socket.wake();
    await this.#receiving;
    this.#socket.close();
    this.#socket = undefined;
  }

  /** Advertisements sent (and how many answered solicitations), solicitations received and refused, send failures. */
  counters(): Record<string, bigint> {
    return {
      pref64_ra_sent: this.#raSent,
      pref64_ra_answers: this.#raAnswers,
      pref64_rs_received: this.#rsReceived,
      pref64_rs_invalid: this.#rsInvalid,
      pref64_ra_send_errors: this.#sendErrors,
    };
  }

  /** The ICMPv6 message; `final` zeroes both lifetimes (RFC 4861 §6.2.5, RFC 8781 §4). */
  #advertisement(final: boolean): Uint8Array {
    return buildRouterAdvertisement({
      routerLifetimeS: final ? 0 : this.#routerLifetimeS,
      linkAddress: this.#linkAddress,
      options: [encodePref64Option(this.#prefix, final ? 0 : this.#lifetimeS)],
    });
  }

  /**
   * Binds the socket to the interface's link-local address once one is usable (RFC 4861
   * §4.2: RAs come from link-local). Until then nothing is sent and the caller retries.
   */
  async #haveSource(): Promise<boolean> {
    if (this.#bound) return true;
    let source: Uint8Array | undefined;
    try {
      const facts = await readLinkFacts(this.#ifname);
      source = facts.linkLocal;
      this.#linkAddress = facts.mac;
    } catch (err) {
      this.#logger?.warn("cannot read the interface's addresses", {
        interface: this.#ifname,
        error: (err as Error).message,
      });
    }
    if (source && this.#running) {
      try {
        this.#socket!.bindSource(source);
        this.#bound = true;
        this.#logger?.info("router advertisements from", { interface: this.#ifname, source: formatIPv6(source) });
        return true;
      } catch (err) {
        this.#logger?.debug("link-local address not usable yet", { error: (err as Error).message });
      }
    }
    if (!this.#sourceWarned) {
      this.#sourceWarned = true;
      this.#logger?.warn("no usable link-local address on the interface yet; router advertisements wait for one", {
        interface: this.#ifname,
      });
    }
    return false;
  }

  #send(message: Uint8Array): boolean {
    const rc = this.#socket!.send(message, ALL_NODES);
    if (rc < 0) {
      this.#sendErrors++;
      this.#logger?.warn("router advertisement not sent", { interface: this.#ifname, error: describeErrno(-rc) });
      return false;
    }
    this.#raSent++;
    return true;
  }

  /**
   * Sends one multicast advertisement now and resets the unsolicited timer, which RFC
   * 4861 §6.2.4 asks after every multicast RA, solicited or not. Only unsolicited ones
   * count towards the first three that come at most 16 s apart.
   */
  #sendMulticast(answer = false): Promise<void> {
    this.#sending = this.#multicastOnce(answer);
    return this.#sending;
  }

  async #multicastOnce(answer: boolean): Promise<void> {
    clearTimeout(this.#unsolicitedTimer);
    let delayMs = SOURCE_RETRY_MS;
    if (this.#running && await this.#haveSource() && this.#running) {
      if (this.#send(this.#advertisement(false)) && answer) this.#raAnswers++;
      this.#lastMulticastMs = performance.now();
      if (!answer) this.#unsolicitedSent++;
      delayMs = nextUnsolicitedDelayMs(this.#intervalS, this.#unsolicitedSent, this.#random);
    }
    if (!this.#running) return;
    this.#unsolicitedAtMs = performance.now() + delayMs;
    this.#unsolicitedTimer = setTimeout(() => this.#sendMulticast(), delayMs);
  }

  /** Schedules the answer to a valid solicitation (RFC 4861 §6.2.6). */
  #solicited(): void {
    // Without a source address there is nothing to answer with; the retry loop advertises once there is.
    if (!this.#bound) return;
    if (this.#solicitedTimer !== undefined) return; // One answer covers every solicitation until it is sent.
    const now = performance.now();
    const delayMs = solicitedDelayMs(now, this.#lastMulticastMs, this.#random);
    if (now + delayMs >= this.#unsolicitedAtMs) return; // The next unsolicited RA comes first and answers it.
    this.#solicitedTimer = setTimeout(() => {
      this.#solicitedTimer = undefined;
      this.#sendMulticast(true);
    }, delayMs);
  }

  async #receiveLoop(socket: Icmp6Socket): Promise<void> {
    while (this.#running) {
      const ready = await socket.wait();
      if (ready === "failed") {
        this.#logger?.error("the router advertisement socket failed; solicitations are no longer answered", {
          interface: this.#ifname,
        });
        return;
      }
      if (ready === "woken") continue;
      try {
        for (let m = socket.receive(); m; m = socket.receive()) {
          this.#rsReceived++;
          if (isValidRouterSolicitation(m.message, m.hopLimit, isUnspecified(m.source))) this.#solicited();
          else this.#rsInvalid++;
        }
      } catch (err) {
        this.#logger?.error("router solicitations can no longer be received; unsolicited advertisements go on", {
          interface: this.#ifname,
          error: (err as Error).message,
        });
        return;
      }
    }
  }
}
