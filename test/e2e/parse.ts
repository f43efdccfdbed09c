/**
 * Reading what the kernel's tools print (iputils ping, traceroute, `ip route get`,
 * iperf3 --json), so the end-to-end tests assert on facts instead of on whole outputs.
 * Each reader throws a sentence quoting the output when it finds nothing to read.
 *
 * @module
 */

/** Packets a `ping` run sent and got answered. */
export interface PingCount {
  transmitted: number;
  received: number;
}

/** The summary line of ping: "3 packets transmitted, 3 received, …". */
export function pingCount(output: string): PingCount {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(output);
  if (!m) throw new Error(`no ping summary in:\n${output}`);
  return { transmitted: Number(m[1]), received: Number(m[2]) };
}

/** An ICMP "too big" report ping printed: who sent it and the MTU it carried. */
export interface MtuReport {
  from: string;
  mtu: number;
}

/**
 * The first ICMPv6 Packet Too Big or ICMPv4 Fragmentation Needed that ping reports, e.g.
 * "From 2001:db8:64::c633:6401 icmp_seq=1 Packet too big: mtu=1320" or
 * "From 192.0.2.1 icmp_seq=1 Frag needed and DF set (mtu = 1280)"; null when none came.
 */
export function mtuReport(output: string): MtuReport | null {
  const m = /From (\S+) icmp_seq=\d+ (?:Packet too big: mtu=(\d+)|Frag needed and DF set \(mtu = (\d+)\))/.exec(output);
  return m ? { from: m[1], mtu: Number(m[2] ?? m[3]) } : null;
}

/** The hops traceroute printed, in order: the address that answered, or "*" for none. */
export function traceHops(output: string): string[] {
  const hops: string[] = [];
  for (const line of output.split("\n")) {
    const m = /^\s*(\d+)\s+(\S+)/.exec(line);
    if (!m || line.startsWith("traceroute")) continue;
    if (Number(m[1]) !== hops.length + 1) throw new Error(`hop ${m[1]} out of order in:\n${output}`);
    hops.push(m[2]);
  }
  if (hops.length === 0) throw new Error(`no hops in:\n${output}`);
  return hops;
}

/** The path MTU `ip route get` shows for a destination (its "mtu N"), or null when none is cached. */
export function routeMtu(output: string): number | null {
  const m = /\bmtu (?:lock )?(\d+)/.exec(output);
  return m ? Number(m[1]) : null;
}

/** What an iperf3 client run moved. */
export interface IperfResult {
  /** Bytes the receiving end got. */
  bytesReceived: number;
  /** Seconds the test ran. */
  seconds: number;
  /** UDP only: datagrams sent and lost, as the receiver counted them. */
  packets?: number;
  lostPercent?: number;
}

/** The receiver's end summary in `iperf3 --json` on the client (iperf3 3.9+), TCP or UDP. */
export function iperfResult(json: string): IperfResult {
  let doc: any;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error(`iperf3 printed no JSON:\n${json}`);
  }
  if (doc.error) throw new Error(`iperf3: ${doc.error}`);
  const received = doc.end?.sum_received;
  if (received) {
    const result: IperfResult = { bytesReceived: received.bytes, seconds: received.seconds };
    // UDP summaries also count datagrams; TCP ones do not.
    if (received.packets !== undefined) {
      result.packets = received.packets;
      result.lostPercent = received.lost_percent;
    }
    return result;
  }
  throw new Error(`iperf3 JSON without an end summary:\n${json.slice(0, 500)}`);
}
