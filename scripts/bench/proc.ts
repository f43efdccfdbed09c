/**
 * Child processes for the bench: one-shot commands with a time limit, and background
 * processes (servers, translators) that are always stopped, even when the bench fails
 * half-way, because each one registers itself until it is stopped.
 *
 * @module
 */

import { processTree } from "./proctree.ts";

/** What a finished command printed. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
  /** True when the time limit ended it. */
  timedOut: boolean;
}

const decoder = new TextDecoder();

/** Runs `argv` to completion, SIGKILLed after `timeoutMs`; never throws for a non-zero exit. */
export async function capture(argv: string[], timeoutMs = 60_000, cwd?: string): Promise<Output> {
  const child = new Deno.Command(argv[0], { args: argv.slice(1), cwd, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // It ended just now.
    }
  }, timeoutMs);
  try {
    const out = await child.output();
    return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr), timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `argv`; throws one line naming the command and its complaint unless it exits 0. */
export async function must(argv: string[], timeoutMs = 30_000): Promise<string> {
  const out = await capture(argv, timeoutMs);
  if (out.code !== 0 || out.timedOut) {
    const why = out.timedOut
      ? `no answer within ${timeoutMs} ms`
      : out.stderr.trim().split("\n")[0] || `exit ${out.code}`;
    throw new Error(`${argv.join(" ")}: ${why}`);
  }
  return out.stdout;
}

const running = new Set<Background>();

/** A long-running child whose output is kept, stopped by `stop()` or by `stopAll()`. */
export class Background {
  /** Short name for messages ("tayga", "iperf3 server"). */
  readonly name: string;
  /** The child's process id. */
  readonly pid: number;
  readonly #child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  #exit: number | null = null;
  readonly #done: Promise<void>;

  /** Starts `argv` (in `cwd`) and registers it for `stopAll()`. */
  constructor(name: string, argv: string[], cwd?: string) {
    this.name = name;
    this.#child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.#child.pid;
    running.add(this);
    const collect = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) add(chunk);
    };
    this.#done = Promise.all([
      collect(this.#child.stdout, (s) => (this.#stdout += s)),
      collect(this.#child.stderr, (s) => (this.#stderr += s)),
      this.#child.status.then((s) => (this.#exit = s.code)),
    ]).then(() => undefined);
  }

  /** Everything printed so far, stdout then stderr. */
  get output(): string {
    return this.#stdout + this.#stderr;
  }

  /** Everything printed on stdout so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** The exit code, or null while it runs. */
  get exitCode(): number | null {
    return this.#exit;
  }

  /**
   * Waits until `ready()` holds (checked every 50 ms), up to `timeoutMs`. Throws if the
   * child exits first or the time runs out, quoting what it printed.
   */
  async waitUntil(ready: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!(await ready())) {
      if (this.#exit !== null) {
        throw new Error(`${this.name} exited (code ${this.#exit}) before ${what}: ${this.tail()}`);
      }
      if (performance.now() > deadline) {
        throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms: ${this.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The last non-empty line the child printed, for error messages. */
  tail(): string {
    const lines = this.output.trim().split("\n").filter((l) => l.trim() !== "");
    return lines.at(-1) ?? "(nothing printed)";
  }

  /** SIGTERM to the child's tree, then SIGKILL if it has not ended after `graceMs`; resolves once it is gone. */
  async stop(graceMs = 3000): Promise<void> {
    running.delete(this);
    if (this.#exit === null) {
      this.#signal("SIGTERM");
      const timer = setTimeout(() => this.#signal("SIGKILL"), graceMs);
      await this.#done;
      clearTimeout(timer);
    }
    await this.#done;
  }

  /** Signals the child and its descendants (a `deno task` forwards no signal to the `deno run` below it). */
  #signal(sig: Deno.Signal): void {
    for (const pid of processTree(this.pid)) {
      try {
        Deno.kill(pid, sig);
      } catch {
        // Already ended.
      }
    }
  }
}

/** Stops every background child still running (the bench's cleanup path). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((b) => b.stop()));
}
