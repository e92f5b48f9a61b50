/**
 * Is the trace data enough for this policy? From what the policy grants and when each grant was
 * first seen: the permission discovery curve, and a verdict. A workload that kept needing new
 * permissions until the end of the observed period will need more after it; one whose last new
 * permission is long past has probably shown what it does. Rare permissions (seen in one trace)
 * are real but thin evidence: they are listed. Pure: no I/O.
 */
import { isoTime } from '../shared/time.js';
import type { Grant } from './to-grant.js';

/** The verdicts, from best to worst. */
export type CompletenessVerdict = 'settled' | 'settling' | 'still discovering' | 'too little data';

/** Verdicts in order of confidence (`policy --check-complete` accepts only the first). */
export const VERDICTS: readonly CompletenessVerdict[] = [
  'settled',
  'settling',
  'still discovering',
  'too little data',
];

/** The thresholds of the verdict (`policy --settled-share`, `--recent-share`, `--min-active-days`, `--min-traces`). */
export interface CompletenessThresholds {
  /** Settled: no new permission in this last share of the observed period (default 0.4). */
  settledShare: number;
  /** Still discovering: a new permission in this last share of the observed period (default 0.1). */
  recentShare: number;
  /** Too little data below this many UTC days with calls (default 3). */
  minActiveDays: number;
  /** Too little data below this many traces (default 20). */
  minTraces: number;
}

export const DEFAULT_THRESHOLDS: CompletenessThresholds = {
  settledShare: 0.4,
  recentShare: 0.1,
  minActiveDays: 3,
  minTraces: 20,
};

/**
 * What was observed of a workload in the selected range (from the usage reader, or from usage
 * rows, which carry no traces and carry days only with a `day` column: unknown is null).
 */
export interface Observation {
  /** Distinct traces with a call (per UTC day, summed); null when unknown. */
  traces: number | null;
  /** UTC days with a call; null when unknown. */
  activeDays: number | null;
  /** Epoch seconds of the first and last call. */
  first: number | null;
  last: number | null;
  /** The trace formats its calls came in (`x-ray` is sampled). */
  formats: readonly string[];
  /**
   * CloudTrail records in its evidence (src/policy/trail.ts), when it holds any: each is one
   * piece of evidence beside the traces for the minimum, and is called a record, not a trace.
   */
  records?: number;
}

/** One point of the discovery curve: at `at`, `permissions` distinct permissions had been seen. */
export interface DiscoveryPoint {
  at: string;
  permissions: number;
}

/**
 * How complete a policy's evidence is (`policy --json` field `completeness`).
 *
 * Fields: `verdict` and `reason` (one sentence saying why); `traces`, `activeDays`, `firstCall`,
 * `lastCall` (ISO 8601 UTC) of the observation; `permissions` (distinct action × resource as
 * granted); `lastNewPermission` (when the last of them was first seen); `discovery` (the
 * cumulative curve, one point per time a new permission appeared, thinned to at most
 * {@link MAX_CURVE_POINTS}); `rare` (permissions seen in a single trace or CloudTrail record, with it: the first
 * {@link MAX_RARE}) and `rareCount`; `sampled` (true when every call came from X-Ray, which samples);
 * `thresholds` (what the verdict used).
 */
export interface Completeness {
  verdict: CompletenessVerdict;
  reason: string;
  /** Null when unknown (policies built from usage rows: `policy --usage`). */
  traces: number | null;
  /** CloudTrail records in the evidence, where it holds any (they count toward `--min-traces` with the traces). */
  cloudtrailRecords?: number;
  activeDays: number | null;
  firstCall: string | null;
  lastCall: string | null;
  permissions: number;
  lastNewPermission: string | null;
  discovery: DiscoveryPoint[];
  /**
   * `traceId` is the one sample: a trace id, or the eventID of the one CloudTrail record
   * (`source: 'cloudtrail'`) for a permission only CloudTrail saw.
   */
  rare: { action: string; resource: string; traceId: string; source: 'trace' | 'cloudtrail' }[];
  /** How many permissions were seen in one trace or one CloudTrail record (`rare` lists the first {@link MAX_RARE}). */
  rareCount: number;
  sampled: boolean;
  thresholds: CompletenessThresholds;
}

/** Rare permissions listed at most (all are counted). */
export const MAX_RARE = 25;
/** Points of the discovery curve kept at most: its shape, without one point per S3 key. */
export const MAX_CURVE_POINTS = 120;

/**
 * The cumulative curve of first-seen times (sorted): one point per distinct time, thinned to at
 * most {@link MAX_CURVE_POINTS} evenly spread over the count, always with the first and the last.
 */
function curve(firsts: number[]): DiscoveryPoint[] {
  const all: DiscoveryPoint[] = [];
  firsts.forEach((t, i) => {
    const at = isoTime(t) ?? '';
    const last = all[all.length - 1];
    if (last && last.at === at) last.permissions = i + 1;
    else all.push({ at, permissions: i + 1 });
  });
  if (all.length <= MAX_CURVE_POINTS) return all;
  const step = (all.length - 1) / (MAX_CURVE_POINTS - 1);
  return Array.from({ length: MAX_CURVE_POINTS }, (_, k) => all[Math.round(k * step)] as DiscoveryPoint);
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;
const days = (seconds: number): string => {
  const d = seconds / 86_400;
  return d >= 2
    ? `${Math.round(d)} days`
    : d >= 1 / 24
      ? `${Math.round(d * 24)} hours`
      : `${Math.round(seconds / 60)} minutes`;
};

/** The verdict for the grants of one policy (as granted: after S3 scoping, wildcards and merging). */
export function completenessOf(
  grants: readonly Grant[],
  observed: Observation,
  thresholds: CompletenessThresholds = DEFAULT_THRESHOLDS,
): Completeness {
  // Grants from usage rows without times have NaN there: they are on no curve.
  const firsts = grants
    .map((g) => g.first)
    .filter((t) => !Number.isNaN(t))
    .sort((a, b) => a - b);
  const discovery = curve(firsts);
  const lastNew = firsts[firsts.length - 1] ?? null;
  const single = grants.filter((g) => g.traces.length === 1);
  const rare = single
    .map((g) => ({
      action: g.action,
      resource: g.resource,
      traceId: g.traces[0] as string,
      // A grant only CloudTrail saw carries eventIDs as its samples: a record, not a trace.
      source:
        g.sources?.length === 1 && g.sources[0] === 'cloudtrail'
          ? ('cloudtrail' as const)
          : ('trace' as const),
    }))
    .sort((a, b) => (a.action < b.action ? -1 : a.action > b.action ? 1 : a.resource < b.resource ? -1 : 1))
    .slice(0, MAX_RARE);
  const sampled = observed.formats.length > 0 && observed.formats.every((f) => f === 'x-ray');
  const base = {
    traces: observed.traces,
    ...(observed.records !== undefined ? { cloudtrailRecords: observed.records } : {}),
    activeDays: observed.activeDays,
    firstCall: isoTime(observed.first),
    lastCall: isoTime(observed.last),
    permissions: grants.length,
    lastNewPermission: isoTime(lastNew),
    discovery,
    rare,
    rareCount: single.length,
    sampled,
    thresholds,
  };
  const { verdict, reason } = judge(observed, lastNew, thresholds);
  return { verdict, reason, ...base };
}

function judge(
  o: Observation,
  lastNew: number | null,
  t: CompletenessThresholds,
): { verdict: CompletenessVerdict; reason: string } {
  const thin: string[] = [];
  if (o.activeDays !== null && o.activeDays < t.minActiveDays)
    thin.push(`${o.activeDays} active day${o.activeDays === 1 ? '' : 's'} (fewer than ${t.minActiveDays})`);
  const pieces = (o.traces ?? 0) + (o.records ?? 0);
  if (o.traces !== null && pieces < t.minTraces) thin.push(`${evidenceText(o)} (fewer than ${t.minTraces})`);
  // What the data cannot say (usage rows): the minimums on it are not checked, and the reason says so.
  const unknown = [
    ...(o.activeDays === null ? ['active days'] : []),
    ...(o.traces === null ? ['traces'] : []),
  ];
  const note =
    unknown.length > 0
      ? `; ${unknown.join(' and ')} unknown (the usage rows carry ${o.activeDays === null ? 'no day and no traces' : 'no traces'}), so the minimum${unknown.length === 1 ? ' on it was' : 's on them were'} not checked`
      : '';
  const period = o.first !== null && o.last !== null ? o.last - o.first : 0;
  if (thin.length > 0 || period <= 0 || lastNew === null)
    return {
      verdict: 'too little data',
      reason: (thin.length > 0 ? `only ${thin.join(' and ')}` : 'no period observed') + note,
    };
  // How long before the end of the observed period the last new permission appeared, as a share.
  const quiet = (o.last! - lastNew) / period;
  const since = `the last new permission appeared ${days(o.last! - lastNew)} before the last call (${pct(quiet)} of the ${days(period)} observed)${note}`;
  if (quiet >= t.settledShare) return { verdict: 'settled', reason: since };
  if (quiet < t.recentShare) return { verdict: 'still discovering', reason: since };
  return { verdict: 'settling', reason: since };
}

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The evidence counted, named by its sources: `5 traces`, `4 CloudTrail records`, or both. */
function evidenceText(o: Observation): string {
  const traces = plural(o.traces ?? 0, 'trace');
  if (o.records === undefined) return traces;
  const records = plural(o.records, 'CloudTrail record');
  if ((o.traces ?? 0) === 0) return records;
  return `${traces} and ${records} (${o.traces! + o.records} together)`;
}

/** What to ingest more of: the sources the evidence came from. */
function moreOf(c: Completeness): string {
  if (c.cloudtrailRecords === undefined) return 'traces';
  return (c.traces ?? 0) === 0 ? 'CloudTrail records' : 'traces or CloudTrail records';
}

/** The warning `policy` prints for a verdict other than `settled`, with what to do. */
export function completenessWarning(c: Completeness): string {
  const sample = c.sampled
    ? ' X-Ray samples requests, so a rarely used permission may be missing: export aws/spans (Transaction Search keeps every span) or more days.'
    : '';
  switch (c.verdict) {
    case 'settled':
      return '';
    case 'too little data':
      return `too little data to trust this policy: ${c.reason}. Ingest more days of ${moreOf(c)}.${sample}`;
    case 'still discovering':
      return `still discovering permissions: ${c.reason}. The workload may need more than it has shown; ingest more days before deploying.${sample}`;
    case 'settling':
      return `settling, not settled: ${c.reason}; settled means none in the last ${pct(c.thresholds.settledShare)}.${sample}`;
  }
}
