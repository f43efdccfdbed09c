/**
 * DNS64 findings of the fuzzer as exact exchanges: a scripted upstream answer and the
 * client query that brings it out, judged by the fuzzer's own answer check. A test that
 * fails when written is marked `ignore` with a one-line note naming the bug until fixed.
 */

import { Dns64Server } from "../../src/dns64/server.ts";
import { HostileUpstream, type Script } from "./hostile_upstream.ts";
import { udpRound } from "./dns_exchange.ts";
import { checkAnswer, FUZZ_PREFIX } from "./dns_queries.ts";
import { fromHex } from "./prng.ts";

/** Asks `queryHex` of a listener whose upstream answers with `script`; returns the check's problems. */
async function problemsWith(script: Script, queryHex: string): Promise<string[]> {
  const upstream = await HostileUpstream.start(0, script);
  const server = new Dns64Server({
    listen: ["127.0.0.1:0"],
    upstream: [upstream.address],
    prefix: [FUZZ_PREFIX],
    timeoutMs: 200,
    retries: 0,
  });
  await server.start();
  try {
    const query = fromHex(queryHex);
    const { answers } = await udpRound(server.addresses()[0].port, [query], [true], 2000);
    return checkAnswer(
      { bytes: query, expect: { answer: true, rcode: "resolved", udpLimit: 512 }, how: "regression" },
      answers[0],
      "udp",
    );
  } finally {
    await server.stop();
    await upstream.stop();
  }
}

/** The upstream's answer: the query's header and question with QR, RD, RA and `rcode`, then `records` (ANCOUNT 1 when given). */
function answerWith(rcode: number, records: number[]): Script {
  return (q) => {
    const end = q.indexOf(0, 12) + 5;
    const out = Uint8Array.from([...q.subarray(0, end), ...records]);
    out[2] = 0x81;
    out[3] = 0x80 | rcode;
    out.fill(0, 6, 12);
    if (records.length) out[7] = 1;
    return out;
  };
}

/** `v4only.fuzz.example A`, ID 7, RD, no EDNS. */
const A_QUERY = "000701000001000000000000" + "0676346f6e6c790466757a7a076578616d706c6500" + "00010001";
/** `x.fuzz.example TXT`, ID 7, RD, no EDNS. */
const TXT_QUERY = "000701000001000000000000" + "01780466757a7a076578616d706c6500" + "00100001";

Deno.test("an upstream YXDOMAIN to a plain A query does not reach the client as YXDOMAIN (fuzzer finding, fixed)", async () => {
  const problems = await problemsWith(answerWith(6, []), A_QUERY);
  if (problems.length) throw new Error(problems.join("\n"));
});

Deno.test("an upstream CNAME whose RDATA name runs past RDLENGTH is not relayed as it is (fuzzer finding, fixed)", async () => {
  // Owner: pointer to the question; CNAME IN TTL 60 RDLENGTH 4: a 5-octet label with 3 octets.
  const cname = [0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 5, 0x61, 0x62, 0x63];
  const problems = await problemsWith(answerWith(0, cname), TXT_QUERY);
  if (problems.length) throw new Error(problems.join("\n"));
});

Deno.test("an upstream NXDOMAIN reaches the client as NXDOMAIN with the query's ID and question", async () => {
  const problems = await problemsWith(answerWith(3, []), A_QUERY);
  if (problems.length) throw new Error(problems.join("\n"));
});
