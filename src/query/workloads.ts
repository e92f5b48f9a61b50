/**
 * Workloads with their activity over a range.
 *
 * Speed: whole UTC days come from the `principal_days` and `principal_day_actions` rollups (one row
 * per workload and day, maintained by ingest); only the partial days at the edges of a range are
 * read from `calls`. A filter on anything finer than the workload (service, action, resource,
 * region, account, outcome) cannot use the rollups and aggregates the matching calls instead.
 */
import type { Store } from '../store/db.js';
import { compileFilter, selectCalls, type CallFilter } from '../store/filter.js';
import { isoTime } from './stats.js';

/** A workload's identity, as policy building and comparison need it. */
export interface WorkloadRecord {
  id: number;
  key: string;
  kind: string;
  name: string;
  arn: string | null;
  account: string | null;
  region: string | null;
}

/**
 * One workload and what it did in the range (`principals --json` prints an array of these, most
 * calls first).
 *
 * Fields: `id` (database id); `key` (stable id: unqualified ARN, else `kind:account:region:name`);
 * `kind` (`lambda`, `ecs`, `ec2`, …); `name`; `arn`, `account`, `region` (null when unknown);
 * `attrs` (qualifiers, cluster, origin… as recorded); `traces` (distinct traces with a call, counted
 * per UTC day: a trace spanning midnight counts on both days); `calls`; `distinctActions` (IAM actions
 * its calls needed); `denied`, `errors` (4xx other than throttling and denial), `faults` (5xx),
 * `throttles` (calls with that outcome); `firstSeen`, `lastSeen` (ISO 8601 UTC, null without calls).
 */
export interface PrincipalRow extends WorkloadRecord {
  attrs: Record<string, unknown>;
  traces: number;
  calls: number;
  distinctActions: number;
  denied: number;
  errors: number;
  faults: number;
  throttles: number;
  firstSeen: string | null;
  lastSeen: string | null;
}

/** Options for {@link listPrincipals}. */
export interface ListPrincipalsOptions {
  filter?: CallFilter;
}

const DAY = 86400;

interface Part {
  sql: string;
  params: unknown[];
}

/**
 * Lists workloads with their activity, most calls first. Without a filter every workload is listed,
 * also those with no calls; with one, only workloads with a matching call.
 */
export function listPrincipals(store: Store, options: ListPrincipalsOptions = {}): PrincipalRow[] {
  const f = options.filter ?? {};
  const fine = Boolean(
    f.services?.length ||
    f.actions?.length ||
    f.resources?.length ||
    f.regions?.length ||
    f.accounts?.length ||
    f.outcomes?.length,
  );
  const filtered = fine || f.since !== undefined || f.until !== undefined;
  const { agg, acts, params } = fine ? fromCalls(f) : fromRollups(f);
  const pf = compileFilter(
    { principals: f.principals, excludePrincipals: f.excludePrincipals },
    { calls: 'c', targets: 't', principals: 'p' },
  );
  const rows = store
    .prepare(
      `WITH agg AS (${agg}), acts AS (${acts})
       SELECT p.id, p.key, p.kind, p.name, p.arn, p.account, p.region, p.attrs,
              coalesce(agg.calls, 0) AS calls, coalesce(agg.traces, 0) AS traces, coalesce(agg.denied, 0) AS denied,
              coalesce(agg.errors, 0) AS errors, coalesce(agg.faults, 0) AS faults, coalesce(agg.throttles, 0) AS throttles,
              agg.first, agg.last, coalesce(acts.n, 0) AS distinctActions
       FROM principals p ${filtered ? 'JOIN' : 'LEFT JOIN'} agg ON agg.pid = p.id LEFT JOIN acts ON acts.pid = p.id
       WHERE ${pf.where}
       ORDER BY calls DESC, p.key`,
    )
    .all(...params, ...pf.params) as (Omit<PrincipalRow, 'attrs' | 'firstSeen' | 'lastSeen'> & {
    attrs: string;
    first: number | null;
    last: number | null;
  })[];
  // Field order as documented on PrincipalRow (it is the JSON order).
  return rows.map((r) => ({
    id: r.id,
    key: r.key,
    kind: r.kind,
    name: r.name,
    arn: r.arn,
    account: r.account,
    region: r.region,
    attrs: safeJson(r.attrs),
    traces: r.traces,
    calls: r.calls,
    distinctActions: r.distinctActions,
    denied: r.denied,
    errors: r.errors,
    faults: r.faults,
    throttles: r.throttles,
    firstSeen: isoTime(r.first),
    lastSeen: isoTime(r.last),
  }));
}

const CALL_SUMS = `count(*) AS calls, count(DISTINCT c.trace_id) AS traces, total(c.outcome = 'denied') AS denied,
  total(c.outcome = 'error') AS errors, total(c.outcome = 'fault') AS faults, total(c.outcome = 'throttle') AS throttles,
  min(c.start_time) AS first, max(c.start_time) AS last`;

/** Aggregates from the matching calls (any filter). */
function fromCalls(f: CallFilter): { agg: string; acts: string; params: unknown[] } {
  const s = selectCalls(f);
  const sp = selectCalls(f, { permissions: true });
  return {
    agg: `SELECT c.principal_id AS pid, ${CALL_SUMS} FROM ${s.from} WHERE ${s.where} AND c.principal_id IS NOT NULL GROUP BY c.principal_id`,
    acts: `SELECT c.principal_id AS pid, count(DISTINCT tp.action) AS n FROM ${sp.from}
           WHERE ${sp.where} AND c.principal_id IS NOT NULL AND tp.action IS NOT NULL GROUP BY c.principal_id`,
    params: [...s.params, ...sp.params],
  };
}

/**
 * Aggregates whole days from the rollups and the partial days at either end of the range from
 * calls. Only time and workload filters reach here; the workload filter is applied by the caller.
 */
function fromRollups(f: CallFilter): { agg: string; acts: string; params: unknown[] } {
  // Whole days inside [since, until): [dayFrom, dayTo).
  const dayFrom = f.since === undefined ? undefined : Math.ceil(f.since / DAY);
  const dayTo = f.until === undefined ? undefined : Math.floor(f.until / DAY);
  const sums: Part[] = [];
  const actions: Part[] = [];
  const edges: [number | undefined, number | undefined][] = [];
  if (dayFrom !== undefined && dayTo !== undefined && dayFrom >= dayTo) {
    edges.push([f.since, f.until]); // no whole day: the range is read from calls
  } else {
    const where: string[] = [];
    const params: unknown[] = [];
    if (dayFrom !== undefined) {
      where.push('day >= ?');
      params.push(dayFrom);
      if (f.since! < dayFrom * DAY) edges.push([f.since, dayFrom * DAY]);
    }
    if (dayTo !== undefined) {
      where.push('day < ?');
      params.push(dayTo);
      if (dayTo * DAY < f.until!) edges.push([dayTo * DAY, f.until]);
    }
    const w = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    sums.push({
      sql: `SELECT principal_id AS pid, calls, traces, denied, errors, faults, throttles, first_time AS first, last_time AS last
            FROM principal_days ${w}`,
      params,
    });
    actions.push({ sql: `SELECT principal_id AS pid, action FROM principal_day_actions ${w}`, params });
  }
  for (const [from, to] of edges) {
    // The workload patterns narrow the edge scan to those workloads' index ranges.
    const s = selectCalls({ since: from, until: to, principals: f.principals });
    sums.push({
      sql: `SELECT c.principal_id AS pid, ${CALL_SUMS} FROM ${s.from} WHERE ${s.where} AND c.principal_id IS NOT NULL GROUP BY c.principal_id`,
      params: s.params,
    });
    actions.push({
      sql: `SELECT c.principal_id AS pid, tp.action FROM calls c JOIN target_permissions tp ON tp.target_id = c.target_id
            WHERE ${s.where} AND c.principal_id IS NOT NULL`,
      params: s.params,
    });
  }
  return {
    agg: `SELECT pid, sum(calls) AS calls, sum(traces) AS traces, sum(denied) AS denied, sum(errors) AS errors,
                 sum(faults) AS faults, sum(throttles) AS throttles, min(first) AS first, max(last) AS last
          FROM (${sums.map((p) => p.sql).join(' UNION ALL ')}) GROUP BY pid`,
    // An action needed on several days (or in an edge and a whole day) counts once.
    acts: `SELECT pid, count(DISTINCT action) AS n FROM (${actions.map((p) => p.sql).join(' UNION ALL ')}) GROUP BY pid`,
    params: [...sums.flatMap((p) => p.params), ...actions.flatMap((p) => p.params)],
  };
}

function safeJson(s: string): Record<string, unknown> {
  try {
    const v = JSON.parse(s) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Every workload's identity (no activity: see {@link listPrincipals} for that). */
export function loadWorkloads(store: Store): WorkloadRecord[] {
  return store
    .prepare('SELECT id, key, kind, name, arn, account, region FROM principals ORDER BY id')
    .all() as WorkloadRecord[];
}
