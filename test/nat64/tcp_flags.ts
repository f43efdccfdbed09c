/**
 * TCP packets with chosen flags, for the stateful tests: `buildPacket` makes ACKs, the
 * TCP state machine (RFC 6146 §3.5.2.2) needs SYNs, SYN-ACKs and FINs too.
 *
 * @module
 */

/** `p` (a TCP packet) with the flags byte set to `flags`, its checksum updated (RFC 1624). */
export function withTcpFlags(p: Uint8Array, flags: number): Uint8Array {
  const q = p.slice();
  const l4 = q[0] >> 4 === 6 ? 40 : (q[0] & 0x0f) * 4;
  const old = (q[l4 + 12] << 8) | q[l4 + 13];
  q[l4 + 13] = flags;
  const now = (q[l4 + 12] << 8) | q[l4 + 13];
  let sum = (~((q[l4 + 16] << 8) | q[l4 + 17]) & 0xffff) + (~old & 0xffff) + now;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  const c = ~sum & 0xffff;
  q[l4 + 16] = c >> 8;
  q[l4 + 17] = c & 0xff;
  return q;
}
