/**
 * Aggregated usage: calls grouped by any combination of workload, service, IAM action, resource,
 * operation, region, account, outcome, day and hour.
 */
import { UserInputError } from '../shared/errors.js';
import type { Store } from '../store/db.js';
import { selectCalls } from '../store/filter.js';
import { UNATTRIBUTED } from './calls.js';
import type { CallFilter } from './filters.js';
import { isoTime } from './stats.js';

/** What `usage --group-by` accepts. */
export type UsageGroup =
  | 'principal'
  | 'service'
  | 'action'
  | 'resource'
  | 'operation'
  | 'region'
  | 'account'
  | 'outcome'
  | 'day'
  | 'hour';

/** Every {@link UsageGroup}, in the order columns are printed. */
export const USAGE_GROUPS: readonly UsageGroup[] = [
  'principal',
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

/** The default grouping: one row per workload × IAM action × resource. */
export const DEFAULT_USAGE_GROUPS: readonly UsageGroup[] = ['principal', 'action', 'resource'];

/** Action label of calls that need no IAM permission (sts:GetCallerIdentity). */
export const NO_PERMISSION = '(no permission needed)';

interface GroupSpec {
  /** `[SQL expression, result alias]`; the first is what rows are grouped by. */
  columns: [string, string][];
  /** Needs the `target_permissions tp` join. */
  permissions?: boolean;
}

// The only SQL text --group-by can reach: a fixed map from group name to expressions.
const GROUP_SQL: Record<UsageGroup, GroupSpec> = {
  principal: {
    columns: [
      ['c.principal_id', 'principalId'],
      [`coalesce(p.name, '${UNATTRIBUTED}')`, 'principal'],
      ['p.key', 'principalKey'],
      ['p.kind', 'principalKind'],
    ],
  },
  service: { columns: [[`CASE t.service WHEN '' THEN '(unknown)' ELSE t.service END`, 'service']] },
  action: {
    permissions: true,
    columns: [
      [
        // Calls without permissions stay visible: the gap is what the user needs to see.
        `CASE WHEN tp.action IS NOT NULL THEN tp.action
              WHEN t.mapping = 'no-permission' THEN '${NO_PERMISSION}'
              ELSE '(unmapped ' || CASE t.service WHEN '' THEN t.service_name ELSE t.service END
                   || ':' || coalesce(t.operation, '?') || ')' END`,
        'action',
      ],
      [`CASE WHEN tp.action IS NULL THEN t.mapping_reason ELSE tp.note END`, 'note'],
    ],
  },
  resource: { permissions: true, columns: [['tp.resource', 'resource']] },
  operation: {
    columns: [
      [
        `CASE t.service WHEN '' THEN t.service_name ELSE t.service END || ':' || coalesce(t.operation, '(unknown)')`,
        'operation',
      ],
    ],
  },
  region: { columns: [['coalesce(t.region, p.region)', 'region']] },
  account: { columns: [['coalesce(t.account, p.account)', 'account']] },
  outcome: { columns: [['c.outcome', 'outcome']] },
  day: { columns: [[`strftime('%Y-%m-%d', c.start_time, 'unixepoch')`, 'day']] },
  hour: { columns: [[`strftime('%Y-%m-%dT%H:00Z', c.start_time, 'unixepoch')`, 'hour']] },
};

/**
 * Parses a `--group-by` list (comma-separated, repeatable); unknown names are a usage error
 * that lists the valid ones.
 */
export function parseGroupBy(values: string[] | undefined): UsageGroup[] {
  if (!values || values.length === 0) return [...DEFAULT_USAGE_GROUPS];
  const out: UsageGroup[] = [];
  for (const raw of values.flatMap((v) => v.split(','))) {
    const g = raw.trim().toLowerCase();
    if (g === '') continue;
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
}

/**
 * One group of calls (`usage --json` prints an array of these, most calls first).
 *
 * Only the fields of the requested groups are present:
 * `principal` (workload name, or `(unattributed)`), `principalKey` (null when unattributed),
 * `principalKind`; `service` (IAM prefix, `(unknown)`); `action` (IAM action; `(no permission needed)`
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
  principal?: string;
  principalKey?: string | null;
  principalKind?: string | null;
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
  const groups = options.groupBy && options.groupBy.length > 0 ? options.groupBy : DEFAULT_USAGE_GROUPS;
  const specs = groups.map((g) => GROUP_SQL[g]);
  const joinedPermissions = specs.some((s) => s.permissions);
  const sel = selectCalls(options.filter, { permissions: joinedPermissions });
  const columns = specs.flatMap((s) => s.columns);
  const keyAliases = specs.map((s) => s.columns[0]![1]);
  // With the permissions join a call can appear once per permission: DISTINCT on the call id keeps
  // it once per group (a call needing two resources counts once per resource, once per action).
  const inner = `SELECT ${joinedPermissions ? 'DISTINCT ' : ''}c.id AS _id, c.outcome AS _o, c.start_time AS _t,
      ${columns.map(([expr, alias]) => `${expr} AS ${alias}`).join(', ')}
    FROM ${sel.from} WHERE ${sel.where}`;
  const sql = `SELECT ${columns.map(([, a]) => a).join(', ')},
      count(*) AS calls, total(_o = 'error') AS errors, total(_o = 'fault') AS faults,
      total(_o = 'throttle') AS throttles, total(_o = 'denied') AS denied, min(_t) AS first, max(_t) AS last
    FROM (${inner}) GROUP BY ${keyAliases.join(', ')}
    ORDER BY calls DESC, ${columns
      .filter(([, a]) => a !== 'principalId')
      .map(([, a]) => a)
      .join(', ')}`;
  const rows = store.prepare(sql).all(...sel.params) as Record<string, unknown>[];
  return rows.map((r) => {
    const { principalId: _id, first, last, calls, errors, faults, throttles, denied, ...keys } = r;
    return {
      ...(keys as Partial<UsageRow>),
      calls: Number(calls),
      errors: Number(errors),
      faults: Number(faults),
      throttles: Number(throttles),
      denied: Number(denied),
      firstSeen: isoTime(first as number) ?? '',
      lastSeen: isoTime(last as number) ?? '',
    };
  });
}
