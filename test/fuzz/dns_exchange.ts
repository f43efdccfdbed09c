/**
 * The client side of the DNS64 fuzzer: a round of UDP queries from one socket (answers
 * matched by ID), and TCP connections that pipeline several framed queries (RFC 7766
 * §6.2.1.1), possibly ending with a frame whose length prefix promises more than is
 * sent, or a zero-length frame.
 */

import dgram from "node:dgram";

/** After the last awaited answer, how long answers that should not come are still watched for. */
const GRACE_MS = 30;

/**
 * Sends every query at once to 127.0.0.1:`port` and collects answers by ID until those
 * marked in `awaited` have come (plus a short grace) or `waitMs` passed.
 */
export async function udpRound(
  port: number,
  queries: Uint8Array[],
  awaited: boolean[],
  waitMs: number,
): Promise<{ answers: (Uint8Array | null)[]; strays: number }> {
  const socket = dgram.createSocket("udp4");
  const byId = new Map<number, number>();
  queries.forEach((q, i) => q.length >= 2 && byId.set((q[0] << 8) | q[1], i));
  const answers: (Uint8Array | null)[] = queries.map(() => null);
  let strays = 0;
  let waiting = awaited.filter((a, i) => a && queries[i].length >= 2).length;
  await new Promise<void>((resolve) => {
    let timer = setTimeout(resolve, waiting ? waitMs : GRACE_MS);
    socket.on("message", (msg: Uint8Array) => {
      const i = msg.length >= 2 ? byId.get((msg[0] << 8) | msg[1]) : undefined;
      if (i === undefined || answers[i]) {
        strays++;
        return;
      }
      answers[i] = new Uint8Array(msg);
      if (awaited[i] && --waiting === 0) {
        clearTimeout(timer);
        timer = setTimeout(resolve, GRACE_MS);
      }
    });
    socket.bind(0, "127.0.0.1", () => {
      for (const q of queries) socket.send(q, port, "127.0.0.1");
    });
  });
  socket.close();
  return { answers, strays };
}

/** How a TCP connection ends after its queries. */
export type TcpEnding = "wait" | "zero-length" | "prefix-lie" | "half-frame";

/**
 * Opens one connection, writes `queries` framed back to back and then the `ending`,
 * and reads framed answers until `expected` came or `waitMs` passed. Answers are keyed
 * by ID; `strays` counts those that match no query or come twice.
 */
export async function tcpConnection(
  port: number,
  queries: Uint8Array[],
  ending: TcpEnding,
  expected: number,
  waitMs: number,
): Promise<{ answers: Map<number, Uint8Array>; strays: number; refused: boolean }> {
  const answers = new Map<number, Uint8Array>();
  let strays = 0;
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return { answers, strays, refused: true };
  }
  const ids = new Set(queries.filter((q) => q.length >= 2).map((q) => (q[0] << 8) | q[1]));
  const parts: number[] = [];
  for (const q of queries) parts.push(q.length >> 8, q.length & 0xff, ...q);
  if (ending === "zero-length") parts.push(0, 0);
  if (ending === "prefix-lie") parts.push(0xff, 0xff, 0, 1, 2, 3);
  if (ending === "half-frame") parts.push(0);
  const timer = setTimeout(() => conn.close(), waitMs);
  try {
    await conn.write(Uint8Array.from(parts));
    let buffered = new Uint8Array(0);
    const chunk = new Uint8Array(65538);
    while (answers.size < expected) {
      const n = await conn.read(chunk);
      if (n === null) break;
      buffered = Uint8Array.from([...buffered, ...chunk.subarray(0, n)]);
      while (buffered.length >= 2 && buffered.length >= 2 + ((buffered[0] << 8) | buffered[1])) {
        const msg = buffered.slice(2, 2 + ((buffered[0] << 8) | buffered[1]));
        buffered = buffered.slice(2 + msg.length);
        const id = msg.length >= 2 ? (msg[0] << 8) | msg[1] : -1;
        if (!ids.has(id) || answers.has(id)) strays++;
        else answers.set(id, msg);
      }
    }
  } catch {
    // Closed by the timer: whatever came is what there is.
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Already closed by the timer.
    }
  }
  return { answers, strays, refused: false };
}
