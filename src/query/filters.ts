/**
 * The filters shared by every query command and by `policy`: a time range and value patterns.
 * They compile to SQL with bound parameters only; patterns become SQLite GLOBs (`*`, `?`), never
 * regular expressions, so a hostile pattern costs at most a linear match.
 */
import { UserInputError } from '../shared/errors.js';
import { OUTCOMES, type Outcome } from '../shared/outcome.js';
import { DAY, HOUR, parseIsoDay, parseIsoTime } from '../shared/time.js';
import type { CallFilter } from '../store/filter.js';

export type { CallFilter };

export { OUTCOMES };

/** The raw option values as commander collects them. */
export interface RawFilterOptions {
  since?: string;
  until?: string;
  now?: string;
  workload?: string[];
  excludeWorkload?: string[];
  /** The old spelling of `workload` (still accepted). */
  principal?: string[];
  /** The old spelling of `excludeWorkload` (still accepted). */
  excludePrincipal?: string[];
  service?: string[];
  action?: string[];
  resource?: string[];
  region?: string[];
  account?: string[];
  outcome?: string[];
}

const MAX_PATTERN = 2048;
const MAX_PATTERNS = 200;

/**
 * Validates raw options into a {@link CallFilter}. Relative times (`7d`) count back from `--now`
 * when given, else from the newest recorded call (`newestCall`), so that old dumps work.
 */
export function parseFilter(raw: RawFilterOptions, newestCall: () => number | null): CallFilter {
  const f: CallFilter = {};
  let anchor: number | undefined;
  const anchorTime = (): number => {
    if (anchor !== undefined) return anchor;
    if (raw.now !== undefined) anchor = parseAbsolute(raw.now, '--now');
    else anchor = newestCall() ?? Date.now() / 1000;
    return anchor;
  };
  if (raw.since !== undefined) f.since = parseTime(raw.since, '--since', anchorTime);
  if (raw.until !== undefined) f.until = parseTime(raw.until, '--until', anchorTime);
  if (f.since !== undefined && f.until !== undefined && f.since >= f.until) {
    throw new UserInputError(
      `--since (${new Date(f.since * 1000).toISOString()}) must be before --until (${new Date(f.until * 1000).toISOString()}); --since is inclusive, --until exclusive.`,
    );
  }
  const lists: [keyof RawFilterOptions, keyof CallFilter][] = [
    ['workload', 'workloads'],
    ['principal', 'workloads'],
    ['excludeWorkload', 'excludeWorkloads'],
    ['excludePrincipal', 'excludeWorkloads'],
    ['service', 'services'],
    ['action', 'actions'],
    ['resource', 'resources'],
    ['region', 'regions'],
    ['account', 'accounts'],
  ];
  for (const [from, to] of lists) {
    const values = raw[from] as string[] | undefined;
    if (!values || values.length === 0) continue;
    const checked = checkPatterns(values, `--${from.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    // `--principal` is the old spelling of `--workload`: both add to the same list.
    const previous = (f as Record<string, string[] | undefined>)[to] ?? [];
    (f as Record<string, unknown>)[to] = [...previous, ...checked];
  }
  if (raw.outcome && raw.outcome.length > 0) {
    f.outcomes = raw.outcome.map((o) => {
      const v = o.toLowerCase();
      if (!(OUTCOMES as readonly string[]).includes(v)) {
        throw new UserInputError(`--outcome ${JSON.stringify(o)} is not one of ${OUTCOMES.join(', ')}.`);
      }
      return v as Outcome;
    });
  }
  return f;
}

function checkPatterns(values: string[], flag: string): string[] {
  if (values.length > MAX_PATTERNS)
    throw new UserInputError(`${flag} given ${values.length} times; at most ${MAX_PATTERNS}.`);
  for (const v of values) {
    if (v.length === 0) throw new UserInputError(`${flag} needs a value.`);
    if (v.length > MAX_PATTERN)
      throw new UserInputError(`${flag} pattern is ${v.length} characters long; at most ${MAX_PATTERN}.`);
    // SQLite's GLOB stops at a NUL byte, which would turn `a\0b` into the pattern `a`.
    if (v.includes('\0')) throw new UserInputError(`${flag} pattern contains a NUL byte; remove it.`);
  }
  return values;
}

const RELATIVE = /^(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$/i;
const UNIT_SECONDS: Record<string, number> = { m: 60, min: 60, h: HOUR, d: DAY, w: 7 * DAY };

function parseTime(text: string, flag: string, anchor: () => number): number {
  const rel = RELATIVE.exec(text.trim());
  if (rel) {
    const n = Number(rel[1]);
    const unit = UNIT_SECONDS[(rel[2] ?? '').toLowerCase()] ?? 0;
    return anchor() - n * unit;
  }
  return parseAbsolute(text, flag);
}

/** ISO 8601 date or date-time (no zone means UTC), or epoch seconds. */
export function parseAbsolute(text: string, flag: string): number {
  const s = text.trim();
  if (/^\d{9,11}(\.\d+)?$/.test(s)) return Number(s);
  const day = parseIsoDay(s);
  const t = day !== null ? day * DAY : parseIsoTime(s);
  if (t === null || !Number.isFinite(t)) {
    throw new UserInputError(
      `${flag} ${JSON.stringify(text)} is not a time. Use an ISO 8601 date or date-time (2026-11-20, 2026-11-20T08:00, 2026-11-20T08:00:00+01:00; no zone means UTC), epoch seconds, or a duration back from the newest call (90m, 12h, 7d, 2w).`,
    );
  }
  return t;
}

/** A one-line description of a filter for empty-result messages. */
export function describeFilter(f: CallFilter): string {
  const parts: string[] = [];
  if (f.since !== undefined) parts.push(`since ${new Date(f.since * 1000).toISOString()}`);
  if (f.until !== undefined) parts.push(`until ${new Date(f.until * 1000).toISOString()}`);
  const list = (name: string, v?: string[]): void => {
    if (v?.length) parts.push(`${name} ${v.join('|')}`);
  };
  list('workload', f.workloads);
  list('excluding', f.excludeWorkloads);
  list('service', f.services);
  list('action', f.actions);
  list('resource', f.resources);
  list('region', f.regions);
  list('account', f.accounts);
  list('outcome', f.outcomes);
  return parts.length > 0 ? parts.join(', ') : 'no filter';
}
