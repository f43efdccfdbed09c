/**
 * Lab test (root): a router namespace runs the PREF64 advertiser on one end of a veth
 * pair; a client namespace on the other end receives its Router Advertisements with an
 * independent raw-socket listener (Python's standard library) and `rdisc6` (ndisc6).
 * It checks the advertisement at start, the answer to a Router Solicitation, that a
 * solicitation with hop limit 254 is refused, and the withdrawal (lifetimes 0) at stop.
 */

import { deepStrictEqual as eq, match, ok } from "node:assert/strict";
import { defaultLibcPath } from "../../src/tun/libc.ts";
import { Child, Netns } from "../tun/netns.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const PYTHON = "/usr/bin/python3";

function skipReason(): string | null {
  if (Deno.build.os !== "linux") return "needs Linux";
  if (Deno.uid() !== 0) return "not root: network namespaces need root";
  for (const tool of [PYTHON, "/usr/bin/rdisc6"]) {
    try {
      Deno.statSync(tool);
    } catch {
      return `${tool} is missing (scripts/setup --test installs it)`;
    }
  }
  return null;
}

const reason = skipReason();
if (reason) console.log(`skipping the PREF64 lab test: ${reason}`);

interface Received {
  source: string;
  destination: string;
  hop_limit: number;
  icmp: string;
}

/** The parts of an RA the test checks, decoded here independently of src/pref64. */
function decodeRa(hex: string) {
  const b = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
  const options = new Map<number, Uint8Array>();
  for (let at = 16; at + 2 <= b.length && b[at + 1] > 0; at += b[at + 1] * 8) {
    options.set(b[at], b.subarray(at, at + b[at + 1] * 8));
  }
  const pref64 = options.get(38);
  return {
    type: b[0],
    code: b[1],
    routerLifetime: (b[6] << 8) | b[7],
    slla: options.get(1)
      ? [...options.get(1)!.subarray(2, 8)].map((x) => x.toString(16).padStart(2, "0")).join(":")
      : undefined,
    pref64: pref64 && {
      length: pref64[1],
      scaledLifetime: ((pref64[2] << 8) | pref64[3]) >> 3,
      plc: pref64[3] & 7,
      prefix: [...pref64.subarray(4, 16)],
    },
  };
}

/** Waits (10 s at most) until `ifname` in `ns` has a link-local address that is no longer tentative. */
async function usableLinkLocal(ns: Netns, ifname: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const info = JSON.parse(await ns.ip(["-j", "-6", "addr", "show", "dev", ifname]))[0]?.addr_info ?? [];
    if (info.some((a: { scope: string; tentative?: boolean }) => a.scope === "link" && !a.tentative)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${ifname} has no usable link-local address after 10 s`);
}

Deno.test({
  name: "lab: the client namespace gets PREF64 RAs at start, in answer to an RS, and a withdrawal at stop",
  ignore: reason !== null,
  async fn() {
    const router = await Netns.create("ra-r");
    const client = await Netns.create("ra-c");
    const rIf = `p64r${Deno.pid % 100000}`;
    const cIf = `p64c${Deno.pid % 100000}`;
    const children: Child[] = [];
    try {
      await router.ip(["link", "add", rIf, "type", "veth", "peer", "name", cIf, "netns", client.name]);
      await router.ip(["link", "set", rIf, "up"]);
      await client.ip(["link", "set", cIf, "up"]);
      const mac = JSON.parse(await router.ip(["-j", "link", "show", "dev", rIf]))[0].address;

      const spawn = (ns: Netns, argv: string[]) => {
        const child = new Child(
          new Deno.Command("ip", {
            args: ["netns", "exec", ns.name, ...argv],
            stdin: "null",
            stdout: "piped",
            stderr: "piped",
          })
            .spawn(),
        );
        children.push(child);
        return child;
      };
      const listener = spawn(client, [PYTHON, `${FIXTURES}ra_listen.py`, cIf, "3", "30"]);
      eq(await listener.line(10_000), `{"listening": "${cIf}"}`);

      // A /48 prefix (PLC 3) and a lifetime that is not a multiple of 8 (1001 s → 126 units).
      const advertiser = spawn(router, [
        Deno.execPath(),
        "run",
        `--allow-ffi=${defaultLibcPath()}`,
        "--allow-run=ip",
        `${FIXTURES}advertise.ts`,
        "--interface",
        rIf,
        "--prefix",
        "2001:db8:122::/48",
        "--lifetime",
        "1001",
      ]);
      eq(await advertiser.line(15_000), "ready");

      const first = JSON.parse((await listener.line(10_000))!) as Received;
      match(first.source, /^fe80:/, "RAs come from the link-local address (RFC 4861 §4.2)");
      eq(first.destination, "ff02::1");
      eq(first.hop_limit, 255);
      const ra = decodeRa(first.icmp);
      eq([ra.type, ra.code, ra.routerLifetime], [134, 0, 0]);
      eq(ra.slla, mac);
      eq(ra.pref64, {
        length: 2,
        scaledLifetime: 126,
        plc: 3,
        prefix: [0x20, 0x01, 0x0d, 0xb8, 0x01, 0x22, 0, 0, 0, 0, 0, 0],
      });

      // rdisc6 needs a source address: wait until the client's link-local has passed DAD.
      await usableLinkLocal(client, cIf);
      // The next unsolicited RA is 16 s away (RFC 4861 §6.2.4), so an RA now answers the RS.
      const rdisc = await client.exec(["rdisc6", "-1", "-r", "1", "-w", "6000", cIf]);
      eq(rdisc.code, 0, rdisc.stdout + rdisc.stderr);
      match(rdisc.stdout, /Router lifetime\s+:\s+0 \(0x00000000\) seconds/);
      match(rdisc.stdout, new RegExp(`from ${first.source}`));
      const answer = decodeRa((JSON.parse((await listener.line(10_000))!) as Received).icmp);
      eq(answer.pref64, ra.pref64);

      // A solicitation that crossed a router (hop limit 254) must be ignored (RFC 4861 §6.1.1).
      const forged = await client.exec([PYTHON, `${FIXTURES}ra_listen.py`, cIf, "0", "0", "--solicit", "254"]);
      eq(forged.code, 0, forged.stderr);

      const counters = await advertiser.stop();
      const last = decodeRa((JSON.parse((await listener.line(10_000))!) as Received).icmp);
      eq(
        [last.routerLifetime, last.pref64?.scaledLifetime, last.pref64?.plc],
        [0, 0, 3],
        "the final RA withdraws the prefix",
      );
      ok((counters.pref64_rs_received as number) >= 2, JSON.stringify(counters));
      eq(counters.pref64_rs_invalid, 1);
      eq(counters.pref64_ra_answers, 1, JSON.stringify(counters));
      ok((counters.pref64_ra_sent as number) >= 3, "start, the answer, the withdrawal");
      eq(counters.pref64_ra_send_errors, 0);
    } finally {
      for (const child of children) await child.kill();
      await router.delete();
      await client.delete();
    }
  },
});
