/**
 * Workloads with their activity over a range (`workloads`, formerly `principals`). Read through
 * the usage reader: whole UTC days from the rollups, the partial days at the ends from calls.
 */
import type { Store } from '../store/db.js';
import type { CallFilter } from '../store/filter.js';
import { readWorkloads, type UsageSource } from '../store/usage.js';
import type { TraceFormat, WorkloadRecord } from '../store/workloads.js';
import { filteredTrailRows, hasTrail, namesTrailRole, trailRoles } from '../store/trail.js';
import { arnParts } from '../iam/arn.js';
import { compareText } from '../shared/order.js';
import { DAY } from '../shared/time.js';
import { isoTime } from '../shared/time.js';
import { isObject } from '../shared/values.js';

export { loadWorkloads, type WorkloadRecord } from '../store/workloads.js';

/**
 * One workload and what it did in the range (`workloads --json` prints an array of these, most
 * calls first).
 *
 * Fields: `id` (database id); `key` (stable id: unqualified ARN, else `kind:account:region:name`);
 * `kind` (`lambda`, `ecs`, `ec2`, …); `name`; `arn`, `account`, `region` (null when unknown);
 * `attrs` (qualifiers, cluster, origin… as recorded); `formats` (the trace formats it was seen in:
 * `x-ray`, `opentelemetry`); `traces` (distinct traces with a call, counted
 * per UTC day: a trace spanning midnight counts on both days); `activeDays` (UTC days with a call); `calls`; `distinctActions` (IAM actions
 * its calls needed); `denied`, `errors` (4xx other than throttling and denial), `faults` (5xx),
 * `throttles` (calls with that outcome); `firstSeen`, `lastSeen` (ISO 8601 UTC, null without calls).
 */
export interface WorkloadRow extends Omit<WorkloadRecord, 'attrs'> {
  /**
   * For a role known from CloudTrail (kind `role`, key `role:ARN`, the name `policy --workload`
   * and `explain` take; id 0, arn null): its records. Its `calls` are those records, its
   * `traces` 0, its `faults` 0 (CloudTrail cannot tell a fault from an error).
   */
  cloudtrailRecords?: number;
  attrs: Record<string, unknown>;
  formats: TraceFormat[];
  traces: number;
  activeDays: number;
  calls: number;
  distinctActions: number;
  denied: number;
  errors: number;
  faults: number;
  throttles: number;
  firstSeen: string | null;
  lastSeen: string | null;
}

/** Options for {@link listWorkloads}. */
export interface ListWorkloadsOptions {
  filter?: CallFilter;
  /** Where whole days are read from (tests compare `calls` with the default `rollups`). */
  source?: UsageSource;
}

/**
 * Lists workloads with their activity, most calls first. Without a filter every workload is listed,
 * also those with no calls; with one, only workloads with a matching call. Roles known from
 * CloudTrail are rows too (kind `role`), with their records as calls.
 */
export function listWorkloads(store: Store, options: ListWorkloadsOptions = {}): WorkloadRow[] {
  const rows = [...tracedWorkloads(store, options), ...trailRoleRows(store, options.filter ?? {})];
  // Most calls first; the sort is stable, so ties keep the reader's order (traced workloads by key).
  return rows.sort((a, b) => b.calls - a.calls);
}

/**
 * The roles known from CloudTrail as rows (see {@link WorkloadRow.cloudtrailRecords}): those
 * with a call the filter keeps, named by the workload patterns when there are any.
 */
function trailRoleRows(store: Store, filter: CallFilter): WorkloadRow[] {
  if (!hasTrail(store)) return [];
  const out: WorkloadRow[] = [];
  for (const role of trailRoles(store, filter)) {
    if (filter.workloads?.length && !filter.workloads.some((p) => namesTrailRole(p, role))) continue;
    if (filter.excludeWorkloads?.some((p) => namesTrailRole(p, role))) continue;
    let calls = 0;
    let denied = 0;
    let errors = 0;
    let throttles = 0;
    let first: number | null = null;
    let last: number | null = null;
    const actions = new Set<string>();
    const days = new Set<number>();
    for (const r of filteredTrailRows(store, role, filter)) {
      calls++;
      if (r.outcome === 'denied') denied++;
      else if (r.outcome === 'error') errors++;
      else if (r.outcome === 'throttle') throttles++;
      for (const p of r.permissions) actions.add(p.action);
      days.add(Math.floor(r.row.time / DAY));
      first = first === null ? r.row.time : Math.min(first, r.row.time);
      last = last === null ? r.row.time : Math.max(last, r.row.time);
    }
    if (calls === 0) continue;
    out.push({
      id: 0,
      key: `role:${role}`,
      kind: 'role',
      name: role.split('/').pop() ?? role,
      arn: null,
      account: arnParts(role)?.[4] || null,
      region: null,
      attrs: {},
      formats: [],
      traces: 0,
      activeDays: days.size,
      calls,
      distinctActions: actions.size,
      denied,
      errors,
      faults: 0,
      throttles,
      firstSeen: isoTime(first),
      lastSeen: isoTime(last),
      cloudtrailRecords: calls,
    });
  }
  return out.sort((a, b) => b.calls - a.calls || compareText(a.key, b.key));
}

/** The traced workloads, most calls first. */
function tracedWorkloads(store: Store, options: ListWorkloadsOptions): WorkloadRow[] {
  // Field order as documented on WorkloadRow (it is the JSON order).
  return readWorkloads(store, { filter: options.filter ?? {}, source: options.source }).map((r) => {
    const attrs = parseAttrs(r.attrs);
    return {
      id: r.id,
      key: r.key,
      kind: r.kind,
      name: r.name,
      arn: r.arn,
      account: r.account,
      region: r.region,
      attrs,
      formats: formatsOf(attrs),
      traces: r.traces,
      activeDays: r.days,
      calls: r.calls,
      distinctActions: r.actions,
      denied: r.denied,
      errors: r.errors,
      faults: r.faults,
      throttles: r.throttles,
      firstSeen: isoTime(r.first),
      lastSeen: isoTime(r.last),
    };
  });
}

const FORMATS: readonly TraceFormat[] = ['x-ray', 'opentelemetry'];

/** The trace formats recorded in a workload's attributes, in a fixed order. */
export function formatsOf(attrs: Record<string, unknown>): TraceFormat[] {
  const list = Array.isArray(attrs.formats) ? (attrs.formats as unknown[]) : [];
  return FORMATS.filter((f) => list.includes(f));
}

function parseAttrs(s: string): Record<string, unknown> {
  try {
    const v = JSON.parse(s) as unknown;
    return isObject(v) ? v : {};
  } catch {
    return {};
  }
}
