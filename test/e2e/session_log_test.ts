/**
 * The session log in the lab (`log-sessions`): a stateful NAT64 gateway run from a config
 * file, turned on by a reload, logs the creation of a real client's UDP and ICMP
 * sessions with both sides, the ICMP session's expiry (icmp-timeout 2 s: UDP cannot
 * expire sooner than RFC 6146's two minutes) and, after a reload takes the pool4
 * address away, the UDP sessions' removal. Skipped, with the reason printed, when not
 * root, without /dev/net/tun, or while `nat64 run --mode nat64` cannot start.
 */

import { deepStrictEqual as eq, match } from "node:assert/strict";
import { CLIENT6, POOL4, SERVER4, SERVER6, TRANSLATOR4, TRANSLATOR6 } from "./addresses.ts";
import { Gateway, labSkipReason } from "./harness.ts";
import { nat64ModeSkipReason } from "./nat64_probe.ts";
import { logLength, logLine, withLab } from "../reliability/lifecycle.ts";
import { gatewayPid } from "../reliability/counters.ts";

const reason = labSkipReason() ?? await nat64ModeSkipReason();
if (reason) console.log(`skipping the session log end-to-end test: ${reason}`);

/** The gateway's config file: stateful NAT64 with a one-address pool4 and `extra` keys. */
function config(pool4: string, extra: string): string {
  return `mode = "nat64"
pool6 = "2001:db8:64::/96"
pool4 = ["${pool4}"]
ipv4 = "${TRANSLATOR4}"
ipv6 = "${TRANSLATOR6}"
icmp-timeout = 2
${extra}
`;
}

/** Writes `text` to `file`, sends SIGHUP and waits for the gateway to say it reloaded. */
async function reload(gw: Gateway, file: string, text: string): Promise<void> {
  await Deno.writeTextFile(file, text);
  const from = logLength(gw);
  Deno.kill(await gatewayPid(gw.socket), "SIGHUP");
  match(await logLine(gw, /reload refused|configuration reloaded/, 10_000, from), /configuration reloaded/);
}

/** Waits until the gateway has translated `count` packets from IPv6. */
async function translated(gw: Gateway, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await gw.stats()).counters.translated_6to4 < count) {
    if (Date.now() > deadline) throw new Error(`the gateway translated fewer than ${count} packets from IPv6 in 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const esc = (s: string) => s.replace(/[.[\]]/g, "\\$&");
const TIME = String.raw`^\d{4}-\d\d-\d\dT[\d:.]+Z info  `;

Deno.test({
  name: "session log: a reload turns it on; UDP and ICMP sessions are logged as created and removed",
  ignore: reason !== null,
  fn: () =>
    withLab("n64-sesslog", async (lab, dir) => {
      const file = `${dir}/gateway.toml`;
      await Deno.writeTextFile(file, config(POOL4, "log-sessions = false"));
      const gw = await Gateway.start(lab, ["--config", file], dir);
      try {
        const udp = () => lab.must("client", ["bash", "-c", `echo hello > /dev/udp/${SERVER6}/5353`]);
        await udp();
        // The datagram is translated (neighbour discovery may hold it a moment) while the log is off.
        await translated(gw, 1);
        await reload(gw, file, config(POOL4, "log-sessions = true\nlog-sessions-destinations = true"));
        eq(gw.log.split("\n").filter((l) => / (session|bib) (created|removed) /.test(l)), [], "nothing while off");

        await udp();
        const six = String.raw`\[${esc(CLIENT6)}\]:(\d+)`;
        const udpLine = new RegExp(
          `${TIME}session created UDP ${six} \\[${esc(SERVER6)}\\]:5353 <-> ${esc(POOL4)}:(\\d+) ` +
            `${esc(SERVER4)}:5353 cause=from-ipv6$`,
        );
        const created = (await logLine(gw, udpLine, 10_000)).match(udpLine)!;
        await logLine(
          gw,
          new RegExp(`${TIME}bib created UDP \\[${esc(CLIENT6)}\\]:${created[1]} <-> ${esc(POOL4)}:`),
          1000,
        );

        await lab.must("client", ["ping", "-n", "-c", "1", "-W", "2", SERVER6], 10_000);
        const icmp = String.raw`ICMP ${six} ${esc(SERVER6)} <-> ${esc(POOL4)}:(\d+) ${esc(SERVER4)}`;
        const echo = (await logLine(gw, new RegExp(`${TIME}session created ${icmp} cause=from-ipv6$`), 10_000))
          .match(new RegExp(icmp))!;
        // icmp-timeout 2 s, timers every second, the log read every 100 ms.
        const icmpGone = String.raw`ICMP \[${esc(CLIENT6)}\]:${echo[1]} ${esc(SERVER6)} <-> ${esc(POOL4)}:${echo[2]} `;
        const gone = new RegExp(`${TIME}session removed ${icmpGone}${esc(SERVER4)} cause=expired$`);
        await logLine(gw, gone, 6_000);

        // A pool4 without the address removes both UDP sessions, the one made while the log was off too.
        const from = logLength(gw);
        await reload(gw, file, config("192.0.2.9", "log-sessions = true"));
        const removed = new RegExp(
          `${TIME}session removed UDP \\[${esc(CLIENT6)}\\]:\\d+ <-> ${esc(POOL4)}:\\d+ cause=reconfigured$`,
        );
        await logLine(gw, removed, 5_000, from);
        const lines = gw.log.split("\n").slice(from);
        eq(lines.filter((l) => removed.test(l)).length, 2, lines.join("\n"));
        eq(lines.filter((l) => / bib removed UDP .* cause=reconfigured$/.test(l)).length, 2, lines.join("\n"));
        eq(await gw.stop(), 0);
      } finally {
        await gw.stop();
      }
    }),
});
