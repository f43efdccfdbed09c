/**
 * Numbers as an operator reads them: rates with SI prefixes, durations as clock time.
 *
 * @module
 */

const SI = ["", "k", "M", "G", "T", "P"];

/** `value` with an SI prefix and three significant digits: 943, 12.3k, 1.05G. */
export function formatSi(value: number): string {
  if (!Number.isFinite(value)) return "-";
  let v = Math.abs(value);
  let i = 0;
  while (v >= 999.5 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 && Number.isInteger(v)
    ? v.toFixed(0)
    : v >= 99.95
    ? v.toFixed(0)
    : v >= 9.995
    ? v.toFixed(1)
    : v.toFixed(2);
  return `${value < 0 ? "-" : ""}${digits}${SI[i]}`;
}

/** Seconds as `[Nd ]H:MM:SS`, the way Jool shows session expiry. */
export function formatDuration(totalS: number): string {
  const s = Math.max(0, Math.floor(totalS));
  const days = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const clock = `${h}:${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  return days > 0 ? `${days}d ${clock}` : clock;
}
