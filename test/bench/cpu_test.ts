/** CPU time from /proc: stat lines (with awkward command names) and the machine-wide cpu line. */

import { deepStrictEqual as eq, ok, throws } from "node:assert/strict";
import { clockTicksPerSecond, CpuMeter, parseCpuLine, parseStatTicks, treeTicks } from "../../scripts/bench/cpu.ts";

const ALL_ALLOWED = (["read", "write", "net", "env", "run", "ffi", "sys"] as const)
  .every((name) => Deno.permissions.querySync({ name }).state === "granted");

// Fields 3..: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime ...
const tail = "S 1 2 3 0 -1 4194560 10 0 0 0 250 75 9 9 20 0 1 0 100 0 0";

Deno.test("utime + stime are fields 14 and 15, counted from the last ')' of the command name", () => {
  eq(parseStatTicks(`123 (tayga) ${tail}`), 325);
  eq(parseStatTicks(`123 (a) b (c) d) ${tail}`), 325);
  eq(parseStatTicks(`123 (deno task) ${tail}\n`), 325);
});

Deno.test("a stat line without the command name or too short is named", () => {
  throws(() => parseStatTicks("123 tayga S 1"), { message: "a /proc/<pid>/stat line without the (comm) field" });
  throws(() => parseStatTicks("123 (tayga) S 1 2 3"), {
    message: "a /proc/<pid>/stat line too short for utime and stime",
  });
});

Deno.test("the cpu line: busy is everything but idle and iowait", () => {
  const stat = "cpu  100 5 50 800 20 3 7 0 0 0\ncpu0 50 2 25 400 10 1 3 0 0 0\n";
  eq(parseCpuLine(stat), { busy: 165, total: 985 });
  throws(() => parseCpuLine("intr 1 2 3\n"), { message: '/proc/stat has no "cpu" line' });
});

Deno.test({
  name: "the meter sees this process spin for 300 ms as about one busy CPU; a process that is gone has no time",
  // Deno lets only --allow-all read /proc (the suite runs with it: deno task test).
  ignore: !ALL_ALLOWED,
  fn: async () => {
    const meter = new CpuMeter(Deno.pid, await clockTicksPerSecond());
    meter.start();
    const until = performance.now() + 300;
    while (performance.now() < until) {
      // Spinning on purpose: the meter must count it.
    }
    const cores = meter.stop();
    ok(cores > 0.3 && cores < 1.5, `${cores} CPUs`);
    eq(treeTicks(2 ** 22 + 1), 0); // above Linux's largest pid_max
  },
});
