/**
 * Packing grants into IAM policy statements: grouping, deterministic order and Sids, the size
 * IAM counts, and splitting a policy that is too large into parts that grant the same.
 */
import { createHash } from 'node:crypto';
import { compareText } from '../shared/order.js';
import type { NeedCondition } from '../runtime/types.js';
import type { PolicyCondition, PolicyDocument, PolicyStatement } from './types.js';

/** IAM's limits on policy size, in characters without whitespace. */
export const MANAGED_POLICY_LIMIT = 6144;
export const INLINE_POLICIES_LIMIT = 10240;

/**
 * Statements that grant exactly the (action, resource) pairs: either one statement per set of
 * resources sharing an action set, or one per set of actions sharing a resource set, whichever
 * is smaller. Neither widens any grant. Grants with different conditions are never in one
 * statement: each condition (and no condition) is packed on its own.
 */
export function buildStatements(
  grants: { action: string; resource: string; condition?: NeedCondition }[],
  prefix: '' | typeof RUNTIME_SID = '',
): PolicyStatement[] {
  const byCondition = new Map<string, { condition: PolicyCondition | undefined; grants: typeof grants }>();
  for (const g of grants) {
    const condition = g.condition ? policyCondition(g.condition) : undefined;
    const key = conditionKey(condition);
    (byCondition.get(key) ?? byCondition.set(key, { condition, grants: [] }).get(key)!).grants.push(g);
  }
  return sortStatements(
    [...byCondition.values()].flatMap((c) => unconditioned(c.grants, prefix, c.condition)),
  );
}

/** A need's condition as IAM writes it. */
export function policyCondition(c: NeedCondition): PolicyCondition {
  return { [c.test]: { [c.variable]: [...new Set(c.values)].sort(compareText) } };
}

/** A deterministic text of a condition (empty for none): what statements are grouped and hashed by. */
function conditionKey(c: PolicyCondition | undefined): string {
  if (!c) return '';
  return Object.keys(c)
    .sort(compareText)
    .map((op) =>
      Object.keys(c[op]!)
        .sort(compareText)
        .map((k) => `${op}\u0001${k}\u0001${c[op]![k]!.join('\u0002')}`)
        .join('\u0003'),
    )
    .join('\u0004');
}

function unconditioned(
  grants: { action: string; resource: string }[],
  prefix: string,
  condition: PolicyCondition | undefined,
): PolicyStatement[] {
  const byResource = new Map<string, Set<string>>();
  const byAction = new Map<string, Set<string>>();
  for (const g of grants) {
    (byResource.get(g.resource) ?? byResource.set(g.resource, new Set()).get(g.resource)!).add(g.action);
    (byAction.get(g.action) ?? byAction.set(g.action, new Set()).get(g.action)!).add(g.resource);
  }
  const group = (m: Map<string, Set<string>>): Map<string, { keys: string[]; values: string[] }> => {
    const out = new Map<string, { keys: string[]; values: string[] }>();
    for (const [k, set] of m) {
      const values = [...set].sort();
      const sig = values.join('\u0000');
      const entry = out.get(sig) ?? { keys: [], values };
      entry.keys.push(k);
      out.set(sig, entry);
    }
    return out;
  };
  const a: PolicyStatement[] = [...group(byResource).values()].map((e) =>
    statement(e.values, e.keys, prefix, condition),
  );
  const b: PolicyStatement[] = [...group(byAction).values()].map((e) =>
    statement(e.keys, e.values, prefix, condition),
  );
  return compactSize({ Version: '2012-10-17', Statement: b }) <
    compactSize({ Version: '2012-10-17', Statement: a })
    ? b
    : a;
}

function statement(
  actions: string[],
  resources: string[],
  prefix: string,
  condition: PolicyCondition | undefined,
): PolicyStatement {
  const Action = [...actions].sort(
    (x, y) => compareText(x.toLowerCase(), y.toLowerCase()) || compareText(x, y),
  );
  const Resource = [...resources].sort(compareText);
  return {
    Sid: sidFor(Action, Resource, prefix, condition),
    Effect: 'Allow',
    Action,
    Resource,
    ...(condition ? { Condition: condition } : {}),
  };
}

function sortStatements(st: PolicyStatement[]): PolicyStatement[] {
  return st.sort(
    (x, y) =>
      compareText(x.Action[0] ?? '', y.Action[0] ?? '') ||
      compareText(x.Resource[0] ?? '', y.Resource[0] ?? '') ||
      compareText(x.Sid, y.Sid),
  );
}

/** The Sid prefix of the statements that grant run-time needs (src/runtime), never observed ones. */
export const RUNTIME_SID = 'Runtime';

/** True when a statement grants run-time needs. */
export function isRuntimeStatement(st: Pick<PolicyStatement, 'Sid'>): boolean {
  return st.Sid.startsWith(RUNTIME_SID);
}

/** A stable Sid from the statement's content (its condition included): prefix + service name + short hash. */
function sidFor(
  actions: string[],
  resources: string[],
  prefix: string,
  condition: PolicyCondition | undefined,
): string {
  const services = [...new Set(actions.map((a) => a.split(':')[0] ?? ''))].sort();
  const name =
    services
      .map((s) => s.replace(/[^A-Za-z0-9]/g, '').replace(/^./, (c) => c.toUpperCase()))
      .join('')
      .slice(0, 40) || 'Allow';
  const hash = createHash('sha256')
    .update(actions.join(','))
    .update('\u0000')
    .update(resources.join(','))
    // Unconditioned statements keep the Sids they always had.
    .update(condition ? `\u0000${conditionKey(condition)}` : '')
    .digest('hex')
    .slice(0, 8)
    .toUpperCase();
  return `${prefix}${name}${hash}`;
}

/** Size of a policy as IAM counts it: the JSON without whitespace. */
export function compactSize(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}

/** Splits statements into documents of at most `max` characters (a statement too big alone is split by resources). */
export function packDocuments(statements: PolicyStatement[], max: number | undefined): PolicyDocument[] {
  const wrap = (s: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: s });
  if (!max || compactSize(wrap(statements)) <= max) return [wrap(statements)];
  const pieces: PolicyStatement[] = [];
  for (const st of statements) {
    const prefix = isRuntimeStatement(st) ? RUNTIME_SID : '';
    if (compactSize(wrap([st])) <= max || st.Resource.length <= 1) {
      pieces.push(st);
      continue;
    }
    let chunk: string[] = [];
    for (const r of st.Resource) {
      const next = [...chunk, r];
      if (chunk.length > 0 && compactSize(wrap([{ ...st, Resource: next }])) > max) {
        pieces.push({ ...st, Sid: sidFor(st.Action, chunk, prefix, st.Condition), Resource: chunk });
        chunk = [r];
      } else {
        chunk = next;
      }
    }
    if (chunk.length > 0)
      pieces.push({ ...st, Sid: sidFor(st.Action, chunk, prefix, st.Condition), Resource: chunk });
  }
  const docs: PolicyStatement[][] = [];
  let current: PolicyStatement[] = [];
  for (const p of pieces) {
    if (current.length > 0 && compactSize(wrap([...current, p])) > max) {
      docs.push(current);
      current = [];
    }
    current.push(p);
  }
  if (current.length > 0) docs.push(current);
  return docs.map(wrap);
}
