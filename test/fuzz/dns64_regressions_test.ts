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

/**
 * The upstream's answer: the query's header and question with QR, RD, RA and `rcode`,
 * then the `answers` and `additionals` records (each a whole record's bytes).
 */
function answerWith(rcode: number, answers: number[][], additionals: number[][] = []): Script {
  return (q) => {
    const end = q.indexOf(0, 12) + 5;
    const out = Uint8Array.from([...q.subarray(0, end), ...answers.flat(), ...additionals.flat()]);
    out[2] = 0x81;
    out[3] = 0x80 | rcode;
    out.fill(0, 6, 12);
    out[7] = answers.length;
    out[11] = additionals.length;
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
  const problems = await problemsWith(answerWith(0, [cname]), TXT_QUERY);
  if (problems.length) throw new Error(problems.join("\n"));
});

/** Answers every query with `hex` (a captured upstream answer), the query's ID put in. */
function replay(hex: string): Script {
  return (q) => {
    const out = fromHex(hex);
    out.set(q.subarray(0, 2));
    return out;
  };
}

Deno.test({
  name: "an upstream record of type A, class 1232, RDLENGTH 0 (a damaged OPT) is not relayed as it is",
  fn: async () => {
    // Seed 777 round 338: `dual.fuzz.example AAAA` with EDNS 4096; the upstream's AAAA answer with its OPT's type turned to A.
    const query = "002c01100001000000000001046475616c0466757a7a076578616d706c6500001c00010000291000000000000000";
    const answer = "a45881800001000100000001046475616c0466757a7a076578616d706c6500001c0001046475616c0466757a7a07" +
      "6578616d706c6500001c00010000003c001020010db800000000000000000000000100000104d0000000000000";
    const problems = await problemsWith(replay(answer), query);
    if (problems.length) throw new Error(problems.join("\n"));
  },
});

Deno.test("an upstream NXDOMAIN reaches the client as NXDOMAIN with the query's ID and question", async () => {
  const problems = await problemsWith(answerWith(3, []), A_QUERY);
  if (problems.length) throw new Error(problems.join("\n"));
});
