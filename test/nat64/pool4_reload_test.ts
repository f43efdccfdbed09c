/**
 * The NAT64 tables are laid out for the pool4 of the config the gateway starts with; a
 * SIGHUP reload whose pool4 has more (protocol, address) pairs than that is refused
 * with a sentence asking for a restart, and the running pool4 keeps translating. A
 * lab test (root, /dev/net/tun): skipped, with the reason printed, elsewhere.
 */

import { deepStrictEqual as eq, match } from "node:assert/strict";
import { POOL6, TRANSLATOR4, TRANSLATOR6 } from "../e2e/addresses.ts";
import { Gateway, labSkipReason } from "../e2e/harness.ts";
import { nat64ModeSkipReason } from "../e2e/nat64_probe.ts";
import { clientPingsServer } from "../e2e/scenarios.ts";
import { reloadWith, withLab } from "../reliability/lifecycle.ts";

const reason = labSkipReason() ?? await nat64ModeSkipReason();
if (reason) console.log(`skipping the pool4 reload test: ${reason}`);

function nat64Config(pool4: string): string {
  return `mode = "nat64"
pool6 = "${POOL6}"
pool4 = ["${pool4}"]
ipv4 = "${TRANSLATOR4}"
ipv6 = "${TRANSLATOR6}"
`;
}


Deno.test({
  name: "pool4: a reload that grows pool4 beyond the pairs laid out at start is refused and asks for a restart",
  ignore: reason !== null,
  fn: () =>
    withLab("pool4-reload", async (lab, dir) => {
      const file = `${dir}/gateway.toml`;
      // 64 addresses for three protocols: 192 pairs laid out.
      await Deno.writeTextFile(file, nat64Config("192.0.2.0/26"));
      const gw = await Gateway.start(lab, ["--config", file], dir);
      try {
        await clientPingsServer(lab, gw);
        const grown = await reloadWith(gw, file, nat64Config("192.0.2.0/24"));
        match(
          grown,
          /reload refused.*pool4 entry 0 brings pool4 to 768 \(protocol, address\) pairs, beyond the 192 laid out at start: a larger pool4 needs a restart/,
        );
        console.log(`refused: ${grown}`);
        await clientPingsServer(lab, gw);
        match(await reloadWith(gw, file, nat64Config("192.0.2.0/27")), /configuration reloaded/);
        await clientPingsServer(lab, gw);
      } finally {
        eq(await gw.stop(), 0, gw.log);
      }
    }),
});
