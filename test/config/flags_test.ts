import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { parseFlags } from "../../src/config/flags.ts";
import { checkTranslatorConfig } from "../../src/config/schema.ts";
import { formatPrefix } from "../../src/net/ip.ts";

Deno.test("flags become a translator config, with defaults for what is not given", () => {
  const { config, layer, positionals } = parseFlags([
    "--mode",
    "siit",
    "--pool6",
    "2001:db8:100::/40",
    "--eamt",
    "2001:db8:3::/120=1.0.0.0/24",
    "--eamt",
    "2001:db8:2::/120=10.0.0.0/24",
    "--udp-zero-csum",
    "calc",
    "--zeroize-traffic-class",
    "a.pkt",
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
  throws(
    () => checkTranslatorConfig(parseFlags(["--mode", "nat64", "--eamt", "2001:db8::/128=192.0.2.1"]).config),
    /needs pool6/,
  );
});

Deno.test("pool4, static BIB and timeouts parse into the NAT64 settings", () => {
  const { config } = parseFlags([
    "--mode",
    "nat64",
    "--pool6",
    "64:ff9b::/96",
    "--pool4",
    "192.0.2.2:1-3000",
    "--pool4",
    "udp,198.51.100.0/30",
    "--static-bib",
    "tcp,192.0.2.2#2000,2001:db8::5#2000",
    "--udp-timeout",
    "150",
    "--filtering",
    "address-dependent",
  ]);
  const n = config.nat64;
  eq(n.pool4.map((r) => `${r.proto} ${formatPrefix(r.prefix)} ${r.firstPort}-${r.lastPort}`), [
    "tcp 192.0.2.2/32 1-3000",
    "udp 192.0.2.2/32 1-3000",
    "icmp 192.0.2.2/32 1-3000",
    "udp 198.51.100.0/30 1024-65535",
  ]);
  eq(n.staticBib.length, 1);
  eq([n.staticBib[0].port4, n.staticBib[0].port6, n.staticBib[0].proto], [2000, 2000, "tcp"]);
  eq([n.timeouts.udp, n.timeouts.tcpEstablished, n.filtering], [150, 7440, "address-dependent"]);
  checkTranslatorConfig(config);
});

Deno.test("NAT64 keys refuse what RFC 6146 forbids, naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--udp-timeout", "60"], /--udp-timeout: .*UDP_MIN/],
    [["--tcp-est-timeout", "3600"], /--tcp-est-timeout: .*TCP_EST/],
    [["--pool4", "sctp,192.0.2.1"], /--pool4: .*"sctp" is not tcp, udp or icmp/],
    [["--pool4", "192.0.2.1:3000-1"], /--pool4: .*FIRST-LAST/],
    [["--pool4", "tcp,192.0.2.1:0-10"], /--pool4: .*port 0/],
    [["--static-bib", "tcp,192.0.2.2:2000,2001:db8::5#2000"], /--static-bib: .*PROTO,V4#PORT,V6#PORT/],
  ];
  for (const [args, re] of cases) throws(() => parseFlags(args), re, args.join(" "));
  throws(() => checkTranslatorConfig(parseFlags(["--mode", "nat64", "--pool6", "64:ff9b::/96"]).config), /needs pool4/);
});
