/**
 * The control socket: a Unix socket (mode 0600 unless configured) that answers the
 * requests of `protocol.ts` from a {@link GatewayView}, one JSON line per request.
 *
 * It runs on the gateway's event loop beside the datapath, so every answer is computed
 * synchronously from the view and bounded (listings are paged, at most
 * `MAX_PAGE_SIZE` rows). A malformed or oversized request gets an error line; only the
 * offending connection is closed, never the server.
 *
 * @module
 */

import { toJson } from "./json.ts";
import type { Logger } from "./logger.ts";
import { type ControlRequest, MAX_REQUEST_BYTES, parseRequest } from "./protocol.ts";
import type { GatewayView } from "./view.ts";

/** Where the control socket lives unless `--control-socket` says otherwise. */
export const DEFAULT_CONTROL_SOCKET = "/run/nat64/control.sock";
/** Owner-only: the socket reveals client addresses and the whole config. */
export const DEFAULT_CONTROL_SOCKET_MODE = 0o600;
/** Connections served at once; more are refused so no client can exhaust descriptors. */
export const MAX_CONNECTIONS = 64;

/** Where and how the control socket listens. */
export interface ControlServerOptions {
  /** The socket's path (default {@link DEFAULT_CONTROL_SOCKET}). */
  path?: string;
  /** The socket file's permission bits (default 0600). */
  mode?: number;
  /** Where connection problems are logged (at debug level). */
  logger?: Logger;
}

/** Input read and ignored after an oversized request before the connection is dropped. */
const MAX_DISCARD_BYTES = 1 << 20;
const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes all of `bytes`; Deno's `write` may write less than asked. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await conn.write(bytes.subarray(done));
}

/** True when something accepts connections on the Unix socket at `path`. */
async function isServing(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Serves a {@link GatewayView} on a Unix socket. */
export class ControlServer {
  /** The socket's path. */
  readonly path: string;
  readonly #mode: number;
  readonly #view: GatewayView;
  readonly #logger?: Logger;
  readonly #conns = new Set<Deno.Conn>();
  #listener?: Deno.Listener;
  #accepting?: Promise<void>;
  #requests = 0n;
  #errors = 0n;

  constructor(view: GatewayView, options: ControlServerOptions = {}) {
    this.#view = view;
    this.path = options.path ?? DEFAULT_CONTROL_SOCKET;
    this.#mode = options.mode ?? DEFAULT_CONTROL_SOCKET_MODE;
    this.#logger = options.logger;
  }

  /**
   * Binds the socket and starts answering. A socket left by a gateway that died is
   * replaced; a live one, or a file that is not a socket, is an error naming the path.
   */
  async start(): Promise<void> {
    await this.#clearStaleSocket();
    const dir = this.path.slice(0, this.path.lastIndexOf("/"));
    if (dir) await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
    // bind(2) creates the socket file with 0777 minus the umask, so the umask is set to
    // give exactly the configured mode: no moment exists where the socket is more open.
    let previous: number;
    try {
      previous = Deno.umask(~this.#mode & 0o777);
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable) {
        throw new Error(
          `creating the control socket with mode ${this.#mode.toString(8).padStart(4, "0")} needs --allow-sys=umask`,
        );
      }
      throw err;
    }
    try {
      this.#listener = Deno.listen({ transport: "unix", path: this.path });
    } catch (err) {
      throw new Error(`cannot listen on the control socket ${this.path}: ${(err as Error).message}`);
    } finally {
      Deno.umask(previous);
    }
    this.#accepting = this.#acceptLoop(this.#listener);
  }

  /** Requests answered and requests refused, for metrics. */
  counters(): Record<string, bigint> {
    return { control_requests: this.#requests, control_request_errors: this.#errors };
  }

  /** Stops listening (which removes the socket file) and closes every connection. */
  async close(): Promise<void> {
    if (!this.#listener) return;
    this.#listener.close();
    this.#listener = undefined;
    for (const conn of this.#conns) conn.close();
    this.#conns.clear();
    await this.#accepting;
  }

  async #clearStaleSocket(): Promise<void> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw new Error(`cannot inspect the control socket path ${this.path}: ${(err as Error).message}`);
    }
    if (!info.isSocket) {
      throw new Error(`${this.path} exists and is not a socket; remove it or choose --control-socket`);
    }
    if (await isServing(this.path)) {
      throw new Error(`another gateway is already serving the control socket ${this.path}`);
    }
    await Deno.remove(this.path);
  }

  async #acceptLoop(listener: Deno.Listener): Promise<void> {
    const served: Promise<void>[] = [];
    try {
      for await (const conn of listener) {
        if (this.#conns.size >= MAX_CONNECTIONS) {
          this.#errors++;
          await this.#refuse(conn, `more than ${MAX_CONNECTIONS} control connections are open`);
          continue;
        }
        this.#conns.add(conn);
        served.push(this.#serve(conn).finally(() => this.#conns.delete(conn)));
      }
    } catch (err) {
      // Closing the listener ends the iteration with BadResource; anything else is worth a line.
      if (!(err instanceof Deno.errors.BadResource)) this.#logger?.error(`control socket stopped accepting: ${err}`);
    }
    await Promise.allSettled(served);
  }

  async #refuse(conn: Deno.Conn, why: string): Promise<void> {
    try {
      await writeAll(conn, encoder.encode(toJson({ error: why }) + "\n"));
    } catch {
      // The client is gone; nothing to tell it.
    }
    conn.close();
  }

  /** Answers each line of one connection until it closes or misbehaves. */
  async #serve(conn: Deno.Conn): Promise<void> {
    const chunk = new Uint8Array(MAX_REQUEST_BYTES);
    let pending = new Uint8Array(0);
    try {
      while (true) {
        const n = await conn.read(chunk);
        if (n === null) break;
        const data = new Uint8Array(pending.length + n);
        data.set(pending);
        data.set(chunk.subarray(0, n), pending.length);
        let start = 0;
        for (let nl = data.indexOf(NEWLINE); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
          await writeAll(conn, encoder.encode((await this.#answer(decoder.decode(data.subarray(start, nl)))) + "\n"));
          start = nl + 1;
        }
        pending = data.slice(start);
        if (pending.length > MAX_REQUEST_BYTES) {
          // Without a newline in sight the stream cannot be resynchronised: say why and hang up.
          this.#errors++;
          await writeAll(
            conn,
            encoder.encode(toJson({ error: `request longer than ${MAX_REQUEST_BYTES} bytes` }) + "\n"),
          );
          await this.#hangUp(conn, chunk);
          break;
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.BadResource)) {
        this.#logger?.debug("control connection failed", { error: String(err) });
      }
    }
    try {
      conn.close();
    } catch {
      // Already closed by close().
    }
  }

  /**
   * Ends the answers but reads on until the client closes, up to a bound. Closing a Unix
   * socket with unread input resets the connection, and the client would lose the
   * error line it has not read yet.
   */
  async #hangUp(conn: Deno.Conn, chunk: Uint8Array): Promise<void> {
    await conn.closeWrite();
    let discarded = 0;
    while (discarded < MAX_DISCARD_BYTES) {
      const n = await conn.read(chunk);
      if (n === null) return;
      discarded += n;
    }
  }

  /** The answer line to one request line. */
  async #answer(line: string): Promise<string> {
    if (line.trim() === "") {
      this.#errors++;
      return toJson({ error: "empty request line" });
    }
    let req: ControlRequest;
    try {
      req = parseRequest(line);
    } catch (err) {
      this.#errors++;
      return toJson({ error: (err as Error).message });
    }
    try {
      this.#requests++;
      return toJson({ result: await this.#run(req) });
    } catch (err) {
      this.#errors++;
      return toJson({ error: `the gateway could not answer ${req.op}: ${(err as Error).message}` });
    }
  }

  #run(req: ControlRequest): unknown | Promise<unknown> {
    switch (req.op) {
      case "status":
        return this.#view.status();
      case "config":
        return this.#view.config();
      case "counters":
        return { ...this.#view.counters(), ...this.counters() };
      case "sessions":
        return this.#view.sessions(req.query);
      case "bib":
        return this.#view.bib(req.query);
    }
  }
}
