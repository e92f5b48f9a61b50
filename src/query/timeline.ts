/**
 * Calls per UTC day or hour, with empty buckets filled in so that gaps show.
 */
import { UserInputError } from '../shared/errors.js';
import { DAY, HOUR, isoTime } from '../shared/time.js';
import type { Store } from '../store/db.js';
import type { CallFilter } from '../store/filter.js';
import { readActivity, type UsageSource } from '../store/usage.js';
import { recordedPeriod } from './calls.js';

/** Bucket sizes `timeline --by` accepts. */
export type TimelineBucket = 'day' | 'hour';

/** Seconds per bucket. */
export const BUCKET_SECONDS: Record<TimelineBucket, number> = { day: DAY, hour: HOUR };

/** More buckets than this is not a chart any more. */
export const MAX_BUCKETS = 5000;

/** Options for {@link queryTimeline}. */
export interface TimelineOptions {
  filter: CallFilter;
  /** Default `day`. */
  by?: TimelineBucket;
  /** Where whole days are read from (tests compare `calls` with the default `rollups`). */
  source?: UsageSource;
}

/**
 * One bucket (`timeline --json` prints an array of these, oldest first).
 *
 * Fields: `start` ISO 8601 UTC start of the bucket; `calls`; `errors` (4xx other than throttling and
 * denial); `faults` (5xx); `throttles`; `denied`.
 */
export interface TimelineRow {
  start: string;
  calls: number;
  errors: number;
  faults: number;
  throttles: number;
  denied: number;
}

/**
 * Counts the calls `filter` matches per bucket, from the first to the last bucket of the asked range
 * (clipped to the recorded period), or of the matching calls when no range is given. Returns an
 * empty array when nothing matches.
 */
export function queryTimeline(store: Store, options: TimelineOptions): TimelineRow[] {
  const by = options.by ?? 'day';
  const size = BUCKET_SECONDS[by];
  // Hour buckets are read from calls (the rollups are per day); day buckets from the rollups.
  const rows = readActivity(store, { filter: options.filter, unit: size, source: options.source }).map(
    (r) => ({
      ...r,
      b: r.bucket,
    }),
  );
  const firstRow = rows[0];
  const lastRow = rows[rows.length - 1];
  if (!firstRow || !lastRow) return [];
  // Show the whole asked range (an idle stretch is information), but never beyond what was recorded.
  const period = recordedPeriod(store);
  let from = firstRow.b;
  let to = lastRow.b;
  const f = options.filter;
  if (f.since !== undefined && period.first !== null)
    from = Math.min(from, Math.floor(Math.max(f.since, period.first) / size));
  if (f.until !== undefined && period.last !== null)
    to = Math.max(to, Math.floor(Math.min(f.until - 1e-6, period.last) / size));
  if (to - from + 1 > MAX_BUCKETS) {
    throw new UserInputError(
      `The timeline would have ${to - from + 1} ${by} buckets; at most ${MAX_BUCKETS}. Narrow --since/--until${by === 'hour' ? ' or use --by day' : ''}.`,
    );
  }
  const byBucket = new Map(rows.map((r) => [r.b, r]));
  const out: TimelineRow[] = [];
  for (let b = from; b <= to; b++) {
    const r = byBucket.get(b);
    out.push({
      start: isoTime(b * size) ?? '',
      calls: r?.calls ?? 0,
      errors: r?.errors ?? 0,
      faults: r?.faults ?? 0,
      throttles: r?.throttles ?? 0,
      denied: r?.denied ?? 0,
    });
  }
  return out;
}
