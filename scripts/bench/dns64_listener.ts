/**
 * The DNS64 listener as its own process for the benchmark, started exactly like
 * `nat64 dns64 ...` (network permission only).
 */

import { runDns64Command } from "../../src/dns64/cli.ts";

Deno.exit(await runDns64Command(Deno.args));
