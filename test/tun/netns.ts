/**
 * Network namespaces for tests and benchmarks: each test makes its own, runs processes
 * inside with `ip netns exec`, and deletes it afterwards. The processes that need the
 * namespace (TUN owners, UDP clients) are `deno run` children of the test, with the
 * permissions the gateway itself would get.
 *
 * @module
 */

import { defaultLibcPath } from "../../src/tun/libc.ts";

/** The permissions the gateway's datapath needs, and all the echo gateway gets. */
export const GATEWAY_PERMISSIONS = [`--allow-ffi=${defaultLibcPath()}`, "--allow-run=ip"];

/** Why TUN tests cannot run here, or null when they can. */
export function tunSkipReason(): string | null {
  if (Deno.build.os !== "linux") return "TUN tests need Linux";
  if (Deno.uid() !== 0) return "not root: network namespaces and TUN devices need root";
  try {
    Deno.statSync("/dev/net/tun");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "/dev/net/tun is missing (modprobe tun)";
    // Deno guards /dev: only --allow-all may even look at it.
    return `cannot check /dev/net/tun (${(e as Error).message})`;
  }
  return null;
}

/** Marks the tests of a file as ignored, printing why once. */
export function ignoreUnlessTun(what: string): boolean {
  const reason = tunSkipReason();
  if (reason) console.log(`skipping ${what}: ${reason}`);
  return reason !== null;
}

/** Absolute path of a fixture script in test/tun/fixtures. */
export function fixture(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).pathname;
}

/** What a finished child printed. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

let made = 0;

/** A network namespace this process created. */
export class Netns {
  /** The namespace's name (`ip netns list`). */
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates `nat64t-<tag>-<pid>-<n>`, with loopback up. */
  static async create(tag: string): Promise<Netns> {
    const ns = new Netns(`nat64t-${tag}-${Deno.pid}-${made++}`);
    await run(["ip", "netns", "add", ns.name]);
    await ns.ip(["link", "set", "lo", "up"]);
    return ns;
  }

  /** A namespace made by someone else (the lab's); deleting it stays their job. */
  static existing(name: string): Netns {
    return new Netns(name);
  }

  /** `ip -n <ns> …args`; throws with ip's complaint on failure. */
  async ip(args: string[]): Promise<string> {
    const out = await run(["ip", "-n", this.name, ...args]);
    return out.stdout;
  }

  /** Runs `argv` inside the namespace and waits for it. */
  exec(argv: string[]): Promise<Finished> {
    return capture(["ip", "netns", "exec", this.name, ...argv]);
  }

  /** The `deno run` command line for a fixture with the given permissions. */
  denoArgv(script: string, args: string[], permissions: string[]): string[] {
    return [Deno.execPath(), "run", ...permissions, fixture(script), ...args];
  }

  /**
   * Runs a fixture inside the namespace; returns the JSON of its last output line.
   * `prefix` goes before `deno` (e.g. `taskset -c 1`).
   */
  async runDenoJson(
    script: string,
    args: string[],
    permissions: string[],
    prefix: string[] = [],
  ): Promise<Record<string, unknown>> {
    const out = await this.exec([...prefix, ...this.denoArgv(script, args, permissions)]);
    const last = out.stdout.trim().split("\n").pop() ?? "";
    try {
      return JSON.parse(last);
    } catch {
      throw new Error(`${script} printed no JSON (exit ${out.code}): ${out.stdout}${out.stderr}`);
    }
  }

  /** Starts a long-running fixture inside the namespace (the echo gateway); `prefix` as above. */
  spawnDeno(script: string, args: string[], permissions = GATEWAY_PERMISSIONS, prefix: string[] = []): Child {
    const argv = ["ip", "netns", "exec", this.name, ...prefix, ...this.denoArgv(script, args, permissions)];
    return new Child(
      new Deno.Command(argv[0], { args: argv.slice(1), stdin: "null", stdout: "piped", stderr: "piped" }).spawn(),
    );
  }

  /** Deletes the namespace (and every interface left in it). */
  async delete(): Promise<void> {
    await run(["ip", "netns", "delete", this.name]);
  }
}

/** A running child whose stdout is read line by line. */
export class Child {
  readonly #proc: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #stderr: Promise<string>;
  #buffer = "";
  #exited = false;

  constructor(proc: Deno.ChildProcess) {
    this.#proc = proc;
    this.#lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stderr = new Response(proc.stderr).text();
    proc.status.then(() => (this.#exited = true));
  }

  /** The next line of output, or null at its end or after `timeoutMs`. */
  async line(timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#buffer.includes("\n")) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), Math.max(0, deadline - Date.now()))));
      const chunk = await Promise.race([this.#lines.read(), timeout]);
      clearTimeout(timer);
      if (chunk === null || chunk.done) {
        const rest = this.#buffer;
        this.#buffer = "";
        return rest === "" ? null : rest;
      }
      this.#buffer += chunk.value;
    }
    const at = this.#buffer.indexOf("\n");
    const line = this.#buffer.slice(0, at);
    this.#buffer = this.#buffer.slice(at + 1);
    return line;
  }

  /** Sends SIGTERM and returns the JSON line the child prints as it ends. */
  async stop(): Promise<Record<string, unknown>> {
    this.#proc.kill("SIGTERM");
    return await this.finalJson();
  }

  /** Waits (10 s at most) for the child's last line, which must be JSON. */
  async finalJson(): Promise<Record<string, unknown>> {
    const line = await this.line(10_000);
    if (line === null) throw new Error(`the child ended without a result: ${await this.#stderr}`);
    return JSON.parse(line);
  }

  /** The exit code, once the child has ended. */
  async status(): Promise<number> {
    return (await this.#proc.status).code;
  }

  /** Ends the child if it still runs and releases its streams. */
  async kill(): Promise<void> {
    if (!this.#exited) {
      try {
        this.#proc.kill("SIGKILL");
      } catch {
        // It ended between the check and the kill.
      }
    }
    await this.#proc.status;
    await this.#lines.cancel();
    await this.#stderr;
  }
}

async function capture(argv: string[]): Promise<Finished> {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function run(argv: string[]): Promise<Finished> {
  const out = await capture(argv);
  if (out.code !== 0) throw new Error(`${argv.join(" ")}: ${out.stderr.trim()}`);
  return out;
}
