/** PREF64 keys: off by default, defaults derived from the interval, errors naming the key. */

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { readCommandLine } from "../../src/config/flags.ts";
import { applyLayers } from "../../src/config/layers.ts";
import { formatPrefix, parsePrefix } from "../../src/net/ip.ts";
import { defaultPref64Config, PREF64_KEYS, pref64Options } from "../../src/pref64/keys.ts";

const POOL6 = parsePrefix("64:ff9b::/96");
const config = (args: string[]) =>
  applyLayers(defaultPref64Config(), PREF64_KEYS, readCommandLine(args, {}, PREF64_KEYS).layer);

Deno.test("off unless pref64-interface is set", () => {
  eq(pref64Options(config([]), POOL6), undefined);
  throws(
    () => pref64Options(config(["--pref64-lifetime", "600"]), POOL6),
    /pref64-lifetime is set but pref64-interface is not/,
  );
});

Deno.test("defaults: interval 600 s, lifetime 3 × interval capped at 65528 s, router lifetime 0", () => {
  const o = pref64Options(config(["--pref64-interface", "lan0"]), POOL6)!;
  eq([o.interface, formatPrefix(o.prefix), o.intervalS, o.lifetimeS, o.routerLifetimeS], [
    "lan0",
    "64:ff9b::/96",
    600,
    1800,
    0,
  ]);
  eq(pref64Options(config(["--pref64-interface", "lan0", "--pref64-interval", "1800"]), POOL6)!.lifetimeS, 5400);
  const set = pref64Options(
    config([
      "--pref64-interface",
      "lan0",
      "--pref64-interval",
      "30",
      "--pref64-lifetime",
      "65528",
      "--pref64-router-lifetime",
      "90",
    ]),
    POOL6,
  )!;
  eq([set.intervalS, set.lifetimeS, set.routerLifetimeS], [30, 65528, 90]);
});

Deno.test("bad values name the key; cross-key rules cite RFC 4861", () => {
  throws(() => config(["--pref64-interface", "a/b"]), /--pref64-interface: "a\/b" is not an interface name/);
  throws(() => config(["--pref64-interface", "sixteen-bytes-xx"]), /is not an interface name/);
  throws(
    () => config(["--pref64-lifetime", "65529"]),
    /--pref64-lifetime: "65529" is not a whole number of seconds from 1 to 65528/,
  );
  throws(
    () => config(["--pref64-interval", "3"]),
    /--pref64-interval: "3" is not a whole number of seconds from 4 to 1800/,
  );
  throws(() => config(["--pref64-router-lifetime", "9001"]), /from 0 to 9000/);
  throws(() => pref64Options(config(["--pref64-interface", "lan0"]), undefined), /pref64-interface needs pool6/);
  throws(
    () =>
      pref64Options(
        config(["--pref64-interface", "lan0", "--pref64-interval", "600", "--pref64-router-lifetime", "300"]),
        POOL6,
      ),
    /pref64-router-lifetime 300 must be 0 or at least pref64-interval \(600\) \(RFC 4861 §6\.2\.1\)/,
  );
});
