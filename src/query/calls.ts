/**
 * Individual calls, newest first, and the pieces every call query shares: how a filter becomes a
 * FROM/WHERE that uses the right index, and the explanation printed when nothing matches.
 */
import type { Store } from '../store/db.js';
import { selectCalls, type CallFilter } from '../store/filter.js';
import { describeFilter } from './filters.js';
import { isoTime } from '../shared/time.js';
import { UNATTRIBUTED } from '../store/usage.js';

export { UNATTRIBUTED };

/** The newest recorded call's time, epoch seconds (null when the database holds none): the anchor of `--since 7d`. */
export function newestCall(store: Store): number | null {
  return recordedPeriod(store).last;
}

/** The first and last recorded call, epoch seconds (null when the database holds none). */
export function recordedPeriod(store: Store): { first: number | null; last: number | null } {
  // Two statements, so that each is one index lookup (calls_time): SQLite's min/max optimisation
  // applies only to a query with a single min() or max(); both in one statement scan every call.
  const first = store.prepare('SELECT min(start_time) AS t FROM calls').get() as { t: number | null };
  const last = store.prepare('SELECT max(start_time) AS t FROM calls').get() as { t: number | null };
  return { first: first.t, last: last.t };
}

/**
 * The one-line explanation for an empty result: what was asked, and when the database is empty
 * or the range misses the recorded period, says so and gives that period.
 */
export function explainEmpty(store: Store, filter: CallFilter, what: string): string {
  const { first, last } = recordedPeriod(store);
  if (first === null || last === null)
    return `No ${what}: the database holds no calls yet. Run \`xray-lp ingest <dump>\` first.`;
  const period = `${isoTime(first)} … ${isoTime(last)}`;
  const outside =
    (filter.since !== undefined && filter.since > last) ||
    (filter.until !== undefined && filter.until <= first);
  if (outside)
    return `No ${what}: the range (${describeFilter({ since: filter.since, until: filter.until })}) is outside the recorded period ${period}.`;
  return `No ${what} match (${describeFilter(filter)}); the recorded period is ${period}.`;
}

/** Options for {@link listCalls}. */
export interface ListCallsOptions {
  filter: CallFilter;
  /** At most this many calls (default 100). */
  limit?: number;
}

/**
 * One recorded AWS call (`calls --json` prints an array of these, newest first).
 *
 * Fields: `time` ISO 8601 UTC start; `durationMs` (null when no end time); `workload` workload name or
 * `(unattributed)`; `workloadKey` (null when unattributed); `workloadKind`; `service` IAM prefix
 * (`(unknown)` when not recognised); `serviceName` as recorded; `operation` (null when not recorded);
 * `region`, `account` of the target, else of the workload; `actions` and `resources` the IAM
 * permissions the call needed (empty when none or unmapped); `mapping` `mapped` | `no-permission` |
 * `unmapped`; `outcome` `ok` | `error` | `fault` | `throttle` | `denied`; `httpStatus`; `errorType`;
 * `traceId`; `via` `sdk` | `inferred` | `remote`.
 */
export interface CallRow {
  time: string;
  durationMs: number | null;
  workload: string;
  workloadKey: string | null;
  workloadKind: string | null;
  service: string;
  serviceName: string;
  operation: string | null;
  region: string | null;
  account: string | null;
  actions: string[];
  resources: string[];
  mapping: string;
  outcome: string;
  httpStatus: number | null;
  errorType: string | null;
  traceId: string;
  via: string;
}

/** Lists the calls `filter` matches, newest first. */
export function listCalls(store: Store, options: ListCallsOptions): CallRow[] {
  const limit = Math.max(0, Math.floor(options.limit ?? 100));
  const sel = selectCalls(options.filter);
  // Permissions are fetched for the page only, after the LIMIT, so one call stays one row. So are
  // the trace ids (one lookup each): where the page is sorted, not read in index order, the
  // select list is computed for every matching call before the sort.
  const rows = store
    .prepare(
      `SELECT p.*, (SELECT xray_id FROM traces WHERE id = p.trace_key) AS trace_id FROM (
         SELECT c.id, c.start_time, c.end_time, w.name, w.key, w.kind, t.service, t.service_name, t.operation,
                coalesce(t.region, w.region) AS region, coalesce(t.account, w.account) AS account, t.mapping,
                c.outcome, c.http_status, c.error_type, c.trace_id AS trace_key, c.via, c.target_id
         FROM ${sel.from} WHERE ${sel.where}
         ORDER BY c.start_time DESC, c.id DESC LIMIT ?) p
       ORDER BY p.start_time DESC, p.id DESC`,
    )
    .all(...sel.params, limit) as {
    id: number;
    start_time: number;
    end_time: number | null;
    name: string | null;
    key: string | null;
    kind: string | null;
    service: string;
    service_name: string;
    operation: string | null;
    region: string | null;
    account: string | null;
    mapping: string;
    outcome: string;
    http_status: number | null;
    error_type: string | null;
    trace_id: string;
    via: string;
    target_id: number;
  }[];
  const perms = store.prepare(
    'SELECT action, resource FROM target_permissions WHERE target_id = ? ORDER BY action, resource',
  );
  const cache = new Map<number, { action: string; resource: string }[]>();
  return rows.map((r) => {
    let p = cache.get(r.target_id);
    if (!p) {
      p = perms.all(r.target_id) as { action: string; resource: string }[];
      cache.set(r.target_id, p);
    }
    return {
      time: isoTime(r.start_time) ?? '',
      durationMs: r.end_time === null ? null : Math.round((r.end_time - r.start_time) * 1000),
      workload: r.name ?? UNATTRIBUTED,
      workloadKey: r.key,
      workloadKind: r.kind,
      service: r.service === '' ? '(unknown)' : r.service,
      serviceName: r.service_name,
      operation: r.operation,
      region: r.region,
      account: r.account,
      actions: [...new Set(p.map((x) => x.action))],
      resources: [...new Set(p.map((x) => x.resource))],
      mapping: r.mapping,
      outcome: r.outcome,
      httpStatus: r.http_status,
      errorType: r.error_type,
      traceId: r.trace_id,
      via: r.via,
    };
  });
}
