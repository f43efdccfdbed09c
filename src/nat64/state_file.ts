/**
 * The stateful NAT64 state file: the engine's session snapshot (format in
 * `wasm/src/nat64/snapshot.rs`) saved on stop and at checkpoints, restored at start, so
 * that connections through the gateway outlive a restart. Lifetimes are stored as
 * time remaining, so the restored tables run on the new process's clock.
 *
 * Saving is atomic: the snapshot goes to a temporary file beside the state file, which
 * is then renamed over it, so a crash mid-write leaves the previous file whole. A
 * missing file is a first start; an unreadable, damaged or mismatched one costs one
 * warning line and starts with empty tables, never the gateway.
 *
 * @module
 */

import type { ImportResult } from "../engine/engine.ts";
import type { Logger } from "../control/logger.ts";

/** The part of the engine the state file needs. */
export interface SnapshotEngine {
  /** The tables as a snapshot, lifetimes remaining at `nowMs`. */
  exportState(nowMs: number): Uint8Array;
  /** Restores a snapshot into empty tables at `nowMs`; throws one sentence when refused. */
  importState(snapshot: Uint8Array, nowMs: number): ImportResult;
}

/** Bytes of a snapshot header; each session takes 40 more (`wasm/src/nat64/snapshot.rs`). */
const HEADER = 32;
const RECORD = 40;

/** What a save wrote. */
export interface SaveResult {
  /** Bytes of the file. */
  bytes: number;
  /** Sessions in it. */
  sessions: number;
}

/**
 * Writes the engine's tables to `path` atomically. The snapshot is taken at once
 * (synchronously, between two datapath batches); only the file write waits.
 */
export async function saveState(engine: SnapshotEngine, path: string, nowMs: number): Promise<SaveResult> {
  const snapshot = engine.exportState(nowMs);
  const temp = `${path}.${Deno.pid}.tmp`;
  try {
    await Deno.writeFile(temp, snapshot, { mode: 0o600 });
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw new Error(`state file ${path}: ${(err as Error).message}`);
  }
  return { bytes: snapshot.length, sessions: (snapshot.length - HEADER) / RECORD };
}

/**
 * Restores the tables from `path` (after the engine is configured, before traffic).
 * Returns what was restored, or null when there was nothing to restore: no file yet,
 * or a file that could not be used, which `logger` hears about in one line.
 */
export async function restoreState(
  engine: SnapshotEngine,
  path: string,
  nowMs: number,
  logger: Pick<Logger, "warn">,
): Promise<ImportResult | null> {
  let snapshot: Uint8Array;
  try {
    snapshot = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    logger.warn("state file unreadable, starting with empty NAT64 tables", {
      file: path,
      reason: (err as Error).message,
    });
    return null;
  }
  try {
    return engine.importState(snapshot, nowMs);
  } catch (err) {
    logger.warn("state file refused, starting with empty NAT64 tables", { file: path, reason: (err as Error).message });
    return null;
  }
}

/** Periodic saves of the state file. */
export class Checkpoints {
  readonly #save: () => Promise<unknown>;
  readonly #logger: Logger;
  #timer?: ReturnType<typeof setInterval>;
  #inFlight?: Promise<unknown>;

  /** Checkpoints that call `save` (which writes the file) and report failures to `logger`. */
  constructor(save: () => Promise<unknown>, logger: Logger) {
    this.#save = save;
    this.#logger = logger;
  }

  /** Saves every `intervalS` seconds; a save still running when the next is due is not doubled. */
  start(intervalS: number): void {
    this.#timer = setInterval(() => {
      if (!this.#inFlight) this.#inFlight = this.run().finally(() => (this.#inFlight = undefined));
    }, intervalS * 1000);
  }

  /** One save now; a failure is logged, not thrown (the next checkpoint tries again). */
  async run(): Promise<void> {
    try {
      await this.#save();
    } catch (err) {
      this.#logger.warn("checkpoint of the NAT64 tables failed", { reason: (err as Error).message });
    }
  }

  /** Stops the checkpoints and waits for a save in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }
}
