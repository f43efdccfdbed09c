import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { readPcap, writePcap } from "../../src/pcap/pcap.ts";

const sample = new URL("../../scripts/samples/siit-demo.pcap", import.meta.url);

Deno.test("a raw-IP capture reads back what was written", () => {
  const packets = readPcap(Deno.readFileSync(sample));
  eq(packets.length, 6);
  eq(packets.map((p) => p.data[0] >> 4), [6, 4, 6, 6, 4, 6]);
  const again = readPcap(writePcap(packets));
  eq(again.map((p) => Array.from(p.data)), packets.map((p) => Array.from(p.data)));
});

Deno.test("Ethernet frames lose their link header; non-IP frames are skipped", () => {
  const ip = readPcap(Deno.readFileSync(sample))[0].data;
  const eth = new Uint8Array(14 + ip.length);
  eth.set([0x86, 0xdd], 12);
  eth.set(ip, 14);
  const arp = new Uint8Array(42);
  arp.set([0x08, 0x06], 12);
  const file = writePcap([{ data: eth, timeMs: 0 }, { data: arp, timeMs: 1 }]);
  file[20] = 1; // LINKTYPE_ETHERNET
  const packets = readPcap(file);
  eq(packets.length, 1);
  eq(Array.from(packets[0].data), Array.from(ip));
});

Deno.test("malformed captures are refused with a reason", () => {
  throws(() => readPcap(new Uint8Array(10)), /too short/);
  throws(() => readPcap(new Uint8Array(24)), /bad magic/);
  const file = writePcap([{ data: new Uint8Array(40), timeMs: 0 }]);
  throws(() => readPcap(file.subarray(0, file.length - 1)), /record 1 is cut short/);
});
