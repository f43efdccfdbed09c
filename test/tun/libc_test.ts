/**
 * libc through FFI without a TUN: errno read back after a failure, addresses of
 * WebAssembly memory, reads and writes by address (through an eventfd), and the
 * sentences for errors and for missing permission.
 */

import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { defaultLibcPath, describeErrno, EFD_CLOEXEC, Errno, Libc, O_RDWR, SysError } from "../../src/tun/libc.ts";

Deno.test("errno values are named and described; unknown ones are given by number", () => {
  eq(describeErrno(Errno.ENOENT), "ENOENT (no such file)");
  eq(describeErrno(Errno.EBUSY), "EBUSY (device or resource busy)");
  eq(describeErrno(999), "errno 999");
  eq(
    new SysError("open /dev/net/tun", Errno.ENOENT, "is the tun module loaded?").message,
    "open /dev/net/tun: ENOENT (no such file): is the tun module loaded?",
  );
});

Deno.test("a failed call returns -errno, read from this thread's errno", () => {
  const libc = Libc.open();
  eq(libc.open("/nonexistent/nat64-test", O_RDWR), -Errno.ENOENT);
  eq(libc.close(-1), -Errno.EBADF);
});

Deno.test("reads and writes move bytes to and from WebAssembly memory by address", () => {
  const libc = Libc.open();
  const memory = new WebAssembly.Memory({ initial: 1 });
  const bytes = new Uint8Array(memory.buffer);
  const base = libc.addressOf(bytes);
  eq(libc.addressOf(bytes.subarray(100)) - base, 100);
  // An eventfd takes an 8-byte counter on write and hands it back on read.
  const fd = libc.eventfd(0, EFD_CLOEXEC);
  try {
    new DataView(memory.buffer).setBigUint64(1000, 42n, true);
    eq(libc.write(fd, base + 1000, 8), 8);
    eq(libc.read(fd, base + 2000, 8), 8);
    eq(new DataView(memory.buffer).getBigUint64(2000, true), 42n);
  } finally {
    libc.close(fd);
  }
});

Deno.test("a libc that cannot be loaded is named", () => {
  throws(() => Libc.open("/nonexistent/libc.so.6"), /^Error: cannot load libc from \/nonexistent\/libc.so.6: /);
});

Deno.test("without --allow-ffi for libc the error names the flag to add", async () => {
  const code = `import { Libc } from "${new URL("../../src/tun/libc.ts", import.meta.url)}";
try { Libc.open(); } catch (e) { console.log(e.message); }`;
  // `deno run -` reads the program from stdin and grants nothing unless told.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "-"],
    stdin: "piped",
    stdout: "piped",
  })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const out = await child.output();
  eq(
    new TextDecoder().decode(out.stdout).trim(),
    `loading libc from ${defaultLibcPath()} needs --allow-ffi=${defaultLibcPath()}`,
  );
});
