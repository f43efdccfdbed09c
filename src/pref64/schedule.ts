/**
 * When to send Router Advertisements (RFC 4861 §6.2.4, §6.2.6): unsolicited ones at a
 * random interval between MinRtrAdvInterval and MaxRtrAdvInterval (shorter for the
 * first few), solicited ones after a random delay of up to half a second and never
 * closer than 3 seconds to the previous multicast RA. Pure arithmetic; `random` is
 * injected so tests can pin it.
 *
 * @module
 */

/** MaxRtrAdvInterval bounds (RFC 4861 §6.2.1). */
export const MIN_MAX_RTR_ADV_INTERVAL_S = 4;
/** Upper bound of MaxRtrAdvInterval. */
export const MAX_MAX_RTR_ADV_INTERVAL_S = 1800;
/** Default MaxRtrAdvInterval. */
export const DEFAULT_MAX_RTR_ADV_INTERVAL_S = 600;
/** The first advertisements come at most this far apart (RFC 4861 §10). */
export const MAX_INITIAL_RTR_ADVERT_INTERVAL_S = 16;
/** How many advertisements count as "the first" (RFC 4861 §10). */
export const MAX_INITIAL_RTR_ADVERTISEMENTS = 3;
/** Least time between multicast RAs sent in answer to solicitations (RFC 4861 §10). */
export const MIN_DELAY_BETWEEN_RAS_MS = 3000;
/** Longest random delay before answering a solicitation (RFC 4861 §10). */
export const MAX_RA_DELAY_TIME_MS = 500;

/**
 * MinRtrAdvInterval for a MaxRtrAdvInterval (RFC 4861 §6.2.1): 0.33 × Max when Max is
 * at least 9 s; below that the RFC's default (Max itself) would break its own bound
 * "no greater than 0.75 × Max", so 0.75 × Max is used. Never under the 3 s minimum.
 */
export function minRtrAdvIntervalS(maxS: number): number {
  return Math.max(3, maxS >= 9 ? 0.33 * maxS : 0.75 * maxS);
}

/**
 * Milliseconds until the next unsolicited advertisement, after `sent` have gone out:
 * uniformly random in [Min, Max] (§6.2.4), capped at 16 s for the first three.
 */
export function nextUnsolicitedDelayMs(maxS: number, sent: number, random: () => number): number {
  const minS = minRtrAdvIntervalS(maxS);
  let s = minS + random() * (maxS - minS);
  if (sent < MAX_INITIAL_RTR_ADVERTISEMENTS) s = Math.min(s, MAX_INITIAL_RTR_ADVERT_INTERVAL_S);
  return s * 1000;
}

/**
 * Milliseconds from `nowMs` until the answer to a solicitation (§6.2.6): a random delay
 * of up to MAX_RA_DELAY_TIME, pushed back so that it comes no sooner than
 * MIN_DELAY_BETWEEN_RAS after the last multicast advertisement (`lastMulticastMs`,
 * undefined if none was sent yet).
 */
export function solicitedDelayMs(nowMs: number, lastMulticastMs: number | undefined, random: () => number): number {
  const delay = random() * MAX_RA_DELAY_TIME_MS;
  if (lastMulticastMs === undefined) return delay;
  const earliest = lastMulticastMs + MIN_DELAY_BETWEEN_RAS_MS;
  return Math.max(delay, earliest - nowMs);
}
