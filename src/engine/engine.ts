/**
 * The translation engine as the host sees it: loads the WebAssembly module built from
 * `wasm/`, and is the only TypeScript that knows its ABI (documented in
 * `wasm/src/lib.rs`). Everything else passes packets through the slot views this class
 * hands out, so packet bytes are never copied in JavaScript.
 *
 * The module bytes are part of the module graph (see `module.ts`), so `deno compile`
 * embeds them; each `Engine` is its own instance with its own memory.
 *
 * @module
 */

import { engineModule } from "./module.ts";
import type { Pool4Range } from "../config/schema.ts";
import { prefixContains } from "../net/ip.ts";
import { encodeTranslatorConfig, type EngineConfig, TAG, type TlvWriter } from "./config_tlv.ts";
import { decodeSessionEvent, EVENT_RECORD, type SessionEvent } from "./session_events.ts";
import {
  BIB_RECORD,
  type BibRecord,
  decodeBib,
  decodeSession,
  encodeListFilter,
  type ListFilter,
  type ListPage,
  readPageHeader,
  SESSION_RECORD,
  type SessionRecord,
} from "./nat64_records.ts";

/** The ABI version this host speaks (`ABI_VERSION` in `wasm/src/lib.rs`). */
export const ABI_VERSION = 6;

/**
 * The fewest (protocol, pool4 address) pairs the NAT64 tables are laid out for (16
 * addresses for all three protocols, 400 KB), so that a reload adding a few addresses
 * to a small pool4 still fits.
 */
export const MIN_POOL4_PAIRS = 48;

/** The most (protocol, pool4 address) pairs the engine lays out (`MAX_PORT_SETS` in `wasm/src/nat64/state.rs`). */
export const MAX_POOL4_PAIRS = 12288;

/** Output kinds (`OUT_*` in `wasm/src/lib.rs`). */
export const OutputKind = { TRANSLATED: 0, ICMP_ERROR: 1, FRAGMENT: 2, PROBE: 3 } as const;

/** Bytes of the virtio-net header (`struct virtio_net_hdr`) in front of each packet on an `IFF_VNET_HDR` TUN. */
export const VNET_HDR_LEN = 10;

/** Bytes between consecutive headers in the engine's header regions (`ENTRY_LEN` in `wasm/src/offload.rs`). */
const VNET_ENTRY_LEN = 16;

/** `flags` of the virtio-net header: the transport checksum is partial (VIRTIO_NET_HDR_F_NEEDS_CSUM). */
export const VNET_F_NEEDS_CSUM = 1;

/** `gso_type` values of the virtio-net header (linux/virtio_net.h); `ECN` is a bit added to the others. */
export const GsoType = { NONE: 0, TCPV4: 1, UDP: 3, TCPV6: 4, UDP_L4: 5, ECN: 0x80 } as const;

/** One virtio-net header, decoded. */
export interface VnetHeader {
  flags: number;
  gsoType: number;
  /** GSO: bytes of IP and transport headers. */
  hdrLen: number;
  /** GSO: transport payload bytes per segment. */
  gsoSize: number;
  /** Partial checksum: where summing starts, from the IP header. */
  csumStart: number;
  /** Partial checksum: the checksum field, from `csumStart`. */
  csumOffset: number;
}

/** Bit of `nat64_expire`'s result: more may be due now (`MORE_DUE` in `wasm/src/engine/expire.rs`). */
const MORE_DUE = 2 ** 31;

/** Bytes of a snapshot header (`HEADER` in `wasm/src/nat64/snapshot.rs`). */
const SNAPSHOT_HEADER = 32;

/** What one `expire` call did. */
export interface ExpireResult {
  /** Output descriptors written (ICMP answers to stored SYNs, TCP probes), read like a batch's. */
  outputs: number;
  /** The budget or the slots ran out: call again soon, more may be due. */
  more: boolean;
}

/** What restoring a snapshot did. */
export interface ImportResult {
  /** Sessions restored. */
  sessions: number;
  /** Records the configuration in force no longer allows (address out of pool4, limits). */
  skipped: number;
}

/** Engine settings that are not translator keys. */
export interface ConfigureOptions {
  /** Record session and BIB events for the log (`log-sessions`; default off). */
  sessionEvents?: boolean;
}

/** Sizes fixed at start-up; memory never grows afterwards. */
export interface EngineOptions {
  /** Packets per batch (default 64). */
  slotCount?: number;
  /** Bytes per slot, headroom included (default 2048). */
  slotSize?: number;
  /** Stateful NAT64 session capacity (default 65536). */
  sessionCapacity?: number;
  /**
   * (protocol, address) pairs of the pool4 the tables must hold (see {@link pool4Pairs});
   * at least {@link MIN_POOL4_PAIRS} are laid out. A later configuration with more is refused.
   */
  pool4Pairs?: number;
}

/**
 * The (protocol, address) pairs of a pool4: the distinct addresses of each protocol,
 * added up over TCP, UDP and ICMP. Prefixes either nest or are disjoint, so the
 * addresses of a protocol are the sizes of its outermost prefixes, as the engine counts
 * them when it checks a configuration against its tables.
 */
export function pool4Pairs(pool4: readonly Pool4Range[]): number {
  let pairs = 0;
  pool4.forEach((r, i) => {
    const nested = pool4.some((o, j) =>
      j !== i && o.proto === r.proto && o.prefix.length <= r.prefix.length && prefixContains(o.prefix, r.prefix.addr) &&
      (o.prefix.length < r.prefix.length || j < i)
    );
    if (!nested) pairs += 2 ** (32 - r.prefix.length);
  });
  return pairs;
}

interface Exports {
  memory: WebAssembly.Memory;
  nat64_abi_version(): number;
  nat64_init(
    slotCount: number,
    slotSize: number,
    sessionCapacity: number,
    pool4Pairs: number,
    seed0: number,
    seed1: number,
    seed2: number,
    seed3: number,
  ): number;
  nat64_slot_base(): number;
  nat64_slot_size(): number;
  nat64_slot_count(): number;
  nat64_headroom(): number;
  nat64_in_len_base(): number;
  nat64_out_base(): number;
  nat64_out_capacity(): number;
  nat64_vnet_in_base(): number;
  nat64_vnet_out_base(): number;
  nat64_config_base(): number;
  nat64_config_capacity(): number;
  nat64_configure(len: number): number;
  nat64_error(): number;
  nat64_translate(count: number, nowMs: number): number;
  nat64_counters_base(): number;
  nat64_counter_count(): number;
  nat64_counter_names(): number;
  nat64_expire(nowMs: number, budget: number): number;
  nat64_state_base(): number;
  nat64_state_capacity(): number;
  nat64_export_begin(nowMs: number): number;
  nat64_export_next(): number;
  nat64_import_begin(len: number): number;
  nat64_import_check(len: number): number;
  nat64_import_apply(len: number, nowMs: number): number;
  nat64_import_end(): number;
  nat64_list_sessions(cursor: number, nowMs: number): number;
  nat64_list_bib(cursor: number): number;
  nat64_fill(count: number, hosts: number, nowMs: number): number;
  nat64_events_base(): number;
  nat64_events_capacity(): number;
  nat64_events_take(): number;
}

const INIT_ERRORS: Record<number, string> = {
  [-1]: "the engine was already initialised",
  [-2]: "slot count or slot size is out of range",
  [-3]: "linear memory could not grow to the requested size",
  [-4]: "the session capacity is too large for the NAT64 tables",
};

/** `nat64_init`'s code for more pool4 pairs than it lays out. */
const TOO_MANY_POOL4_PAIRS = -5;

/** One WebAssembly instance of the translator with its packet arena. */
export class Engine {
  /** The instance's linear memory; it never grows after creation, so views stay valid. */
  readonly memory: WebAssembly.Memory;
  /** A view over the whole of linear memory. */
  readonly bytes: Uint8Array;
  /** Packets per batch. */
  readonly slotCount: number;
  /** Bytes per slot, headroom included. */
  readonly slotSize: number;
  /** Bytes in front of each input packet, for headers that grow in place. */
  readonly headroom: number;
  /** The largest packet a slot holds. */
  readonly maxPacket: number;
  readonly #x: Exports;
  readonly #slotBase: number;
  readonly #inLen: Uint32Array;
  readonly #out: Uint32Array;
  readonly #vnetIn: number;
  readonly #vnetOut: number;
  readonly #view: DataView;
  readonly #counterNames: string[];
  readonly #counters: BigUint64Array;
  readonly #state: Uint8Array;
  readonly #events: Uint8Array;
  readonly #eventsLost: number;

  private constructor(x: Exports) {
    this.#x = x;
    this.memory = x.memory;
    this.bytes = new Uint8Array(x.memory.buffer);
    this.slotCount = x.nat64_slot_count();
    this.slotSize = x.nat64_slot_size();
    this.headroom = x.nat64_headroom();
    this.maxPacket = this.slotSize - this.headroom;
    this.#slotBase = x.nat64_slot_base();
    this.#inLen = new Uint32Array(x.memory.buffer, x.nat64_in_len_base(), this.slotCount);
    this.#out = new Uint32Array(x.memory.buffer, x.nat64_out_base(), 4 * x.nat64_out_capacity());
    this.#vnetIn = x.nat64_vnet_in_base();
    this.#vnetOut = x.nat64_vnet_out_base();
    this.#view = new DataView(x.memory.buffer);
    this.#counterNames = this.#readNames(x.nat64_counter_names());
    this.#counters = new BigUint64Array(x.memory.buffer, x.nat64_counters_base(), x.nat64_counter_count());
    this.#state = new Uint8Array(x.memory.buffer, x.nat64_state_base(), x.nat64_state_capacity());
    this.#events = new Uint8Array(x.memory.buffer, x.nat64_events_base(), x.nat64_events_capacity() * EVENT_RECORD);
    this.#eventsLost = this.#counterNames.indexOf("nat64_session_events_lost");
  }

  /** Instantiates the module and lays out its arena. Throws one sentence on failure. */
  static create(opts: EngineOptions = {}): Engine {
    const instance = new WebAssembly.Instance(engineModule, {});
    const x = instance.exports as unknown as Exports;
    const version = x.nat64_abi_version();
    if (version !== ABI_VERSION) {
      throw new Error(
        `the engine module speaks ABI ${version}, this host speaks ${ABI_VERSION}: rebuild with scripts/build-wasm`,
      );
    }
    // The stateful tables' hashes and port choice are keyed with a secret, so that
    // remote hosts can neither aim collisions nor predict ports.
    const [s0, s1, s2, s3] = crypto.getRandomValues(new Uint32Array(4));
    const pairs = opts.pool4Pairs ?? 0;
    // A count beyond 32 bits (a /0) is passed as the largest u32, which the engine refuses
    // all the same, instead of wrapping around to a small one.
    const layout = Math.min(Math.max(MIN_POOL4_PAIRS, pairs), 0xffffffff);
    const rc = x.nat64_init(
      opts.slotCount ?? 64,
      opts.slotSize ?? 2048,
      opts.sessionCapacity ?? 65536,
      layout,
      s0,
      s1,
      s2,
      s3,
    );
    if (rc === TOO_MANY_POOL4_PAIRS) {
      throw new Error(
        `engine start-up failed: pool4 has ${pairs} (protocol, address) pairs, more than the ${MAX_POOL4_PAIRS} the engine lays out at most`,
      );
    }
    if (rc !== 0) throw new Error(`engine start-up failed: ${INIT_ERRORS[rc] ?? `error ${rc}`}`);
    return new Engine(x);
  }

  /** Replaces the configuration; on a bad one the old stays and this throws its reason. */
  configure(config: EngineConfig, options: ConfigureOptions = {}): void {
    const records = encodeTranslatorConfig(config);
    if (options.sessionEvents) records.record(TAG.SESSION_EVENTS, [1]);
    this.configureRecords(records);
  }

  /** Sends prepared TLV records (for callers that add records beyond the translator keys). */
  configureRecords(records: TlvWriter): void {
    const bytes = records.bytes();
    const cap = this.#x.nat64_config_capacity();
    if (bytes.length > cap) throw new Error(`the configuration needs ${bytes.length} bytes, the engine holds ${cap}`);
    this.bytes.set(bytes, this.#x.nat64_config_base());
    if (this.#x.nat64_configure(bytes.length) !== 0) {
      throw new Error(`the engine refused the configuration: ${this.#cString(this.#x.nat64_error())}`);
    }
  }

  /** Byte address in memory where the input packet of `slot` starts. */
  packetOffset(slot: number): number {
    return this.#slotBase + slot * this.slotSize + this.headroom;
  }

  /**
   * Byte address in memory of the virtio-net header of the input in `slot`: read it
   * there ({@link VNET_HDR_LEN} bytes) in front of the packet, with `readv`. The engine
   * reads it only when configured with `offloads`.
   */
  vnetInOffset(slot: number): number {
    return this.#vnetIn + slot * VNET_ENTRY_LEN;
  }

  /** Byte address in memory of the virtio-net header of output `j`, to write ({@link VNET_HDR_LEN} bytes) in front of it. */
  vnetOutOffset(j: number): number {
    return this.#vnetOut + j * VNET_ENTRY_LEN;
  }

  /** Writes the virtio-net header of the input in `slot` (for offline use and tests; the datapath reads it there). */
  setInputVnetHeader(slot: number, h: VnetHeader): void {
    this.#writeVnet(this.vnetInOffset(slot), h);
  }

  /** The virtio-net header of output `j`, decoded. */
  outputVnetHeader(j: number): VnetHeader {
    const at = this.vnetOutOffset(j), v = this.#view;
    return {
      flags: v.getUint8(at),
      gsoType: v.getUint8(at + 1),
      hdrLen: v.getUint16(at + 2, true),
      gsoSize: v.getUint16(at + 4, true),
      csumStart: v.getUint16(at + 6, true),
      csumOffset: v.getUint16(at + 8, true),
    };
  }

  /** Records the length of the input packet in `slot`. */
  setInputLength(slot: number, len: number): void {
    this.#inLen[slot] = len;
  }

  /** Copies a packet into a slot (for offline use; the datapath reads straight into the slot). */
  load(slot: number, packet: Uint8Array): void {
    if (packet.length > this.maxPacket) {
      throw new Error(`a ${packet.length}-byte packet does not fit a ${this.maxPacket}-byte slot`);
    }
    this.bytes.set(packet, this.packetOffset(slot));
    this.#inLen[slot] = packet.length;
  }

  /**
   * Runs the stateful NAT64 timers at `nowMs`, handling at most `budget` due entries:
   * sessions past their lifetime go, stored SYNs are answered and idle connections
   * probed. The outputs are read like a batch's (`output(j)`, until the next call).
   */
  expire(nowMs: number, budget: number): ExpireResult {
    const r = this.#x.nat64_expire(nowMs, budget) >>> 0;
    return { outputs: r % MORE_DUE, more: r >= MORE_DUE };
  }

  /** The stateful tables as a snapshot (format in `wasm/src/nat64/snapshot.rs`), remaining lifetimes at `nowMs`. */
  exportState(nowMs: number): Uint8Array {
    const total = this.#x.nat64_export_begin(nowMs);
    if (total < 0) throw new Error(this.#lastError());
    const out = new Uint8Array(total);
    out.set(this.#state.subarray(0, SNAPSHOT_HEADER));
    let at = SNAPSHOT_HEADER;
    for (let n = this.#x.nat64_export_next(); n !== 0; n = this.#x.nat64_export_next()) {
      if (n < 0) throw new Error(this.#lastError());
      out.set(this.#state.subarray(0, n), at);
      at += n;
    }
    if (at !== total) throw new Error(`the snapshot came out ${at} bytes long where ${total} were announced`);
    return out;
  }

  /**
   * Restores a snapshot into empty tables, after `configure`; lifetimes restart at
   * `nowMs`. Throws one sentence (and keeps nothing of it) when the snapshot is refused.
   */
  importState(snapshot: Uint8Array, nowMs: number): ImportResult {
    const x = this.#x;
    const check = (rc: number) => {
      if (rc < 0) throw new Error(this.#lastError());
    };
    this.#state.set(snapshot.subarray(0, SNAPSHOT_HEADER));
    check(x.nat64_import_begin(snapshot.length));
    const chunk = Math.floor(this.#state.length / SESSION_RECORD) * SESSION_RECORD;
    for (const pass of ["check", "apply"] as const) {
      for (let at = SNAPSHOT_HEADER; at < snapshot.length; at += chunk) {
        const piece = snapshot.subarray(at, at + chunk);
        this.#state.set(piece);
        check(pass === "check" ? x.nat64_import_check(piece.length) : x.nat64_import_apply(piece.length, nowMs));
      }
    }
    check(x.nat64_import_end());
    const words = new DataView(this.#state.buffer, this.#state.byteOffset, 8);
    return { sessions: words.getUint32(0, true), skipped: words.getUint32(4, true) };
  }

  /** One page of sessions matching `filter`, from `cursor` (0 first), remaining lifetimes at `nowMs`. */
  listSessions(filter: ListFilter, cursor: number, nowMs: number): ListPage<SessionRecord> {
    encodeListFilter(filter, this.#state);
    const n = this.#x.nat64_list_sessions(cursor, nowMs);
    if (n < 0) throw new Error(this.#lastError());
    return readPageHeader(this.#state, n, SESSION_RECORD, decodeSession);
  }

  /** One page of BIB entries matching `filter`, from `cursor` (0 first). */
  listBib(filter: ListFilter, cursor: number): ListPage<BibRecord> {
    encodeListFilter(filter, this.#state);
    const n = this.#x.nat64_list_bib(cursor);
    if (n < 0) throw new Error(this.#lastError());
    return readPageHeader(this.#state, n, BIB_RECORD, decodeBib);
  }

  /** Benchmark support: creates `count` synthetic UDP sessions over `hosts` IPv6 hosts; returns how many it made. */
  fill(count: number, hosts: number, nowMs: number): number {
    return this.#x.nat64_fill(count, hosts, nowMs);
  }

  /**
   * Takes the session and BIB events recorded since the last take (with
   * `sessionEvents` configured): returns how many there are, to be read with
   * `sessionEvent(i)` before the next engine call, which may overwrite them.
   */
  takeSessionEvents(): number {
    return this.#x.nat64_events_take();
  }

  /** Event `i` of the last take. */
  sessionEvent(i: number): SessionEvent {
    return decodeSessionEvent(this.#events, i * EVENT_RECORD);
  }

  /** Events the engine could not record because the earlier ones were not taken yet, since start. */
  sessionEventsLost(): number {
    return this.#eventsLost < 0 ? 0 : Number(this.#counters[this.#eventsLost]);
  }

  /** Translates slots `0..count-1` in one call; returns the number of outputs. */
  translate(count: number, nowMs: number): number {
    return this.#x.nat64_translate(count, nowMs);
  }

  /** Byte address of output `j`. */
  outputAddress(j: number): number {
    return this.#out[4 * j];
  }

  /** Byte length of output `j`. */
  outputLength(j: number): number {
    return this.#out[4 * j + 1];
  }

  /** Input slot that output `j` came from. */
  outputSlot(j: number): number {
    return this.#out[4 * j + 2];
  }

  /** Kind of output `j` (see {@link OutputKind}). */
  outputKind(j: number): number {
    return this.#out[4 * j + 3];
  }

  /** A view (not a copy) of output `j`'s bytes, valid until the next `translate`. */
  output(j: number): Uint8Array {
    return this.bytes.subarray(this.outputAddress(j), this.outputAddress(j) + this.outputLength(j));
  }

  /** The counter names, in the order of {@link Engine.counterArray}. */
  get counterNames(): string[] {
    return this.#counterNames;
  }

  /** The counters as they are in engine memory (a view, not a copy). */
  get counterArray(): BigUint64Array {
    return this.#counters;
  }

  /** The counters by name. */
  counters(): Record<string, bigint> {
    return Object.fromEntries(this.#counterNames.map((n, i) => [n, this.#counters[i]]));
  }

  #writeVnet(at: number, h: VnetHeader): void {
    const v = this.#view;
    v.setUint8(at, h.flags);
    v.setUint8(at + 1, h.gsoType);
    v.setUint16(at + 2, h.hdrLen, true);
    v.setUint16(at + 4, h.gsoSize, true);
    v.setUint16(at + 6, h.csumStart, true);
    v.setUint16(at + 8, h.csumOffset, true);
  }

  #lastError(): string {
    return this.#cString(this.#x.nat64_error());
  }

  #cString(addr: number): string {
    let end = addr;
    while (this.bytes[end] !== 0) end++;
    return new TextDecoder().decode(this.bytes.subarray(addr, end));
  }

  #readNames(addr: number): string[] {
    const names: string[] = [];
    for (let name = this.#cString(addr); name !== ""; name = this.#cString(addr)) {
      names.push(name);
      addr += name.length + 1;
    }
    return names;
  }
}
