/**
 * Interface set-up: the `ip` argument arrays, validation of every value before it can
 * reach `ip`, and the one-line errors. Needs no root: the commands run against a stub,
 * except one that must fail.
 */

import { deepStrictEqual as eq, match, rejects, throws } from "node:assert/strict";
import { configureInterface, interfaceCommands, type InterfaceSettings, runIp } from "../../src/tun/interface.ts";
import { checkInterfaceName } from "../../src/tun/device.ts";

const gateway: InterfaceSettings = {
  name: "nat64",
  mtu: 1500,
  addresses: ["2001:db8:1::1/64", "192.0.2.1/32"],
  routes: ["2001:db8:64::/96", "192.0.2.0/24"],
};

Deno.test("the commands set the MTU, bring the link up, then add addresses and routes", () => {
  eq(interfaceCommands(gateway), [
    ["link", "set", "dev", "nat64", "mtu", "1500"],
    ["link", "set", "dev", "nat64", "up"],
    ["address", "replace", "2001:db8:1::1/64", "dev", "nat64"],
    ["address", "replace", "192.0.2.1/32", "dev", "nat64"],
    ["route", "replace", "2001:db8:64::/96", "dev", "nat64"],
    ["route", "replace", "192.0.2.0/24", "dev", "nat64"],
  ]);
});

Deno.test("with routes disabled only the link is set up", () => {
  eq(interfaceCommands({ ...gateway, addresses: [], routes: [] }).length, 2);
});

Deno.test("every bad value is refused with a sentence naming it, before anything runs", () => {
  const bad: [Partial<InterfaceSettings>, RegExp][] = [
    [{ name: "a-name-longer-than-15" }, /"a-name-longer-than-15" is 21 bytes long; Linux allows at most 15/],
    [{ name: "" }, /name is empty/],
    [{ name: "bad/name" }, /"bad\/name" is not valid/],
    [{ name: "two words" }, /"two words" is not valid/],
    [{ mtu: 1279 }, /MTU 1279 is not a whole number from 1280 to 65535/],
    [{ mtu: 65536 }, /MTU 65536/],
    [{ mtu: 1500.5 }, /MTU 1500.5/],
    [{ addresses: ["2001:db8:1::1"] }, /interface address "2001:db8:1::1": needs a prefix length/],
    [{ addresses: ["2001:db8:1::g/64"] }, /interface address "2001:db8:1::g\/64": .*not an IPv6 address/],
    [{ addresses: ["192.0.2.1/33"] }, /interface address "192.0.2.1\/33": the prefix length must be 0-32/],
    [{ routes: ["2001:db8:64::1/96"] }, /route "2001:db8:64::1\/96": .*bits set after the \/96 prefix/],
    [{ routes: ["-force"] }, /route "-force": /],
    [{ routes: ["192.0.2.0/24 dev lo"] }, /route "192.0.2.0\/24 dev lo": /],
  ];
  for (const [change, message] of bad) {
    throws(() => interfaceCommands({ ...gateway, ...change }), message, JSON.stringify(change));
  }
});

Deno.test("interface names follow the kernel's rules (dev_valid_name, IFNAMSIZ)", () => {
  checkInterfaceName("nat64");
  checkInterfaceName("a".repeat(15));
  checkInterfaceName("nat%d");
  throws(() => checkInterfaceName("a".repeat(16)), /16 bytes long/);
  throws(() => checkInterfaceName("ü".repeat(8)), /16 bytes long/);
  throws(() => checkInterfaceName(".."), /not valid/);
  throws(() => checkInterfaceName("a:b"), /not valid/);
});

Deno.test("configureInterface reports each command, runs them in order, and stops at the first failure", async () => {
  const seen: string[] = [];
  const ran: string[] = [];
  await configureInterface(gateway, (a) => seen.push(a.join(" ")), (a) => {
    ran.push(a.join(" "));
    return Promise.resolve();
  });
  eq(ran, interfaceCommands(gateway).map((a) => a.join(" ")));
  eq(seen, ran);

  const attempted: string[] = [];
  await rejects(
    configureInterface(gateway, undefined, (a) => {
      attempted.push(a[0]);
      if (a[0] === "address") {
        return Promise.reject(new Error("ip address replace …: RTNETLINK answers: Permission denied"));
      }
      return Promise.resolve();
    }),
    /Permission denied/,
  );
  eq(attempted, ["link", "link", "address"]);
});

Deno.test("a failing ip command becomes one line with the command and ip's complaint", async () => {
  await rejects(
    runIp(["link", "set", "dev", "nat64-absent0", "up"]),
    (e: Error) => {
      match(e.message, /^ip link set dev nat64-absent0 up: .*nat64-absent0/);
      eq(e.message.includes("\n"), false);
      return true;
    },
  );
});
