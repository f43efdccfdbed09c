/**
 * JSON for the control socket with exact 64-bit counters. A byte counter passes 2^53
 * (about 9 PB) within months on a busy link, where a JavaScript number would round, so
 * BigInts are written as plain JSON integers and read back as BigInt when a number is
 * too large to be exact.
 *
 * @module
 */

/** `JSON.rawJSON` (V8; not yet in every TypeScript lib): a value JSON.stringify writes verbatim. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** JSON text of `value`; BigInts become integers, never strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? rawJSON(v.toString()) : v));
}

/** Parses JSON text; integers beyond 2^53 come back as exact BigInts. */
export function fromJson(text: string): unknown {
  // The third reviver argument (V8's JSON.parse source text access) holds the literal as written.
  return JSON.parse(text, (_key, v, context?: { source?: string }) => {
    if (typeof v === "number" && !Number.isSafeInteger(v) && context?.source && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return v;
  });
}
