/** The gateway's own run keys that shape the datapath: queues and offloads, and the rules across keys. */

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { readCommandLine } from "../../src/config/flags.ts";
import { buildGatewayConfig, GATEWAY_KEYS } from "../../src/gateway/config.ts";

const build = (...flags: string[]) => buildGatewayConfig(readCommandLine(flags, {}, GATEWAY_KEYS).layer).config;

Deno.test("by default: one queue, offloads on", () => {
  const c = build("--pool6", "64:ff9b::/96");
  eq([c.run.queues, c.run.noOffloads], [1, false]);
});

Deno.test("SIIT takes several queues; no-offloads turns offloads off", () => {
  const c = build("--pool6", "64:ff9b::/96", "--queues", "4", "--no-offloads");
  eq([c.run.queues, c.run.noOffloads], [4, true]);
});

Deno.test("stateful NAT64 keeps to one queue, and says why", () => {
  throws(
    () => build("--mode", "nat64", "--pool6", "64:ff9b::/96", "--pool4", "192.0.2.1", "--queues", "2"),
    /^Error: queues = 2 needs mode = "siit": stateful NAT64 keeps its sessions in one queue$/,
  );
});

Deno.test("a queue count out of range names the key and the range", () => {
  throws(() => build("--pool6", "64:ff9b::/96", "--queues", "0"), /queues.*"0" is not a whole number from 1 to 256/);
  throws(() => build("--pool6", "64:ff9b::/96", "--queues", "257"), /"257" is not a whole number from 1 to 256/);
});
