/**
 * What every end-to-end test stands on: a lab of its own (scripts/lab with a unique
 * NAT64_LAB_PREFIX), commands run inside its namespaces with a time bound, long-running
 * processes (servers, the gateway) whose output is watched line by line, and the gateway
 * itself started as `nat64 run` in the lab's gw namespace with a temporary control socket.
 * Every step is bounded in time; `withGateway` always stops the gateway and tears the lab
 * down, whatever the test body did.
 *
 * @module
 */

import { tunSkipReason } from "../tun/netns.ts";
import { type LabMode } from "./addresses.ts";

/** The repository's root directory, with a trailing slash. */
export const ROOT = new URL("../../", import.meta.url).pathname;
const LAB_SCRIPT = `${ROOT}scripts/lab`;
/** The CLI's entry point. */
export const MAIN = `${ROOT}src/main.ts`;

/** The lab's three namespaces, by role. */
export type Side = "client" | "gw" | "server";

/** What a finished command printed. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Why the lab tests cannot run here (not root, no /dev/net/tun), or null when they can. */
export function labSkipReason(): string | null {
  return tunSkipReason();
}

/**
 * Runs `argv` and waits at most `timeoutMs` for it; a command still running then is
 * killed and the test fails with a sentence naming it.
 */
export async function runBounded(argv: string[], timeoutMs: number, env?: Record<string, string>): Promise<Finished> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    cwd: ROOT,
    stdin: "null",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const dec = new TextDecoder();
  const finished = { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  if (out.signal === "SIGTERM") {
    throw new Error(`${argv.join(" ")}: no result within ${timeoutMs} ms\n${finished.stdout}${finished.stderr}`);
  }
  return finished;
}

/** Like {@link runBounded}, but a non-zero exit fails with the command and what it printed. */
export async function mustRun(argv: string[], timeoutMs: number, env?: Record<string, string>): Promise<string> {
  const out = await runBounded(argv, timeoutMs, env);
  if (out.code !== 0) throw new Error(`${argv.join(" ")} exited ${out.code}:\n${out.stdout}${out.stderr}`);
  return out.stdout;
}

/**
 * A long-running process (a server, the gateway) whose stdout and stderr lines are
 * collected as they come, so a test can wait for a readiness line.
 */
export class Service {
  readonly #argv: string[];
  readonly #proc: Deno.ChildProcess;
  readonly #lines: string[] = [];
  readonly #drained: Promise<void>;
  readonly #stdin?: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiters = new Set<() => void>();
  #exit?: Deno.CommandStatus;

  /** Starts `argv`; `stdin: true` keeps a pipe to it open for {@link writeLine}. */
  constructor(argv: string[], options: { stdin?: boolean; env?: Record<string, string> } = {}) {
    this.#argv = argv;
    this.#proc = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: options.env,
      cwd: ROOT,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin) this.#stdin = this.#proc.stdin.getWriter();
    this.#drained = Promise.all([this.#collect(this.#proc.stdout), this.#collect(this.#proc.stderr)]).then(() => {});
    this.#proc.status.then((s) => {
      this.#exit = s;
      this.#wake();
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters) waiter();
    this.#waiters.clear();
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      this.#lines.push(...parts);
      this.#wake();
    }
    if (partial) this.#lines.push(partial);
    this.#wake();
  }

  /** The process id (after `ip netns exec` and the like have exec'd, the command's own). */
  get pid(): number {
    return this.#proc.pid;
  }

  /** Everything printed so far, one line per element. */
  get lines(): readonly string[] {
    return this.#lines;
  }

  /** Everything printed so far, as text. */
  get output(): string {
    return this.#lines.join("\n");
  }

  /**
   * Waits for a line matching `pattern` (at or after line `from`) and returns it; fails
   * naming the command, with its output, when it exits first or `timeoutMs` passes.
   */
  async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.#lines.slice(from).find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (this.#exit) {
        await this.#drained;
        const late = this.#lines.slice(from).find((l) => pattern.test(l));
        if (late !== undefined) return late;
        throw new Error(
          `${this.#argv.join(" ")} exited ${this.#exit.code} before printing ${pattern}:\n${this.output}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`${this.#argv.join(" ")} printed no ${pattern} within ${timeoutMs} ms:\n${this.output}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.add(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Writes one line to the process's stdin. */
  async writeLine(line: string): Promise<void> {
    if (!this.#stdin) throw new Error(`${this.#argv[0]} was started without a stdin pipe`);
    await this.#stdin.write(new TextEncoder().encode(`${line}\n`));
  }

  /** Whether the process has ended. */
  get exited(): boolean {
    return this.#exit !== undefined;
  }

  /**
   * Sends SIGTERM (closing stdin first), waits up to `timeoutMs`, then SIGKILL; returns
   * the exit code once all output is read. Stopping an ended process just returns its code.
   */
  async stop(timeoutMs = 10_000): Promise<number> {
    await this.#stdin?.close().catch(() => {});
    if (!this.#exit) {
      try {
        this.#proc.kill("SIGTERM");
      } catch {
        // It ended between the check and the signal.
      }
      const timer = setTimeout(() => {
        if (!this.#exit) this.#proc.kill("SIGKILL");
      }, timeoutMs);
      await this.#proc.status;
      clearTimeout(timer);
    }
    await this.#drained;
    return (await this.#proc.status).code;
  }
}

let labs = 0;

/** One lab (three namespaces) made by scripts/lab for one test. */
export class Lab {
  /** The NAT64_LAB_PREFIX of this lab. */
  readonly prefix: string;

  private constructor(prefix: string) {
    this.prefix = prefix;
  }

  /**
   * Builds a lab named after `tag`, the test process and a counter, so none is shared;
   * a lab that fails half-built is removed before the error goes on.
   */
  static async up(tag: string): Promise<Lab> {
    const lab = new Lab(`e2e-${tag}-${Deno.pid}-${labs++}`.slice(0, 32));
    try {
      await mustRun([LAB_SCRIPT, "up"], 30_000, { NAT64_LAB_PREFIX: lab.prefix });
    } catch (err) {
      await lab.down();
      throw err;
    }
    return lab;
  }

  /** The namespace of one side. */
  ns(side: Side): string {
    return `${this.prefix}-${side}`;
  }

  /** The argv that runs `argv` inside one side's namespace. */
  inside(side: Side, argv: string[]): string[] {
    return ["ip", "netns", "exec", this.ns(side), ...argv];
  }

  /** Runs `argv` in one side, bounded in time. */
  exec(side: Side, argv: string[], timeoutMs = 10_000): Promise<Finished> {
    return runBounded(this.inside(side, argv), timeoutMs);
  }

  /** Runs `argv` in one side, bounded in time; a failure names the command. */
  must(side: Side, argv: string[], timeoutMs = 10_000): Promise<string> {
    return mustRun(this.inside(side, argv), timeoutMs);
  }

  /** `ip …args` in one side. */
  ip(side: Side, args: string[]): Promise<string> {
    return this.must(side, ["ip", ...args]);
  }

  /** Starts a long-running `argv` in one side. */
  spawn(side: Side, argv: string[], options: { stdin?: boolean } = {}): Service {
    return new Service(this.inside(side, argv), options);
  }

  /** Removes the lab (idempotent). */
  async down(): Promise<void> {
    await mustRun([LAB_SCRIPT, "down"], 30_000, { NAT64_LAB_PREFIX: this.prefix });
  }
}

/** `deno run` of a fixture in test/e2e/fixtures with the given permissions. */
export function denoFixture(name: string, permissions: string[], args: string[]): string[] {
  return [Deno.execPath(), "run", ...permissions, new URL(`./fixtures/${name}`, import.meta.url).pathname, ...args];
}

/** `nat64 …args` as a command line (all permissions: the permission tests pin the narrow set). */
export function nat64Argv(args: string[]): string[] {
  return [Deno.execPath(), "run", "--allow-all", MAIN, ...args];
}

/** The gateway (`nat64 run`) running in a lab's gw namespace. */
export class Gateway {
  /** Its control socket. */
  readonly socket: string;
  readonly #service: Service;

  private constructor(service: Service, socket: string) {
    this.#service = service;
    this.socket = socket;
  }

  /**
   * Starts `nat64 run` with `flags` and a control socket in `dir`, and waits (20 s at
   * most) for its "gateway running" line; a gateway that exits first fails the test
   * with what it printed.
   */
  static async start(lab: Lab, flags: string[], dir: string): Promise<Gateway> {
    const socket = `${dir}/control.sock`;
    const service = lab.spawn("gw", nat64Argv(["run", "--tun", "nat64", "--control-socket", socket, ...flags]));
    const gw = new Gateway(service, socket);
    try {
      await service.waitFor(/gateway running/, 20_000);
    } catch (err) {
      await service.stop();
      throw err;
    }
    return gw;
  }

  /** The log so far. */
  get log(): string {
    return this.#service.output;
  }

  /** `nat64 stats --json`: status and counters. */
  async stats(): Promise<{ status: Record<string, unknown>; counters: Record<string, number> }> {
    return JSON.parse(await mustRun(nat64Argv(["stats", "--json", "--control-socket", this.socket]), 15_000));
  }

  /** `nat64 sessions --json --proto PROTO`. */
  async sessions(proto: string): Promise<{ total: number; items: Record<string, unknown>[] }> {
    const args = ["sessions", "--json", "--proto", proto, "--control-socket", this.socket];
    return JSON.parse(await mustRun(nat64Argv(args), 15_000));
  }

  /** SIGTERM, then the exit code (0 for a clean stop). */
  stop(): Promise<number> {
    return this.#service.stop();
  }
}

/**
 * Runs `body` with a fresh lab and a gateway in `mode`; always stops the gateway, tears
 * the lab down and removes the temporary directory, and checks the gateway stopped cleanly.
 */
export async function withGateway(
  tag: string,
  mode: LabMode,
  body: (lab: Lab, gw: Gateway, restart: () => Promise<Gateway>) => Promise<void>,
  extraFlags: (dir: string) => string[] = () => [],
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nat64-e2e-" });
  const flags = [...mode.flags, ...extraFlags(dir)];
  let lab: Lab | undefined;
  let gw: Gateway | undefined;
  try {
    lab = await Lab.up(tag);
    gw = await Gateway.start(lab, flags, dir);
    const restart = async () => {
      const code = await gw!.stop();
      if (code !== 0) throw new Error(`the gateway exited ${code} on SIGTERM:\n${gw!.log}`);
      gw = await Gateway.start(lab!, flags, dir);
      return gw;
    };
    await body(lab, gw, restart);
    const code = await gw.stop();
    if (code !== 0) throw new Error(`the gateway exited ${code} on SIGTERM:\n${gw.log}`);
  } finally {
    await gw?.stop();
    await lab?.down();
    await Deno.remove(dir, { recursive: true });
  }
}
