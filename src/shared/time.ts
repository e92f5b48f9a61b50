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
  // Rounded to the microsecond first: stored doubles such as 1790813513.6599996 (X-Ray's
  // 1790813513.66) would otherwise print one millisecond early, and differ from the same time
  // read back from Parquet (microseconds) or any other exact rendering.
  const d = new Date(Math.round(epochSeconds * 1e6) / 1e3);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
