/**
 * Whether stateful NAT64 can run yet: `nat64 check-config` must accept a file with
 * `mode = "nat64"` and a pool4, and the engine must accept that configuration (checked
 * with an offline `nat64 translate` of no packets, which configures the engine and
 * nothing else). The NAT64 lab tests are skipped with the sentence this returns.
 *
 * @module
 */

import { NAT64, POOL4, POOL6 } from "./addresses.ts";
import { nat64Argv, runBounded } from "./harness.ts";

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

/** Null when `nat64 run --mode nat64` can start, else why not. */
export async function nat64ModeSkipReason(): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "nat64-probe-" });
  try {
    const file = `${dir}/nat64.toml`;
    await Deno.writeTextFile(file, `mode = "nat64"\npool6 = "${POOL6}"\npool4 = ["${POOL4}"]\n`);
    const check = await runBounded(nat64Argv(["check-config", file]), 30_000);
    if (check.code !== 0) return `nat64 check-config refuses mode = "nat64": ${firstLine(check.stderr)}`;
    const engine = await runBounded(nat64Argv(["translate", ...NAT64.flags, "+0s"]), 30_000);
    if (engine.code !== 0) return `stateful NAT64 is not available yet: ${firstLine(engine.stderr)}`;
    return null;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
