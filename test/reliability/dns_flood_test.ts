/**
 * A DNS query flood from one client against the DNS64 listener inside `nat64 run`
 * (issue 8): with `dns64-rate-limit` set, the flooding address gets its rate answered
 * and the rest dropped and counted, while another client on the same network is still
 * answered every time. The flood comes from an extra client address and never waits for
 * answers; dig asks from the usual one. Upstream is nsd on the IPv4-only server.
 * Skipped with the reason printed when not root, without /dev/net/tun, python3, nsd or dig.
 */

import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { CLIENT6, GW6, SERVER4, SERVER6, SIIT } from "../e2e/addresses.ts";
import { labSkipReason, withGateway } from "../e2e/harness.ts";
import { startNsd, WWW } from "../e2e/nsd.ts";
import { missingBinary } from "../dns64/daemons.ts";
import { grew, readCounters } from "./counters.ts";
import { addClientAddresses, clientAddresses, dnsFlood, floodSkipReason } from "./flood.ts";

const missing = missingBinary("nsd", "dig");
const reason = labSkipReason() ?? floodSkipReason() ??
  (missing ? `${missing} is not installed (scripts/setup --test installs it)` : null);
if (reason) console.log(`skipping the DNS flood test: ${reason}`);

/** Queries per second one client may ask. */
const RATE = 50;
/** Queries per second the flooder sends, and for how long. */
const FLOOD_RATE = 2000;
const FLOOD_SECONDS = 3;
/** The other client's questions, one every 200 ms while the flood runs. */
const ASKS = 10;

Deno.test({
  name: "DNS flood: one client over its rate limit is cut to its rate; another client is answered every time",
  ignore: reason !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "nat64-dnsflood-" });
    try {
      await withGateway("dnsflood", SIIT, async (lab, gw) => {
        const nsd = await startNsd(lab, dir);
        try {
          const [flooder] = clientAddresses(0x66, 1);
          await addClientAddresses(lab, [flooder]);
          const dig = () =>
            lab.must("client", ["dig", "+short", "+tries=1", "+timeout=2", "-b", CLIENT6, `@${GW6}`, WWW, "AAAA"]);
          eq((await dig()).trim(), SERVER6, "the listener answers before the flood");
          const before = await readCounters(gw.socket);
          const running = dnsFlood(lab, {
            src: flooder,
            server: GW6,
            name: WWW,
            rate: FLOOD_RATE,
            seconds: FLOOD_SECONDS,
          });
          const answers: string[] = [];
          for (let i = 0; i < ASKS; i++) {
            await new Promise((r) => setTimeout(r, 200));
            answers.push((await dig()).trim());
          }
          const flood = await running;
          const after = await readCounters(gw.socket);
          const limited = grew(before, after, "dns64_rate_limited");
          console.log(
            `DNS flood from ${flooder}: ${flood.sent} queries at ${FLOOD_RATE}/s, ${flood.answered} answered, ` +
              `${limited} dropped by the limit of ${RATE}/s; the other client got ` +
              `${answers.filter((a) => a === SERVER6).length} of ${ASKS} answers`,
          );
          eq(answers, Array(ASKS).fill(SERVER6), "the other client must be answered every time");
          ok(flood.sent >= FLOOD_RATE * FLOOD_SECONDS * 0.9, `the flooder sent only ${flood.sent} queries`);
          // One second's burst, then the rate, for as long as the flood lasted (a quarter second of slack).
          const most = RATE * (1 + flood.seconds + 0.25);
          ok(flood.answered <= most, `the flooder got ${flood.answered} answers, above ${most}`);
          ok(flood.answered >= RATE, `the flooder got ${flood.answered} answers: fewer than one second's rate`);
          ok(limited >= flood.sent * 0.8 - most, `only ${limited} counted under dns64_rate_limited`);
        } finally {
          await nsd.stop();
        }
      }, () => ["--dns64-listen", `[${GW6}]:53`, "--dns64-upstream", SERVER4, "--dns64-rate-limit", String(RATE)]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
