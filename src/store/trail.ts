/**
 * CloudTrail evidence as stored (schema v5 `trail_events`, written by ingest): the calls made
 * with each role's credentials, and the links a service's `sts:AssumeRole` gives between a role
 * and the workload it runs (the session name is the function's name, or the task's id).
 */
import { mapTrailCall, serviceOfSource } from '../iam/cloudtrail.js';
import { globMatch } from '../iam/glob.js';
import type { MappingResult, Permission } from '../iam/types.js';
import { outcomeOfErrorCode, type Outcome } from '../shared/outcome.js';
import type { Store } from './db.js';
import { mappedCallFilter, toGlob, type CallFilter } from './filter.js';
import type { TrailEventFields } from './write/items.js';

/** One stored CloudTrail call made with a role's credentials, as the writer stored it. */
export interface TrailRow extends Omit<
  TrailEventFields,
  'principal' | 'role' | 'management' | 'resourceArns'
> {
  role: string;
  /** 1 for a management event, 0 for a data event. */
  management: number;
  /** JSON array of resources[].ARN. */
  resources: string;
}

/**
 * Which calls: the parts of a {@link CallFilter} that are columns of a record, with the meaning
 * they have for traces (a range, epoch seconds `[since, until)`; the record's region and account
 * as patterns). The rest of the filter applies once the record is mapped (`mappedCallFilter`, filter.ts).
 */
export type TrailScope = Pick<CallFilter, 'since' | 'until' | 'regions' | 'accounts'>;

function range(scope: TrailScope): { sql: string; params: (number | string)[] } {
  const where: string[] = [];
  const params: (number | string)[] = [];
  if (scope.since !== undefined) {
    where.push('time >= ?');
    params.push(scope.since);
  }
  if (scope.until !== undefined) {
    where.push('time < ?');
    params.push(scope.until);
  }
  const patterns = (column: string, values: string[] | undefined): void => {
    if (!values?.length) return;
    where.push(
      `(${values.map((v) => (params.push(toGlob(v)), `coalesce(${column}, '') GLOB ?`)).join(' OR ')})`,
    );
  };
  patterns('region', scope.regions);
  patterns('account', scope.accounts);
  return { sql: where.map((w) => ` AND ${w}`).join(''), params };
}

/** True when the database holds any CloudTrail record. */
export function hasTrail(store: Store): boolean {
  return store.prepare('SELECT 1 FROM trail_events LIMIT 1').get() !== undefined;
}

/** The roles with calls in the range, sorted (service-linked roles are never subjects). */
export function trailRoles(store: Store, scope: TrailScope): string[] {
  const r = range(scope);
  return (
    store
      .prepare(`SELECT DISTINCT role FROM trail_events WHERE principal = 'role'${r.sql} ORDER BY role`)
      .all(...r.params) as { role: string }[]
  ).map((x) => x.role);
}

/**
 * True when a workload pattern names a CloudTrail role subject: `role:ARN`, the role's ARN or
 * its name (wildcards allowed), as `--workload` and `explain` take it.
 */
export function namesTrailRole(pattern: string, role: string): boolean {
  const name = role.split('/').pop() ?? role;
  return globMatch(pattern, `role:${role}`) || globMatch(pattern, role) || globMatch(pattern, name);
}

/**
 * True when a filter's workload patterns keep a CloudTrail role as a subject of its own: no
 * pattern narrows the selection (a pattern names traced workloads), or one names the role, and
 * no `--exclude-workload` pattern names it.
 */
export function trailRoleSelected(
  filter: Pick<CallFilter, 'workloads' | 'excludeWorkloads'>,
  role: string,
): boolean {
  const narrowed = (filter.workloads?.length ?? 0) > 0 || (filter.excludeWorkloads?.length ?? 0) > 0;
  const named = (filter.workloads ?? []).some((p) => namesTrailRole(p, role));
  const excluded = (filter.excludeWorkloads ?? []).some((p) => namesTrailRole(p, role));
  return (!narrowed || named) && !excluded;
}

/** The stored roles a workload pattern names (see {@link namesTrailRole}). */
export function trailRolesNamed(store: Store, pattern: string): string[] {
  if (!hasTrail(store)) return [];
  return trailRoles(store, {}).filter((r) => namesTrailRole(pattern, r));
}

/** One role's calls in the range, in time order, one at a time. */
export function* readTrailRows(store: Store, role: string, scope: TrailScope): Generator<TrailRow> {
  const r = range(scope);
  const rows = store
    .prepare(
      `SELECT event_id AS eventId, time, event_source AS eventSource, event_name AS eventName, region, account, role, session,
         invoked_by AS invokedBy, source_ip AS sourceIp, user_agent AS userAgent, error_code AS errorCode, management,
         caller, caller_reason AS callerReason, request_parameters AS requestParameters, resources
       FROM trail_events INDEXED BY trail_events_role WHERE role = ? AND principal = 'role'${r.sql} ORDER BY time, event_id`,
    )
    .iterate(role, ...r.params) as IterableIterator<TrailRow>;
  yield* rows;
}

/** One role's records in one time bucket with one error code (null: succeeded). */
export interface TrailActivityRow {
  /** The bucket's number: its start is `bucket * unit` epoch seconds. */
  bucket: number;
  errorCode: string | null;
  records: number;
}

/**
 * One role's records per bucket of `unit` seconds and error code, aggregated in SQL: what a
 * CloudTrail-only role's activity chart draws (the time, region and account parts of the filter).
 */
export function trailActivity(
  store: Store,
  role: string,
  scope: TrailScope,
  unit: number,
): TrailActivityRow[] {
  const r = range(scope);
  return store
    .prepare(
      `SELECT CAST(time / ? AS INTEGER) AS bucket, error_code AS errorCode, COUNT(*) AS records
       FROM trail_events INDEXED BY trail_events_role WHERE role = ? AND principal = 'role'${r.sql}
       GROUP BY bucket, errorCode ORDER BY bucket`,
    )
    .all(unit, role, ...r.params) as TrailActivityRow[];
}

/** One stored call as a filter sees it: mapped to IAM through the trace mapping core. */
export interface MappedTrailRow {
  row: TrailRow;
  outcome: Outcome;
  mapped: MappingResult;
  /** The mapped permissions the filter keeps (all of them without an action or resource filter). */
  permissions: Permission[];
}

/**
 * One role's calls a filter keeps, in time order, one at a time, each mapped: every part of the
 * filter with the meaning it has for traces, except the workload patterns, which choose roles
 * (the record's region, account and time in SQL; its service, outcome and mapped permissions as
 * it is read). A call is kept when its service and outcome are, and, under an action or resource
 * filter, one of its permissions is.
 */
export function* filteredTrailRows(
  store: Store,
  role: string,
  filter: CallFilter,
): Generator<MappedTrailRow> {
  const keep = mappedCallFilter(filter);
  for (const row of readTrailRows(store, role, filter)) {
    const outcome = outcomeOfErrorCode(row.errorCode);
    if (!keep.call(serviceOfSource(row.eventSource)?.prefix ?? null, outcome)) continue;
    const mapped = mapTrailCall({
      eventSource: row.eventSource,
      eventName: row.eventName,
      region: row.region,
      account: row.account,
      requestParameters: jsonOr<Record<string, unknown> | null>(row.requestParameters, null),
      resourceArns: jsonOr<string[]>(row.resources, []),
    });
    const permissions =
      mapped.status === 'mapped'
        ? mapped.permissions.filter((p) => keep.permission(p.action, p.resource))
        : [];
    if (keep.needsPermission && permissions.length === 0) continue;
    yield { row, outcome, mapped, permissions };
  }
}

/** A stored JSON column, or `fallback` when it is NULL or damaged. */
function jsonOr<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** True when a call of the role carries the Lambda run time's user-agent token (src/ingest/caller.ts). */
export function roleRunsLambda(store: Store, role: string): boolean {
  return (
    store
      .prepare(
        `SELECT 1 FROM trail_events INDEXED BY trail_events_role
         WHERE role = ? AND principal = 'role' AND instr(caller_reason, 'exec-env/AWS_Lambda_') > 0 LIMIT 1`,
      )
      .get(role) !== undefined
  );
}

/** A role a service assumed for a workload: the session names the function (or the task). */
export interface TrailLink {
  role: string;
  session: string;
  /** `lambda.amazonaws.com` or `ecs-tasks.amazonaws.com`. */
  service: string;
  /** Where the service assumed it (the record's region and account), when recorded. */
  region: string | null;
  account: string | null;
}

/** Every role link from `sts:AssumeRole` records by the services that run workloads. */
export function trailLinks(store: Store): TrailLink[] {
  return store
    .prepare(
      `SELECT DISTINCT role, session, invoked_by AS service, region, account FROM trail_events
       WHERE principal = 'service' AND role IS NOT NULL AND session IS NOT NULL AND invoked_by IS NOT NULL
       ORDER BY role, session`,
    )
    .all() as TrailLink[];
}
