/**
 * Run-time needs in a policy: the needs of the subject's workloads (src/runtime) become their own
 * `Runtime` statements, generalised as the observed grants are, with their evidence (why, and the
 * source of the fact). A need an observed grant already covers is not granted twice.
 */
import { actionMatches, globMatch } from '../iam/glob.js';
import {
  dependentNeeds,
  namedDependent,
  runtimeNeeds,
  type NamedDependent,
  unionNeeds,
  type RuntimeNeed,
  type RuntimeNeeds,
  type WorkloadFacts,
} from '../runtime/needs.js';
import { factsOf, attrsOf } from '../runtime/facts.js';
import { generaliseArn, generalises } from './to-grant.js';
import { isoTime } from '../shared/time.js';
import { buildStatements, RUNTIME_SID } from './statements.js';

export { factsOf, attrsOf, namedDependent, type NamedDependent };
import type { ActionEvidence, PolicyOptions, PolicyStatement, PolicyWarning } from './types.js';

/** The run-time needs of a subject's workloads, or undefined with `--runtime none`. */
export function needsOf(members: readonly WorkloadFacts[], options: PolicyOptions): RuntimeNeeds | undefined {
  if (options.runtime === 'none') return undefined;
  return unionNeeds(members.map(runtimeNeeds));
}

/** A run-time need as granted: its resource generalised as the options say. */
export interface GrantedNeed extends RuntimeNeed {
  /** The resource as the rules gave it (before account/region generalisation). */
  needed: string;
  /** CloudTrail calls an AWS service made on the workload's behalf that this need covers. */
  seen?: { calls: number; first: number; last: number; samples: string[] };
}

/**
 * The observed grants that are run-time needs seen: every call behind them an AWS service's on
 * the workload's behalf (CloudTrail), covered by a need. They are dropped from the observed
 * statements and counted on the need's evidence instead (the Lambda service's
 * `logs:CreateLogStream` is the log-group need, seen).
 */
export function seenNeeds<
  G extends {
    action: string;
    resource: string;
    onBehalf?: boolean;
    calls: number;
    first: number;
    last: number;
    traces: string[];
  },
>(grants: G[], needs: readonly GrantedNeed[]): G[] {
  return grants.filter((g) => {
    if (g.onBehalf !== true) return true;
    const n = needs.find((x) => actionMatches(x.action, g.action) && globMatch(x.resource, g.resource));
    if (!n) return true;
    const s = (n.seen ??= { calls: 0, first: g.first, last: g.last, samples: [] });
    s.calls += g.calls;
    s.first = Math.min(s.first, g.first);
    s.last = Math.max(s.last, g.last);
    s.samples = [...new Set([...s.samples, ...g.traces])].sort().slice(0, 3);
    return false;
  });
}

/** The `Runtime` statements of a policy and the needs they grant. */
export interface RuntimeStatements {
  statements: PolicyStatement[];
  needs: GrantedNeed[];
  warnings: PolicyWarning[];
}

/**
 * The statements that grant `runtime`'s needs and the `named` dependent needs (with their
 * conditions) that `observed` does not already grant, with the notes as warnings (code
 * `runtime`, `dependent`). The named ones are granted even with `--runtime none`: an input named
 * their role or key.
 */
export function runtimeStatements(
  runtime: RuntimeNeeds | undefined,
  observed: readonly { action: string; resource: string }[],
  options: PolicyOptions,
  named: readonly NamedDependent[] = [],
): RuntimeStatements {
  const byKey = new Map<string, GrantedNeed>();
  for (const n of [...(runtime?.needs ?? []), ...named.map((d) => d.need)]) {
    const resource = generalises(options) ? generaliseArn(n.resource, options) : n.resource;
    const covered = observed.some(
      (g) => actionMatches(g.action, n.action) && globMatch(g.resource, resource),
    );
    const key = `${n.action}\u0000${resource}`;
    if (!covered && !byKey.has(key)) byKey.set(key, { ...n, resource, needed: n.resource });
  }
  const needs = [...byKey.values()];
  const statements = buildStatements(needs, RUNTIME_SID);
  const granted = named.map((d): PolicyWarning => ({
    code: 'dependent',
    message: `${d.need.action} on ${d.need.resource} granted with the condition ${d.need.condition!.variable} = ${d.need.condition!.values.join(' or ')}: ${d.need.why} (${d.need.source})`,
  }));
  if (!runtime) return { statements, needs, warnings: granted };
  // What the observed calls need AWS to do with this role (PassRole, KMS): said, not granted,
  // unless an input named the role or key.
  const dependent = dependentNeeds(
    observed.map((g) => g.action),
    runtime.scope ?? { partition: 'aws', region: '*', account: '*' },
    {
      passRole: new Set(named.filter((d) => d.need.rule === 'pass-role').flatMap((d) => d.calls)),
      kms: new Set(named.filter((d) => d.need.rule === 'kms-via-service').flatMap((d) => d.calls)),
    },
  );
  return {
    statements,
    needs,
    warnings: [
      ...granted,
      ...runtime.notes.map((n): PolicyWarning => ({
        code: 'runtime',
        message: `${n.message} (${n.source})`,
      })),
      ...dependent.notes.map((n): PolicyWarning => ({
        code: 'dependent',
        message: `${n.message} (${n.source})`,
      })),
    ],
  };
}

/** The evidence of one action of a `Runtime` statement: why it is there and where the fact comes from. */
export function runtimeEvidence(
  st: PolicyStatement,
  action: string,
  needs: readonly GrantedNeed[],
): ActionEvidence {
  const mine = needs.filter((n) => n.action === action && st.Resource.includes(n.resource));
  // Seen in CloudTrail: the calls the service made with the role for this need.
  const seen = mine.flatMap((n) => (n.seen ? [n.seen] : []));
  const first = seen.reduce((m, x) => Math.min(m, x.first), Infinity);
  const last = seen.reduce((m, x) => Math.max(m, x.last), -Infinity);
  return {
    action,
    origin: mine[0]?.origin ?? 'runtime',
    calls: seen.reduce((a, x) => a + x.calls, 0),
    denied: 0,
    firstSeen: seen.length > 0 ? isoTime(first) : null,
    lastSeen: seen.length > 0 ? isoTime(last) : null,
    sampleTraceIds: [...new Set(seen.flatMap((x) => x.samples))].sort().slice(0, 3),
    ...(seen.length > 0 ? { sources: ['cloudtrail' as const] } : {}),
    resourcesObserved: 0,
    observed: [],
    runtime: mine.map((n) => ({ resource: n.resource, rule: n.rule, why: n.why, source: n.source })),
  };
}
