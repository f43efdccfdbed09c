/**
 * `deno compile` up to the step these machines cannot take (downloading the `denort`
 * base binary): with the running `deno` standing in as the base, compile must succeed
 * and list the engine's WebAssembly among the embedded files, so the binary reads no
 * file at run time.
 */

import { deepStrictEqual as eq, match } from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("deno compile embeds the WebAssembly engine in the module graph", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "--allow-read", "--output", `${dir}/nat64`, "src/main.ts"],
      cwd: ROOT,
      env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    eq(out.code, 0, text);
    match(text, /Embedded Files/);
    match(text, /nat64_engine\.wasm/);
    match(text, /main\.ts/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
