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
              count(c.id) AS calls,
              count(DISTINCT c.trace_id) AS traces,
              count(DISTINCT c.service || ':' || coalesce(c.operation, '?')) AS distinctOperations,
              coalesce(sum(c.outcome = 'denied'), 0) AS denied,
              coalesce(sum(c.outcome IN ('error', 'fault', 'throttle')), 0) AS errors,
              min(c.start_time) AS first, max(c.start_time) AS last
       FROM principals p LEFT JOIN calls c ON c.principal_id = p.id
       GROUP BY p.id
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
