/**
 * `explain`: why a permission is in a workload's policy, or why it is not.
 */
import { globMatch } from '../iam/glob.js';
import { compareText, sortedText } from '../shared/order.js';
import { isoTime } from '../shared/time.js';
import type { Store } from '../store/db.js';
import type { CallFilter } from '../store/filter.js';
import { readUsage, readWorkloads } from '../store/usage.js';
import { buildPolicies, type PolicyOptions, type WorkloadPolicy } from './build.js';

/** What `explain` found (`explain --json` prints this object). */
export interface Explanation {
  /** The workload's key (its ARN where it has one). */
  workload: string;
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
  /**
   * Where the subject holds CloudTrail evidence: the sources that saw the permission, the calls
   * CloudTrail shows, and the calls made with the role's credentials from outside the workload.
   */
  cloudtrail?: {
    sources: ('trace' | 'cloudtrail')[];
    calls: number;
    outside: { sourceIp: string | null; userAgent: string | null; calls: number }[];
  };
}

/** Options for {@link explainPermission}. */
export interface ExplainOptions extends PolicyOptions {
  /** Workload name, ARN or key (wildcards allowed). */
  workload: string;
  action: string;
  resource?: string;
}

/** Explains one permission of one workload. */
export function explainPermission(store: Store, o: ExplainOptions): Explanation {
  const filter: CallFilter = { ...o.filter, workloads: [o.workload] };
  const policy: WorkloadPolicy | undefined = buildPolicies(store, { ...o, filter }).policies[0];
  const statements = (policy?.documents ?? [])
    .flatMap((d) => d.Statement)
    .filter((s) => s.Action.some((a) => a.toLowerCase() === o.action.toLowerCase()))
    .filter((s) => !o.resource || s.Resource.some((r) => globMatch(r, o.resource as string)))
    .map((s) => ({ sid: s.Sid, resources: s.Resource }));
  const needed: CallFilter = {
    ...filter,
    actions: [o.action],
    resources: o.resource ? [o.resource] : undefined,
  };
  const rows = readUsage(store, { filter: needed, groupBy: ['outcome', 'resource'], source: o.source });
  const byOutcome: Record<string, number> = {};
  const resources = new Map<string, number>();
  for (const r of rows) {
    byOutcome[String(r.outcome)] = (byOutcome[String(r.outcome)] ?? 0) + r.calls;
    resources.set(String(r.resource), (resources.get(String(r.resource)) ?? 0) + r.calls);
  }
  const calls = rows.reduce((a, r) => a + r.calls, 0);
  const reasons: string[] = [];
  const granted = statements.length > 0;
  // A run-time need: why the services that run the workload need it, and the source of the fact.
  const needs = (policy?.evidence ?? [])
    .filter((e) => statements.some((s) => s.sid === e.sid))
    .flatMap((e) => e.actions)
    .filter((a) => a.action.toLowerCase() === o.action.toLowerCase() && a.origin !== 'observed')
    .flatMap((a) => (a.runtime ?? []).map((r) => ({ ...r, origin: a.origin })))
    .filter((r) => !o.resource || globMatch(r.resource, o.resource));
  for (const n of needs)
    reasons.push(
      `granted as a run-time need (${n.origin}, rule ${n.rule}) on ${n.resource}: ${n.why}. Source: ${n.source}`,
    );
  if (granted && needs.length > 0 && calls === 0) {
    // No call shows it: the run-time reasons above are the whole answer.
  } else if (granted && calls > 0) {
    reasons.push(`granted because ${calls} selected call${calls === 1 ? '' : 's'} needed it`);
    if (byOutcome.denied)
      reasons.push(
        `${byOutcome.denied} of them ${byOutcome.denied === 1 ? 'was' : 'were'} denied: the workload lacks this permission today`,
      );
  } else if (granted) {
    // A statement covers it (a wildcard or a wider resource) though no selected call needed
    // exactly this: say what it was granted for, not "granted because 0 calls needed it".
    reasons.push(
      `granted: no selected call needed it${o.resource ? ' on this resource' : ''}, but statement ${statements.map((x) => x.sid).join(', ')} covers it (granted on ${statements.flatMap((x) => x.resources).join(', ')} for other calls)`,
    );
  } else if (calls > 0 && byOutcome.denied === calls && !o.includeDenied) {
    reasons.push(
      'not granted: every call that needed it was denied (AccessDenied), so it is left out by default: the workload lacks it today and the denial may be deliberate; --include-denied grants it',
    );
  } else if (calls === 0) {
    // Whether the workload needed it at all, at any time and whatever the other filters.
    const anyTime = readUsage(store, {
      filter: { workloads: [o.workload], actions: [o.action] },
      groupBy: ['outcome'],
      source: o.source,
    }).reduce((n, r) => n + r.calls, 0);
    const known = readWorkloads(store, { filter: { workloads: [o.workload] } }).length > 0;
    reasons.push(
      anyTime > 0
        ? `not granted: the workload needed it ${anyTime} time${anyTime === 1 ? '' : 's'}, but outside the selected range or filters`
        : known
          ? 'not granted: no recorded call of this workload needed it'
          : `not granted: no workload matches "${o.workload}" (see \`xray-lp workloads\`)`,
    );
  } else {
    reasons.push(
      'not granted: the calls that needed it were generalised into another statement or omitted by an option',
    );
  }
  const trail = policy?.cloudtrail ? trailPart(policy, o, granted, calls, reasons) : undefined;
  return {
    workload: policy?.principal ?? o.workload,
    action: o.action,
    resource: o.resource ?? null,
    granted,
    statements,
    calls,
    byOutcome,
    firstSeen: isoTime(rows.length ? rows.reduce((m, r) => Math.min(m, r.first), Infinity) : null),
    lastSeen: isoTime(rows.length ? rows.reduce((m, r) => Math.max(m, r.last), -Infinity) : null),
    sampleTraceIds: sortedText(new Set(rows.flatMap((r) => [r.traceMin, r.traceMax]))).slice(0, 3),
    resources: [...resources.entries()]
      .sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]))
      .map(([resource, n]) => ({ resource, calls: n })),
    reasons,
    ...(trail ? { cloudtrail: trail } : {}),
  };
}

/**
 * What a role's CloudTrail says of the permission: the calls behind its evidence and who saw
 * them, and the outside callers that needed it (withheld unless --include-outside). Adds the
 * reasons; the trace reasons above count traced calls only.
 */
function trailPart(
  policy: WorkloadPolicy,
  o: ExplainOptions,
  granted: boolean,
  tracedCalls: number,
  reasons: string[],
): NonNullable<Explanation['cloudtrail']> {
  const action = o.action.toLowerCase();
  const evidence = policy.evidence
    .flatMap((e) => e.actions)
    .filter((a) => a.action.toLowerCase() === action && a.sources?.includes('cloudtrail'));
  const sources = [...new Set(evidence.flatMap((a) => a.sources ?? []))].sort();
  const calls = evidence.reduce((n, a) => n + a.calls, 0);
  const outside = (policy.cloudtrail?.outside ?? [])
    .filter((c) => c.actions.some((a) => a.toLowerCase() === action))
    .map((c) => ({ sourceIp: c.sourceIp, userAgent: c.userAgent, calls: c.calls }));
  if (evidence.length > 0) {
    // The trace reasons said "no recorded call" when only CloudTrail saw it: CloudTrail's word replaces them.
    if (tracedCalls === 0 && granted) reasons.splice(0, reasons.length);
    reasons.push(
      `seen by ${sources.join(' and ')}: ${calls} call${calls === 1 ? '' : 's'} in the evidence (CloudTrail records of ${policy.cloudtrail?.role})`,
    );
  }
  for (const c of outside)
    reasons.push(
      `credentials used outside the workload: calls from ${c.sourceIp ?? 'an unknown address'} (${c.userAgent ?? 'no user agent'}) needed it (${c.calls} call${c.calls === 1 ? '' : 's'} from there in all); ${o.includeOutside ? 'granted (--include-outside)' : 'not granted from them: --include-outside grants it'}`,
    );
  if (!granted && evidence.length === 0 && outside.length > 0 && !o.includeOutside)
    reasons.splice(0, reasons.length - outside.length);
  return { sources, calls, outside };
}
