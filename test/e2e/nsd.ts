/**
 * An authoritative name server on the lab's IPv4-only server (Debian's nsd, in the
 * foreground): zone lab.example, where www has only an A record, 198.51.100.2. It is the
 * upstream the DNS64 listener asks; nothing outside the lab ever sees it.
 *
 * @module
 */

import { SERVER4 } from "./addresses.ts";
import type { Lab, Service } from "./harness.ts";

/** The IPv4-only server's name: an A record only, so DNS64 must synthesize its AAAA. */
export const WWW = "www.lab.example";

const ZONE = `$ORIGIN lab.example.
$TTL 300
@    SOA ns admin 1 3600 600 86400 300
@    NS  ns
ns   A   ${SERVER4}
www  A   ${SERVER4}
`;

/** Starts nsd on SERVER4:53 with its files in `dir`, and waits for it to serve. */
export async function startNsd(lab: Lab, dir: string): Promise<Service> {
  await Deno.writeTextFile(`${dir}/lab.example.zone`, ZONE);
  await Deno.writeTextFile(
    `${dir}/nsd.conf`,
    `server:
  ip-address: ${SERVER4}
  port: 53
  zonesdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  database: ""
  username: ""
  xfrdfile: "${dir}/xfrd.state"
  zonelistfile: "${dir}/zone.list"
remote-control:
  control-enable: no
zone:
  name: lab.example
  zonefile: lab.example.zone
`,
  );
  const nsd = lab.spawn("server", ["nsd", "-d", "-c", `${dir}/nsd.conf`]);
  try {
    await nsd.waitFor(/nsd started/, 15_000);
  } catch (err) {
    await nsd.stop();
    throw err;
  }
  return nsd;
}
