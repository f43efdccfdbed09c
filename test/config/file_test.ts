import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { parseConfigText } from "../../src/config/file.ts";
import { applyLayers } from "../../src/config/layers.ts";
import { readCommandLine } from "../../src/config/flags.ts";
import { defaultTranslatorConfig, TRANSLATOR_KEYS } from "../../src/config/schema.ts";
import { formatPrefix } from "../../src/net/ip.ts";

const FILE = `# gateway
mode = "siit"
pool6 = "64:ff9b::/96"
eamt = ["2001:db8:1::/120=192.0.2.0/24", "2001:db8:2::/120=198.51.100.0/24"]
lowest-ipv6-mtu = 1400
zeroize-traffic-class = true
`;

Deno.test("file keys are the flag names, and flags override the file key by key", () => {
  const file = parseConfigText(FILE, "gw.toml", TRANSLATOR_KEYS);
  const flags = readCommandLine(["--lowest-ipv6-mtu", "1500"]).layer;
  const c = applyLayers(defaultTranslatorConfig(), TRANSLATOR_KEYS, file, flags);
  eq(formatPrefix(c.pool6!), "64:ff9b::/96");
  eq(c.eamt.length, 2);
  eq([c.lowestIpv6Mtu, c.zeroizeTrafficClass], [1500, true]);
});

Deno.test("file errors name the file, the line and the key", () => {
  const err = (text: string) => {
    const layer = parseConfigText(text, "gw.toml", TRANSLATOR_KEYS);
    applyLayers(defaultTranslatorConfig(), TRANSLATOR_KEYS, layer);
  };
  throws(() => err(`mode = "siit"\npool7 = "x"\n`), /^Error: gw\.toml line 2: pool7: unknown key$/);
  throws(() => err(`\n\npool6 = "64:ff9b::/95"\n`), /^Error: gw\.toml line 3: pool6: .*RFC 6052 lengths/);
  throws(() => err(`pool6 = ["64:ff9b::/96"]\n`), /^Error: gw\.toml line 1: pool6: takes one value, not a list/);
  throws(() => err(`zeroize-traffic-class = "yes"\n`), /line 1: zeroize-traffic-class: must be true or false/);
  throws(() => err(`mode = "siit\n`), /^Error: gw\.toml line 1: /);
  throws(() => err(`[nat64]\npool4 = "192.0.2.1"\n`), /nat64: unknown key \(sections are not used/);
});
