/**
 * Aggregated usage: calls grouped by any combination of workload, service, IAM action, resource,
 * operation, region, account, outcome, day and hour, read through the usage reader.
 */
import { UserInputError } from '../shared/errors.js';
import { isoTime } from '../shared/time.js';
import type { Store } from '../store/db.js';
import type { CallFilter } from '../store/filter.js';
import { NO_PERMISSION, readUsage, type UsageDimension, type UsageSource } from '../store/usage.js';

export { NO_PERMISSION };

/** What `usage --group-by` accepts. */
export type UsageGroup = UsageDimension;

/** Every {@link UsageGroup}, in the order columns are printed. */
export const USAGE_GROUPS: readonly UsageGroup[] = [
  'workload',
  'service',
  'action',
  'resource',
  'operation',
  'region',
  'account',
  'outcome',
  'day',
  'hour',
];

/** Old spellings still accepted by `--group-by`. */
const GROUP_ALIASES: Readonly<Record<string, UsageGroup>> = { principal: 'workload' };

/** The default grouping: one row per workload × IAM action × resource. */
export const DEFAULT_USAGE_GROUPS: readonly UsageGroup[] = ['workload', 'action', 'resource'];

/**
 * Parses a `--group-by` list (comma-separated, repeatable); unknown names are a usage error
 * that lists the valid ones.
 */
export function parseGroupBy(values: string[] | undefined): UsageGroup[] {
  if (!values || values.length === 0) return [...DEFAULT_USAGE_GROUPS];
  const out: UsageGroup[] = [];
  for (const raw of values.flatMap((v) => v.split(','))) {
    const name = raw.trim().toLowerCase();
    if (name === '') continue;
    const g = GROUP_ALIASES[name] ?? name;
    if (!(USAGE_GROUPS as readonly string[]).includes(g)) {
      throw new UserInputError(
        `--group-by ${JSON.stringify(raw.trim())} is not a grouping. Use a comma-separated list of: ${USAGE_GROUPS.join(', ')}.`,
      );
    }
    if (!out.includes(g as UsageGroup)) out.push(g as UsageGroup);
  }
  if (out.length === 0)
    throw new UserInputError(`--group-by needs at least one of: ${USAGE_GROUPS.join(', ')}.`);
  // Print columns in a fixed order whatever the order asked.
  return USAGE_GROUPS.filter((g) => out.includes(g));
}

/** Options for {@link queryUsage}. */
export interface UsageOptions {
  filter: CallFilter;
  /** Default {@link DEFAULT_USAGE_GROUPS}. */
  groupBy?: readonly UsageGroup[];
  /** Where whole days are read from (tests compare `calls` with the default `rollups`). */
  source?: UsageSource;
}

/**
 * One group of calls (`usage --json` prints an array of these, most calls first).
 *
 * Only the fields of the requested groups are present:
 * `workload` (workload name, or `(unattributed)`), `workloadKey` (null when unattributed),
 * `workloadKind`; `service` (IAM prefix, `(unknown)`); `action` (IAM action; `(no permission needed)`
 * for calls that need none; `(unmapped <service>:<operation>)` when the permission is unknown) with
 * `note` (the mapping note, or why the call is unmapped); `resource` (ARN, or null when the call
 * has no permission); `operation` (`<service>:<Operation>`, `(unknown)` when not recorded); `region`;
 * `account`; `outcome`; `day` (`YYYY-MM-DD`, UTC); `hour` (`YYYY-MM-DDTHH:00Z`).
 *
 * Always present: `calls`, `errors` (4xx other than throttling and denial), `faults` (5xx),
 * `throttles`, `denied`, `firstSeen` and `lastSeen` (ISO 8601 UTC). A call that needs several
 * permissions counts once in each action/resource group, and once in any other group.
 */
export interface UsageRow {
  workload?: string;
  workloadKey?: string | null;
  workloadKind?: string | null;
  service?: string;
  action?: string;
  note?: string | null;
  resource?: string | null;
  operation?: string;
  region?: string | null;
  account?: string | null;
  outcome?: string;
  day?: string;
  hour?: string;
  calls: number;
  errors: number;
  faults: number;
  throttles: number;
  denied: number;
  firstSeen: string;
  lastSeen: string;
}

/** Aggregates the calls `filter` matches by `groupBy`. */
export function queryUsage(store: Store, options: UsageOptions): UsageRow[] {
  const groupBy = options.groupBy && options.groupBy.length > 0 ? options.groupBy : DEFAULT_USAGE_GROUPS;
  return readUsage(store, { filter: options.filter, groupBy, source: options.source }).map((r) => {
    const {
      workloadId: _id,
      first,
      last,
      calls,
      errors,
      faults,
      throttles,
      denied,
      traceMin: _a,
      traceMax: _b,
      ...keys
    } = r;
    return {
      ...(keys as Partial<UsageRow>),
      calls,
      errors,
      faults,
      throttles,
      denied,
      firstSeen: isoTime(first) ?? '',
      lastSeen: isoTime(last) ?? '',
    };
  });
}
