/**
 * `nat64 check-config` sizes the engine's pool4 like the gateway does at start: a /24
 * (768 pairs) is valid, a pool beyond the most the engine lays out is refused with the
 * count, as start-up would refuse it.
 */

import { deepStrictEqual as eq, rejects } from "node:assert/strict";
import { checkConfigCommand } from "../../src/gateway/run.ts";

async function checkPool4(pool4: string): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "nat64-check-" });
  try {
    const file = `${dir}/nat64.toml`;
    await Deno.writeTextFile(file, `mode = "nat64"\npool6 = "64:ff9b::/96"\npool4 = ["${pool4}"]\n`);
    return await checkConfigCommand([file]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("check-config accepts a /24 pool4 for all three protocols", async () => {
  eq(await checkPool4("198.18.0.0/24"), 0);
});

Deno.test("check-config refuses a pool4 beyond the engine's most, naming its pairs", async () => {
  await rejects(
    checkPool4("198.18.0.0/19"),
    /pool4 has 24576 \(protocol, address\) pairs, more than the 12288 the engine lays out at most/,
  );
});
