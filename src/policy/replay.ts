/**
 * Every policy checks itself before it is printed: each permission it was built from (every
 * observed resource of every grant, as recorded, and every run-time need) is replayed through the
 * project's evaluator (src/iam/evaluate.ts) against the final documents, after scoping,
 * generalising, statement packing and size splitting. A need granted with a condition is replayed
 * with the request context it names (each of its values must be allowed) and with a value it
 * does not name (which must not be: a statement that lost its condition is caught). A policy that
 * does not allow its own evidence is a bug of this tool, never of the data: the command fails.
 */
import { actionApplies, evaluate, parsePolicy, type Policy, type RequestContext } from '../iam/evaluate.js';
import { generaliseArn, generalises, type OwnScope } from './to-grant.js';
import type { NeedCondition } from '../runtime/types.js';
import { FORMAT_LABEL, POLICY_FORMATS, renderAll, type PolicyFormat } from './formats.js';
import { readBack } from './reread.js';
import type { PolicyDocument, PolicyOptions, WorkloadPolicy } from './types.js';

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

/** A condition value no need names: a statement that allows it has lost its condition. */
const OTHER_VALUE = 'replay.invalid';

function describe(context: RequestContext): string {
  const e = Object.entries(context);
  return e.length === 0 ? '' : ` with ${e.map(([k, v]) => `${k} = ${v}`).join(', ')}`;
}

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
  needs: Iterable<{ action: string; resource: string; condition?: NeedCondition }>,
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
  const bug = 'this is a bug of xray-lp: please report it with the command that printed this';
  const check = (action: string, resource: string, context: RequestContext = {}): void => {
    const decision = evaluate(forAction(action), action, literal(resource), context);
    if (decision !== 'allowed')
      throw new Error(
        `the generated policy does not allow its own evidence, ${action} on ${resource}${describe(context)} (${decision}); ${bug}`,
      );
  };
  for (const o of observed) {
    permissions++;
    check(o.action, general ? generaliseArn(o.resource, options, own) : o.resource);
  }
  for (const n of needs) {
    permissions++;
    if (!n.condition) {
      check(n.action, n.resource);
      continue;
    }
    for (const value of n.condition.values) check(n.action, n.resource, { [n.condition.variable]: value });
    const other = { [n.condition.variable]: OTHER_VALUE };
    if (evaluate(forAction(n.action), n.action, literal(n.resource), other) === 'allowed')
      throw new Error(
        `the generated policy grants ${n.action} on ${n.resource} without its condition ${n.condition.variable}; ${bug}`,
      );
  }
  return { permissions, allowed: permissions };
}

/** Renders one policy as the file `format` writes for it (a test seam: a broken renderer is caught). */
export type Renderer = (p: WorkloadPolicy, format: PolicyFormat) => string;

const renderOne: Renderer = (p, format) => renderAll([p], format);

/**
 * The replay after every output format: each format's text of `policy` is read back
 * (reread.ts), its placeholders read as the replay reads them, and the same evidence replayed
 * against what was read. A format that loses a permission or a condition throws an internal
 * error naming the format and the permission.
 *
 * `replayed` holds {@link documentsKey} of documents this same evidence was already replayed
 * against (buildOne passes its own): a format read back to exactly those documents is not
 * replayed again, since the replay is a pure function of the documents' JSON text. Every
 * format's text is still rendered and read back; a format whose reading differs is replayed.
 */
export function replayFormats(
  policy: WorkloadPolicy,
  observed: readonly { action: string; resource: string }[],
  needs: readonly { action: string; resource: string; condition?: NeedCondition }[],
  options: Pick<PolicyOptions, 'accountWildcard' | 'regionWildcard' | 'placeholders' | 'replayFormats'>,
  own: OwnScope = { account: null, region: null },
  render: Renderer = renderOne,
  replayed: ReadonlySet<string> = new Set(),
): PolicyFormat[] {
  const formats = [...(options.replayFormats ?? POLICY_FORMATS)];
  if (policy.documents.every((d) => d.Statement.length === 0)) return formats;
  const done = new Set(replayed);
  for (const format of formats) {
    try {
      const read = readBack(render(policy, format), format);
      const key = documentsKey(read);
      if (done.has(key)) continue;
      replayEvidence(read, observed, needs, options, own);
      done.add(key);
    } catch (err) {
      throw new Error(`${FORMAT_LABEL[format]} output: ${(err as Error).message}`);
    }
  }
  return formats;
}

/**
 * What the replay of a set of documents depends on: their JSON text. Two sets with one key give
 * the same replay, so {@link replayFormats} replays each key once.
 */
export function documentsKey(documents: readonly PolicyDocument[]): string {
  return JSON.stringify(documents);
}
