/**
 * `explain`: why a permission is in a workload's policy, or why it is not.
 */
import type { Store } from '../store/db.js';
import { globMatch } from '../iam/glob.js';
import { selectCalls, toGlob, type CallFilter } from '../store/filter.js';
import { buildPolicies, type PolicyOptions, type WorkloadPolicy } from './build.js';
import { isoTime } from '../query/stats.js';

/** What `explain` found (`explain --json` prints this object). */
export interface Explanation {
  principal: string;
  action: string;
  resource: string | null;
  /** True when the generated policy allows the action (on the resource, when one is given). */
  granted: boolean;
  /** The statements that grant it. */
  statements: { sid: string; resources: string[] }[];
  /** Calls that needed the action (on the resource), by outcome, in the selected range. */
  calls: number;
  byOutcome: Record<string, number>;
  firstSeen: string | null;
  lastSeen: string | null;
  sampleTraceIds: string[];
  /** The resources recorded for those calls. */
  resources: { resource: string; calls: number }[];
  /** Plain-language reasons, most important first. */
  reasons: string[];
}

/** Options for {@link explainPermission}. */
export interface ExplainOptions extends PolicyOptions {
  principal: string;
  action: string;
  resource?: string;
}

/** Explains one permission of one workload. */
export function explainPermission(store: Store, o: ExplainOptions): Explanation {
  const filter: CallFilter = { ...o.filter, principals: [o.principal] };
  const policy: WorkloadPolicy | undefined = buildPolicies(store, { ...o, filter }).policies[0];
  const statements = (policy?.documents ?? [])
    .flatMap((d) => d.Statement)
    .filter((s) => s.Action.some((a) => a.toLowerCase() === o.action.toLowerCase()))
    .filter((s) => !o.resource || s.Resource.some((r) => globMatch(r, o.resource as string)))
    .map((s) => ({ sid: s.Sid, resources: s.Resource }));
  const c = selectCalls(
    { ...filter, actions: [o.action], resources: o.resource ? [o.resource] : undefined },
    { permissions: true },
  );
  const rows = store
    .prepare(
      `SELECT c.outcome, tp.resource, count(*) AS n, min(c.start_time) AS first, max(c.start_time) AS last, min(c.trace_id) AS t1, max(c.trace_id) AS t2
       FROM ${c.from}
       WHERE tp.action IS NOT NULL AND ${c.where} GROUP BY c.outcome, tp.resource`,
    )
    .all(...c.params) as {
    outcome: string;
    resource: string;
    n: number;
    first: number;
    last: number;
    t1: string;
    t2: string;
  }[];
  const byOutcome: Record<string, number> = {};
  const resources = new Map<string, number>();
  for (const r of rows) {
    byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + r.n;
    resources.set(r.resource, (resources.get(r.resource) ?? 0) + r.n);
  }
  const calls = rows.reduce((a, r) => a + r.n, 0);
  const reasons: string[] = [];
  const granted = statements.length > 0;
  if (granted) {
    reasons.push(`granted because ${calls} selected call${calls === 1 ? '' : 's'} needed it`);
    if (byOutcome.denied)
      reasons.push(
        `${byOutcome.denied} of them ${byOutcome.denied === 1 ? 'was' : 'were'} denied: the workload lacks this permission today`,
      );
  } else if (calls > 0 && byOutcome.denied === calls && o.excludeDenied) {
    reasons.push('every call that needed it was denied, and --exclude-denied leaves those out');
  } else if (calls === 0) {
    const anyTime = store
      .prepare(
        `SELECT count(*) AS n FROM calls c JOIN target_permissions tp ON tp.target_id = c.target_id JOIN principals p ON p.id = c.principal_id
         WHERE (p.name GLOB ? OR p.key GLOB ? OR coalesce(p.arn, '') GLOB ?) AND lower(tp.action) = lower(?)`,
      )
      .get(toGlob(o.principal), toGlob(o.principal), toGlob(o.principal), o.action) as { n: number };
    const known = store
      .prepare(`SELECT 1 FROM principals p WHERE p.name GLOB ? OR p.key GLOB ? OR coalesce(p.arn, '') GLOB ?`)
      .get(toGlob(o.principal), toGlob(o.principal), toGlob(o.principal));
    reasons.push(
      anyTime.n > 0
        ? `not granted: the workload needed it ${anyTime.n} time${anyTime.n === 1 ? '' : 's'}, but outside the selected range or filters`
        : known
          ? 'not granted: no recorded call of this workload needed it'
          : `not granted: no workload matches "${o.principal}" (see \`xray-lp principals\`)`,
    );
  } else {
    reasons.push(
      'not granted: the calls that needed it were generalised into another statement or omitted by an option',
    );
  }
  return {
    principal: policy?.principal ?? o.principal,
    action: o.action,
    resource: o.resource ?? null,
    granted,
    statements,
    calls,
    byOutcome,
    firstSeen: isoTime(rows.length ? Math.min(...rows.map((r) => r.first)) : null),
    lastSeen: isoTime(rows.length ? Math.max(...rows.map((r) => r.last)) : null),
    sampleTraceIds: [...new Set(rows.flatMap((r) => [r.t1, r.t2]))].sort().slice(0, 3),
    resources: [...resources.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([resource, n]) => ({ resource, calls: n })),
    reasons,
  };
}
