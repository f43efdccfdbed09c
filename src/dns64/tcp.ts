/**
 * DNS over TCP plumbing shared by the listener and the upstream client: the two-byte
 * length framing (RFC 1035 §4.2.2, RFC 7766 §8), full writes and exact reads.
 *
 * @module
 */

/** Prefixes a message with its two-byte length. */
export function frame(message: Uint8Array): Uint8Array {
  const framed = new Uint8Array(message.length + 2);
  framed[0] = message.length >> 8;
  framed[1] = message.length & 0xff;
  framed.set(message, 2);
  return framed;
}

/** Writes all of `data`; a short write is continued. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) done += await conn.write(data.subarray(done));
}

/** Reads exactly `n` bytes; throws when the peer closes first. */
export async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) throw new Error("the connection closed early");
    got += r;
  }
  return out;
}

/** Closes a socket that may already be closed; that error carries no news. */
export function closeQuietly(c: { close(): void } | null): void {
  try {
    c?.close();
  } catch {
    return;
  }
}
