import { deepStrictEqual as eq, match } from "node:assert/strict";
import { checksumsValid } from "../util/packets.ts";
import { readPcap } from "../../src/pcap/pcap.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const SAMPLE = new URL("../../scripts/samples/siit-demo.pcap", import.meta.url).pathname;
const DEMO_FLAGS = [
  "--pool6",
  "2001:db8:64::/96",
  "--eamt",
  "2001:db8:1::/120=192.0.2.0/24",
  "--ipv4",
  "203.0.113.1",
  "--ipv6",
  "2001:db8:64::1",
];

async function nat64(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

const hexBytes = (line: string) => Uint8Array.from(line.split(" ")[1].match(/../g)!.map((h) => parseInt(h, 16)));

Deno.test("translate prints one <side> <hex> line per emitted packet, in order", async () => {
  const r = await nat64("translate", ...DEMO_FLAGS, SAMPLE);
  eq(r.stderr, "");
  eq(r.code, 0);
  const lines = r.stdout.trim().split("\n");
  // echo request, echo reply, UDP, TCP SYN, SYN-ACK, and a Time Exceeded for the hop-limit-1 probe.
  eq(lines.map((l) => l[0]), ["4", "6", "4", "4", "6", "6"]);
  for (const l of lines) eq(checksumsValid(hexBytes(l)), true, l.slice(0, 60));
  const timeExceeded = hexBytes(lines[5]);
  eq([timeExceeded[6], timeExceeded[40]], [58, 3]); // ICMPv6 type 3 (RFC 7915 §5.1: hop limit expired)
});

Deno.test("translate --out writes a raw-IP capture", async () => {
  const out = await Deno.makeTempFile({ suffix: ".pcap" });
  try {
    const r = await nat64("translate", ...DEMO_FLAGS, "--out", out, SAMPLE);
    eq([r.code, r.stdout], [0, ""]);
    eq(readPcap(await Deno.readFile(out)).length, 6);
  } finally {
    await Deno.remove(out);
  }
});

Deno.test("bad input gets one line naming it and a non-zero exit, never a stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/short.pkt`, Uint8Array.from([0x60, 0, 0, 0, 0, 8, 17, 64]));
    await Deno.writeFile(`${dir}/long.pkt`, Uint8Array.from([0x45, 0, 0, 60, ...new Array(36).fill(0)]));
    const cases: [string[], RegExp][] = [
      [[...DEMO_FLAGS, `${dir}/short.pkt`], /short\.pkt: packet 1 is truncated: 8 bytes, an IPv6 header needs 40/],
      [[...DEMO_FLAGS, `${dir}/long.pkt`], /long\.pkt: packet 1 is truncated: the IPv4 total length says 60 bytes, 40/],
      [["--pool6", "64:ff9b::/97", SAMPLE], /--pool6: "64:ff9b::\/97" has a prefix length|--pool6: .*RFC 6052/],
      [["--no-such-flag", SAMPLE], /unknown flag --no-such-flag/],
      [[...DEMO_FLAGS, `${dir}/missing.pkt`], /missing\.pkt: no such file/],
      [[...DEMO_FLAGS, "+8x"], /\+8x: neither a \.pkt or \.pcap file nor a \+Ns clock token/],
      [[...DEMO_FLAGS], /no ITEM given/],
    ];
    for (const [args, re] of cases) {
      const r = await nat64("translate", ...args);
      eq(r.code, 1, args.join(" "));
      match(r.stderr, /^nat64 translate: [^\n]+\n$/);
      match(r.stderr, re);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
