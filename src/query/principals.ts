/**
 * Workloads with their activity.
 */
import type { Store } from '../store/db.js';
import { isoTime } from './stats.js';

/** One workload and what it did (`principals --json` prints an array of these). */
export interface PrincipalRow {
  id: number;
  key: string;
  kind: string;
  name: string;
  arn: string | null;
  account: string | null;
  region: string | null;
  attrs: Record<string, unknown>;
  traces: number;
  calls: number;
  distinctOperations: number;
  denied: number;
  errors: number;
  firstSeen: string | null;
  lastSeen: string | null;
}

/** Lists every workload with its call activity, most active first. */
export function listPrincipals(store: Store): PrincipalRow[] {
  const rows = store
    .prepare(
      `SELECT p.id, p.key, p.kind, p.name, p.arn, p.account, p.region, p.attrs,
              coalesce(d.calls, 0) AS calls, coalesce(d.traces, 0) AS traces, coalesce(d.denied, 0) AS denied,
              coalesce(d.errors, 0) AS errors, d.first, d.last,
              (SELECT count(DISTINCT t.service || ':' || coalesce(t.operation, '?'))
                 FROM calls c JOIN targets t ON t.id = c.target_id WHERE c.principal_id = p.id) AS distinctOperations
       FROM principals p
       LEFT JOIN (SELECT principal_id, sum(calls) AS calls, sum(traces) AS traces, sum(denied) AS denied,
                         sum(errors) + sum(faults) + sum(throttles) AS errors, min(first_time) AS first, max(last_time) AS last
                  FROM principal_days GROUP BY principal_id) d ON d.principal_id = p.id
       ORDER BY calls DESC, p.key`,
    )
    .all() as (Omit<PrincipalRow, 'attrs' | 'firstSeen' | 'lastSeen'> & {
    attrs: string;
    first: number | null;
    last: number | null;
  })[];
  return rows.map(({ first, last, attrs, ...r }) => ({
    ...r,
    attrs: safeJson(attrs),
    firstSeen: isoTime(first),
    lastSeen: isoTime(last),
  }));
}

function safeJson(s: string): Record<string, unknown> {
  try {
    const v = JSON.parse(s) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
