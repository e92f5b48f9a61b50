/**
 * Time in xray-lp: epoch seconds (floating point) everywhere, UTC days for the rollups, ISO 8601
 * UTC in every output.
 */

/** Seconds in a UTC day: the unit of the rollups (a day number is `floor(t / DAY)`). */
export const DAY = 86_400;

/** Seconds in an hour. */
export const HOUR = 3_600;

/** The UTC day number of an epoch time. */
export function dayOf(epochSeconds: number): number {
  return Math.floor(epochSeconds / DAY);
}

/** Epoch seconds → ISO 8601 UTC, or null. */
export function isoTime(epochSeconds: number | null | undefined): string | null {
  if (epochSeconds === null || epochSeconds === undefined || !Number.isFinite(epochSeconds)) return null;
  const d = new Date(epochSeconds * 1000);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
