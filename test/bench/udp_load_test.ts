/**
 * The bench's UDP load tool: its results into figures, the lossless search, and a real
 * sender and receiver on loopback (the sendmmsg/recvmmsg structures through FFI).
 */

import { deepStrictEqual as eq, ok, throws } from "node:assert/strict";
import {
  formatEndpoint,
  parseEndpoint,
  parseUdpLoad,
  receiveArgs,
  searchLossless,
  sendArgs,
} from "../../scripts/bench/udp_load.ts";

Deno.test("delivered and loss are counted against what was sent, over the sender's interval", () => {
  const u = parseUdpLoad('{"sent":200000,"seconds":2}\n', '{"listening":"x"}\n{"received":150000,"seconds":1.9}\n', 64);
  eq(u.sentPps, 100_000);
  eq(u.deliveredPps, 75_000);
  eq(u.lossPercent, 25);
  eq(u.deliveredMbps, (150_000 * 64 * 8) / 2 / 1e6);
});

Deno.test("a missing or broken result is named", () => {
  throws(() => parseUdpLoad("", '{"received":1}', 64), { message: "the UDP sender printed no result" });
  throws(() => parseUdpLoad('{"sent":1,"seconds":1}', '{"listening":"x"}', 64), {
    message: 'the UDP receiver\'s result has no number "received": {"listening":"x"}',
  });
  throws(() => parseUdpLoad('{"sent":1,"seconds":0}', '{"received":1}', 64), {
    message: "the UDP sender's result covers no time",
  });
});

Deno.test("endpoints: IPv6 in brackets, IPv4 bare, and a sentence for anything else", () => {
  eq(formatEndpoint("2001:db8:64::c633:6402", 5301), "[2001:db8:64::c633:6402]:5301");
  eq(parseEndpoint("[2001:db8:64::c633:6402]:5301"), { host: "2001:db8:64::c633:6402", port: 5301 });
  eq(parseEndpoint("198.51.100.2:5301"), { host: "198.51.100.2", port: 5301 });
  throws(() => parseEndpoint("198.51.100.2"), { message: '"198.51.100.2" is not ADDRESS:PORT ([v6]:port for IPv6)' });
  const send = sendArgs("198.51.100.2", 5301, 64, 2, 80);
  eq(send.slice(send.indexOf("send")), ["send", "--to", "198.51.100.2:5301", "--payload", "64", "--seconds", "2", "--kpps", "80"]);
  ok(!sendArgs("198.51.100.2", 5301, 64, 2).includes("--kpps"), "flat out has no rate");
});

Deno.test("the lossless search bisects to the highest passing rate, and 0 when nothing passes", async () => {
  const tried: number[] = [];
  const capacity = (limit: number) => (kpps: number) => {
    tried.push(kpps);
    return Promise.resolve(kpps <= limit ? 0.05 : 3);
  };
  eq(await searchLossless(capacity(300), 400, 4, 0.1), 300);
  eq(tried, [200, 300, 350, 325]);
  eq(await searchLossless(capacity(-1), 400, 3, 0.1), 0);
});

/** Runs the tool's receiver and a sender on loopback; returns both outputs. */
async function loopback(port: number, kpps?: number): Promise<{ sender: string; receiver: string }> {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const receiver = new Deno.Command(Deno.execPath(), { args: receiveArgs("127.0.0.1", port, 20), stdout: "piped" })
    .spawn();
  const reader = receiver.stdout.getReader();
  const first = text((await reader.read()).value ?? new Uint8Array());
  ok(first.includes("listening"), `receiver said: ${first}`);
  const sender = await new Deno.Command(Deno.execPath(), { args: sendArgs("127.0.0.1", port, 64, 0.5, kpps) })
    .output();
  let rest = first;
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += text(r.value);
  await receiver.status;
  eq(sender.code, 0, text(sender.stderr));
  return { sender: text(sender.stdout), receiver: rest };
}

Deno.test("loopback: a paced sender keeps to its rate and every datagram but the end markers is counted", async () => {
  const { sender, receiver } = await loopback(45301, 10);
  const sent = JSON.parse(sender.trim()).sent as number;
  const seconds = JSON.parse(sender.trim()).seconds as number;
  ok(sent > 0 && sent <= 10 * seconds * 1000 + 64, `${sent} sent in ${seconds} s at 10 kpps`);
  eq(JSON.parse(receiver.trim().split("\n").at(-1)!).received, sent);
});

Deno.test("loopback: flat out, the receiver never counts more than was sent", async () => {
  const { sender, receiver } = await loopback(45302);
  const u = parseUdpLoad(sender, receiver, 64);
  ok(u.sentPps > 10_000, `only ${u.sentPps} datagrams/s sent flat out`);
  ok(u.deliveredPps > 0 && u.deliveredPps <= u.sentPps, `${u.deliveredPps} of ${u.sentPps}`);
});
