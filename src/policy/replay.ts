/**
 * Every policy checks itself before it is printed: each permission it was built from (every
 * observed resource of every grant, as recorded, and every run-time need) is replayed through the
 * project's evaluator (src/iam/evaluate.ts) against the final documents, after scoping,
 * generalising, statement packing and size splitting. A policy that does not allow its own
 * evidence is a bug of this tool, never of the data: the command fails.
 */
import { actionApplies, evaluate, parsePolicy, type Policy } from '../iam/evaluate.js';
import { generaliseArn, generalises, type OwnScope } from './grants.js';
import type { PolicyDocument, PolicyOptions } from './types.js';

/** What {@link replayEvidence} checked. */
export interface Replay {
  permissions: number;
  allowed: number;
}

/** The template placeholders, replaced by plain tokens so that the evaluator reads them as text. */
const PLACEHOLDERS: readonly [string, string][] = [
  ['${AWS::AccountId}', 'PLACEHOLDER-ACCOUNT'],
  ['${AWS::Region}', 'PLACEHOLDER-REGION'],
];

function literal(s: string): string {
  if (!s.includes('${')) return s;
  let out = s;
  for (const [p, t] of PLACEHOLDERS) out = out.split(p).join(t);
  return out;
}

/**
 * Replays `observed` (resources as recorded, generalised as the options say) and `needs`
 * (resources as granted) against `documents`. Throws an internal error naming the first
 * permission the documents do not allow.
 */
export function replayEvidence(
  documents: readonly PolicyDocument[],
  observed: Iterable<{ action: string; resource: string }>,
  needs: Iterable<{ action: string; resource: string }>,
  options: Pick<PolicyOptions, 'accountWildcard' | 'regionWildcard' | 'placeholders'>,
  /** The workload's own account and region: placeholders stand for these only. */
  own: OwnScope = { account: null, region: null },
): Replay {
  const policies = documents
    .filter((d) => d.Statement.length > 0)
    .map((d, i) => parsePolicy(literal(JSON.stringify(d)), `part ${i + 1}`));
  const general = generalises(options);
  let permissions = 0;
  // The statements whose action part covers each action, found once per action: a statement
  // that does not cover it decides nothing, and matching every action pattern again for each
  // of up to 100 resources of a grant was a quarter of the replay.
  const byAction = new Map<string, Policy[]>();
  const forAction = (action: string): Policy[] => {
    let hit = byAction.get(action);
    if (!hit) {
      hit = policies.map((p) => ({ ...p, statements: p.statements.filter((s) => actionApplies(s, action)) }));
      byAction.set(action, hit);
    }
    return hit;
  };
  const check = (action: string, resource: string): void => {
    permissions++;
    const r = literal(resource);
    const decision = evaluate(forAction(action), action, r);
    if (decision !== 'allowed')
      throw new Error(
        `the generated policy does not allow its own evidence, ${action} on ${resource} (${decision}); this is a bug of xray-lp: please report it with the command that printed this`,
      );
  };
  for (const o of observed) check(o.action, general ? generaliseArn(o.resource, options, own) : o.resource);
  for (const n of needs) check(n.action, n.resource);
  return { permissions, allowed: permissions };
}
