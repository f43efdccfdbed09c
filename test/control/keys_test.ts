/** The operator keys as flags and config-file keys: values, defaults, errors naming the key. */

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { parseConfigText } from "../../src/config/file.ts";
import { readCommandLine } from "../../src/config/flags.ts";
import { applyLayers } from "../../src/config/layers.ts";
import { defaultOperatorConfig, loggerOptions, OPERATOR_KEYS, sessionLogOptions } from "../../src/control/keys.ts";

const fromFlags = (args: string[]) =>
  applyLayers(defaultOperatorConfig(), OPERATOR_KEYS, readCommandLine(args, {}, OPERATOR_KEYS).layer);

Deno.test("defaults: socket /run/nat64/control.sock 0600, no metrics, info text logs, no session lines (1000/s when on)", () => {
  const c = defaultOperatorConfig();
  eq(c, {
    controlSocket: "/run/nat64/control.sock",
    controlSocketMode: 0o600,
    logLevel: "info",
    logFormat: "text",
    logSessions: false,
    logSessionsRate: 1000,
    logSessionsDestinations: false,
  });
});

Deno.test("flags and file keys give the same config", () => {
  const flags = fromFlags([
    "--control-socket",
    "/run/gw/ctl.sock",
    "--control-socket-mode",
    "0660",
    "--metrics-listen",
    "[::1]:9100",
    "--log-level",
    "debug",
    "--log-format",
    "json",
    "--log-sessions",
    "--log-sessions-rate",
    "50",
    "--log-sessions-destinations",
  ]);
  const file = applyLayers(
    defaultOperatorConfig(),
    OPERATOR_KEYS,
    parseConfigText(
      `control-socket = "/run/gw/ctl.sock"
control-socket-mode = "0660"
metrics-listen = "[::1]:9100"
log-level = "debug"
log-format = "json"
log-sessions = true
log-sessions-rate = 50
log-sessions-destinations = true
`,
      "gw.toml",
      OPERATOR_KEYS,
    ),
  );
  eq(flags, file);
  eq(flags.controlSocketMode, 0o660);
  eq(flags.metricsListen, { hostname: "::1", port: 9100 });
  eq(loggerOptions(flags), {
    level: "debug",
    format: "json",
    sessions: true,
    sessionRate: 50,
    sessionDestinations: true,
  });
  eq(sessionLogOptions(flags), { sessions: true, sessionRate: 50, sessionDestinations: true });
});

Deno.test("bad values name the flag or the file line and key", () => {
  throws(
    () => fromFlags(["--log-level", "loud"]),
    /^Error: --log-level: "loud" is not one of error, warn, info, debug$/,
  );
  throws(() => fromFlags(["--log-format", "xml"]), /--log-format: "xml" is not one of text, json/);
  throws(() => fromFlags(["--control-socket", "ctl.sock"]), /--control-socket: "ctl.sock" is not an absolute path/);
  throws(() => fromFlags(["--control-socket-mode", "0999"]), /--control-socket-mode: "0999" is not an octal mode/);
  throws(
    () => fromFlags(["--metrics-listen", "localhost:9100"]),
    /--metrics-listen: "localhost:9100" is not ADDR, ADDR:PORT or \[IPV6\]:PORT with a literal IP address/,
  );
  throws(
    () => fromFlags(["--log-sessions-rate", "0"]),
    /--log-sessions-rate: "0" is not a whole number from 1 to 1000000/,
  );
  throws(() => fromFlags(["--log-sessions-rate", "1.5"]), /--log-sessions-rate: "1.5" is not a whole number/);
  throws(
    () =>
      applyLayers(
        defaultOperatorConfig(),
        OPERATOR_KEYS,
        parseConfigText(`log-level = "loud"\n`, "gw.toml", OPERATOR_KEYS),
      ),
    /gw.toml line 1: log-level: "loud" is not one of/,
  );
});
