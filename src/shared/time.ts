/**
 * Time in xray-lp: epoch seconds (floating point) everywhere, UTC days for the rollups, ISO 8601
 * UTC in every output.
 */

/** Seconds in a UTC day: the unit of the rollups (a day number is `floor(t / DAY)`). */
export const DAY = 86_400;

/** Seconds in an hour. */
export const HOUR = 3_600;

/**
 * Epoch seconds a recorded time can plausibly have: from 2000-01-01 to 2200-01-01 (UTC). A time
 * outside is a wrong unit or an overflowed value, never a call (ingest and usage files refuse it).
 */
export const PLAUSIBLE_SECONDS = { min: 946_684_800, max: 7_258_118_400 } as const;

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

/** A calendar date `YYYY-MM-DD` → its UTC day number; null when it is not one (2026-02-31 included). */
export function parseIsoDay(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  // Date.UTC rolls 2026-02-31 over into March: refuse what does not come back as written.
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  return ms / 86_400_000;
}

const ISO_TIME =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * An ISO 8601 date-time → epoch seconds; null when it is not one. `T` or a space between date and
 * time; seconds and any fraction optional; `Z` or an offset (±HH, ±HHMM, ±HH:MM); no zone is UTC.
 * The fraction's digits are kept as written (the same double the database stores for them), and
 * dates JavaScript would roll over are refused.
 */
export function parseIsoTime(text: string): number | null {
  const m = ISO_TIME.exec(text.trim());
  if (!m) return null;
  const day = parseIsoDay(m[1] as string);
  const [h, min, s] = [Number(m[2]), Number(m[3]), Number(m[4] ?? '0')];
  if (day === null || h > 23 || min > 59 || s > 59) return null;
  let offset = 0;
  const zone = m[6];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offset =
      (zone[0] === '-' ? -1 : 1) *
      (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || '0') * 60);
  }
  const whole = day * DAY + h * 3600 + min * 60 + s - offset;
  if (m[5] === undefined) return whole;
  return whole >= 0 ? parseFloat(`${whole}.${m[5]}`) : whole + Number(`0.${m[5]}`);
}
