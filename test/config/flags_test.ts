import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { parseFlags } from "../../src/config/flags.ts";
import { checkTranslatorConfig } from "../../src/config/schema.ts";
import { formatPrefix } from "../../src/net/ip.ts";

Deno.test("flags become a translator config, with defaults for what is not given", () => {
  const { config, layer, positionals } = parseFlags([
    "--mode", "siit", "--pool6", "2001:db8:100::/40", "--eamt", "2001:db8:3::/120=1.0.0.0/24",
    "--eamt", "2001:db8:2::/120=10.0.0.0/24", "--udp-zero-csum", "calc", "--zeroize-traffic-class", "a.pkt",
  ]);
  eq(formatPrefix(config.pool6!), "2001:db8:100::/40");
  eq(config.eamt.map((e) => `${formatPrefix(e.v6)}=${formatPrefix(e.v4)}`), [
    "2001:db8:3::/120=1.0.0.0/24",
    "2001:db8:2::/120=10.0.0.0/24",
  ]);
  eq([config.udpZeroCsum, config.zeroizeTrafficClass, config.lowestIpv6Mtu, config.mtuV4], ["calc", true, 1280, 1500]);
  eq(layer.has("eamt") && !layer.has("mtu-v6"), true);
  eq(positionals, ["a.pkt"]);
});

Deno.test("each bad flag gets one sentence naming it", () => {
  const cases: [string[], RegExp][] = [
    [["--pool6", "2001:db8::/33"], /^Error: --pool6: .*RFC 6052 lengths/],
    [["--pool6", "2001:db8:0:0:ff00::/96"], /^Error: --pool6: .*u-octet/],
    [["--eamt", "2001:db8::/120"], /^Error: --eamt: .*V6PREFIX=V4PREFIX/],
    [["--eamt", "2001:db8::/124=192.0.2.0/24"], /^Error: --eamt: .*larger IPv4 suffix/],
    [["--mode", "nat46"], /^Error: --mode: "nat46" is neither/],
    [["--lowest-ipv6-mtu", "1000"], /^Error: --lowest-ipv6-mtu: .*1280 to 65535/],
    [["--ipv4", "300.1.1.1"], /^Error: --ipv4: .*not an IPv4 address/],
    [["--frobnicate"], /^Error: unknown flag --frobnicate/],
    [["--pool6"], /^Error: flag --pool6 needs a value/],
  ];
  for (const [args, re] of cases) throws(() => parseFlags(args), re, args.join(" "));
});

Deno.test("a config that cannot translate anything is refused as a whole", () => {
  throws(() => checkTranslatorConfig(parseFlags([]).config), /neither pool6 nor eamt/);
  throws(() => checkTranslatorConfig(parseFlags(["--mode", "nat64", "--eamt", "2001:db8::/128=192.0.2.1"]).config), /needs pool6/);
});
