/**
 * The client side of the control socket: connect, send one JSON line, read one back.
 * Every failure becomes one sentence that says what to check (is the gateway running,
 * is this the right path, may this user open it).
 *
 * @module
 */

import { fromJson, toJson } from "./json.ts";
import type { GatewayStatus, ListPage, ListQuery } from "./view.ts";

/** How long a request may take before the client gives up. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Why connecting to `path` failed, as one sentence. */
function connectError(path: string, err: unknown): Error {
  if (err instanceof Deno.errors.NotFound) {
    return new Error(`no control socket at ${path}: is the gateway running, and is this its --control-socket?`);
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new Error(`permission denied on ${path}: the socket is owner-only, run as the gateway's user or root`);
  }
  if (err instanceof Deno.errors.ConnectionRefused) {
    return new Error(`nothing listens on ${path}: the gateway that made it has stopped`);
  }
  if (err instanceof Deno.errors.NotCapable) {
    return new Error(`reaching ${path} needs --allow-net=unix:${path} --allow-read=${path} --allow-write=${path}`);
  }
  return new Error(`cannot connect to ${path}: ${(err as Error).message}`);
}

/** One connection to the gateway's control socket. */
export class ControlClient {
  /** The socket's path, for messages. */
  readonly path: string;
  readonly #conn: Deno.Conn;
  readonly #timeoutMs: number;
  #buffered = new Uint8Array(0);
  readonly #chunk = new Uint8Array(64 * 1024);

  private constructor(path: string, conn: Deno.Conn, timeoutMs: number) {
    this.path = path;
    this.#conn = conn;
    this.#timeoutMs = timeoutMs;
  }

  /** Connects to the socket at `path`; throws one sentence if it cannot. */
  static async connect(path: string, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<ControlClient> {
    try {
      return new ControlClient(path, await Deno.connect({ transport: "unix", path }), timeoutMs);
    } catch (err) {
      throw connectError(path, err);
    }
  }

  /** Sends one request; resolves with its `result`, or throws the gateway's error sentence. */
  async request(req: Record<string, unknown>): Promise<unknown> {
    return (await this.requestAll([req]))[0];
  }

  /**
   * Sends several requests in one write and reads their answers in order. The gateway
   * answers every complete line of a read at once, so this costs one turn of its event
   * loop instead of one per request; under load each turn waits behind a packet batch.
   */
  async requestAll(reqs: Record<string, unknown>[]): Promise<unknown[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ops = reqs.map((r) => `"${r.op}"`).join(", ");
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`the gateway did not answer ${ops} on ${this.path} within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
    });
    try {
      return await Promise.race([this.#exchange(reqs), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The gateway's status and counters, asked together (one round trip). */
  async stats(): Promise<{ status: GatewayStatus; counters: Record<string, number | bigint> }> {
    const [status, counters] = await this.requestAll([{ op: "status" }, { op: "counters" }]);
    return { status: status as GatewayStatus, counters: counters as Record<string, number | bigint> };
  }

  /** One page of the sessions or BIB listing. */
  async list<T>(op: "sessions" | "bib", query: ListQuery): Promise<ListPage<T>> {
    return await this.request({ op, ...query }) as ListPage<T>;
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Closed already (the request timed out and the caller closes twice).
    }
  }

  async #exchange(reqs: Record<string, unknown>[]): Promise<unknown[]> {
    const out = encoder.encode(reqs.map((r) => toJson(r) + "\n").join(""));
    let done = 0;
    while (done < out.length) done += await this.#conn.write(out.subarray(done));
    // Every answer is read before any error is thrown, so none is left to be taken for the next request's.
    const answers: { result?: unknown; error?: string }[] = [];
    for (let i = 0; i < reqs.length; i++) {
      answers.push(fromJson(await this.#readLine()) as { result?: unknown; error?: string });
    }
    return answers.map((answer, i) => {
      if (typeof answer.error === "string") throw new Error(`the gateway refused "${reqs[i].op}": ${answer.error}`);
      if (!("result" in answer)) {
        throw new Error(`the gateway's answer to "${reqs[i].op}" has neither result nor error`);
      }
      return answer.result;
    });
  }

  async #readLine(): Promise<string> {
    let searchFrom = 0;
    while (true) {
      const nl = this.#buffered.indexOf(NEWLINE, searchFrom);
      if (nl >= 0) {
        const line = decoder.decode(this.#buffered.subarray(0, nl));
        this.#buffered = this.#buffered.slice(nl + 1);
        return line;
      }
      searchFrom = this.#buffered.length;
      const n = await this.#conn.read(this.#chunk);
      if (n === null) throw new Error(`the gateway closed ${this.path} before answering`);
      const grown = new Uint8Array(this.#buffered.length + n);
      grown.set(this.#buffered);
      grown.set(this.#chunk.subarray(0, n), this.#buffered.length);
      this.#buffered = grown;
    }
  }
}
