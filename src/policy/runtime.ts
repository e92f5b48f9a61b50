/**
 * Run-time needs in a policy: the needs of the subject's workloads (src/runtime) become their own
 * `Runtime` statements, generalised as the observed grants are, with their evidence (why, and the
 * source of the fact). A need an observed grant already covers is not granted twice.
 */
import { actionMatches, globMatch } from '../iam/glob.js';
import {
  dependentNeeds,
  runtimeNeeds,
  unionNeeds,
  type RuntimeNeed,
  type RuntimeNeeds,
  type WorkloadFacts,
} from '../runtime/needs.js';
import { factsOf, attrsOf } from '../runtime/facts.js';
import { generaliseArn, generalises } from './grants.js';
import { buildStatements, RUNTIME_SID } from './statements.js';

export { factsOf, attrsOf };
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
}

/** The `Runtime` statements of a policy and the needs they grant. */
export interface RuntimeStatements {
  statements: PolicyStatement[];
  needs: GrantedNeed[];
  warnings: PolicyWarning[];
}

/**
 * The statements that grant `runtime`'s needs that `observed` does not already grant, with the
 * notes as warnings (code `runtime`).
 */
export function runtimeStatements(
  runtime: RuntimeNeeds | undefined,
  observed: readonly { action: string; resource: string }[],
  options: PolicyOptions,
): RuntimeStatements {
  if (!runtime) return { statements: [], needs: [], warnings: [] };
  const byKey = new Map<string, GrantedNeed>();
  for (const n of runtime.needs) {
    const resource = generalises(options) ? generaliseArn(n.resource, options) : n.resource;
    const covered = observed.some(
      (g) => actionMatches(g.action, n.action) && globMatch(g.resource, resource),
    );
    const key = `${n.action}\u0000${resource}`;
    if (!covered && !byKey.has(key)) byKey.set(key, { ...n, resource, needed: n.resource });
  }
  const needs = [...byKey.values()];
  // What the observed calls need AWS to do with this role (PassRole, KMS): said, not granted.
  const dependent = dependentNeeds(
    observed.map((g) => g.action),
    runtime.scope ?? { partition: 'aws', region: '*', account: '*' },
  );
  return {
    statements: buildStatements(needs, RUNTIME_SID),
    needs,
    warnings: [
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
  return {
    action,
    origin: mine[0]?.origin ?? 'runtime',
    calls: 0,
    denied: 0,
    firstSeen: null,
    lastSeen: null,
    sampleTraceIds: [],
    resourcesObserved: 0,
    observed: [],
    runtime: mine.map((n) => ({ resource: n.resource, rule: n.rule, why: n.why, source: n.source })),
  };
}
