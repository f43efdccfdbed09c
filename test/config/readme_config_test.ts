/**
 * The config file README.md shows is the one users copy: it must validate, engine
 * included, exactly as `nat64 check-config` would.
 */

import { deepStrictEqual as eq } from "node:assert/strict";
import { parseConfigText } from "../../src/config/file.ts";
import { buildGatewayConfig, GATEWAY_KEYS } from "../../src/gateway/config.ts";
import { Engine } from "../../src/engine/engine.ts";

Deno.test("the README's config file validates, every key of it known", () => {
  const readme = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));
  const block = readme.match(/```toml\n([\s\S]*?)```/);
  if (!block) throw new Error("README.md has no toml block");
  const { config } = buildGatewayConfig(parseConfigText(block[1], "README.md", GATEWAY_KEYS));
  Engine.create({ slotCount: 1, sessionCapacity: config.translator.nat64.sessionCapacity }).configure(
    config.translator,
    { sessionEvents: config.operator.logSessions },
  );
  eq(config.translator.mode, "nat64");
  // Every key the gateway knows is documented there, commented out or not.
  const missing = GATEWAY_KEYS.map((k) => k.name).filter((name) => !new RegExp(`^#? ?${name} = `, "m").test(block[1]));
  eq(missing, []);
});
