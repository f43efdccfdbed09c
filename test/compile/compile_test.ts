/**
 * `deno compile` up to the step these machines cannot take (downloading the `denort`
 * base binary): with the running `deno` standing in as the base, compile must succeed
 * and list the engine's WebAssembly among the embedded files, so the binary reads no
 * file at run time. The datapath worker is loaded by `new Worker` at run time, so it is
 * named with `--include`, as `scripts/compile` does.
 */

import { deepStrictEqual as eq, match } from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const WORKER = "src/datapath/worker.ts";

Deno.test("deno compile embeds the WebAssembly engine in the module graph", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "--allow-read", "--include", WORKER, "--output", `${dir}/nat64`, "src/main.ts"],
      cwd: ROOT,
      env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    eq(out.code, 0, text);
    match(text, /Embedded Files/);
    match(text, /nat64_engine\.wasm/);
    match(text, /src\/\*/);
    match(await Deno.readTextFile(`${ROOT}scripts/compile`), new RegExp(`--include ${WORKER}`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
