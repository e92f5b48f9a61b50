/**
 * Identity-policy evaluation, offline and pure: parses IAM policy documents and decides whether
 * they allow one (action, resource) request, with real IAM semantics for Allow/Deny, Action/
 * NotAction, Resource/NotResource, `*` and `?` wildcards, and explicit deny winning.
 *
 * Conditions are evaluated only against a request context a caller supplies ({@link RequestContext}:
 * the policy replay passes `kms:ViaService` and `iam:PassedToService`), and only the operators
 * `StringEquals` and `StringLike` on keys the context holds. Any other condition, or one without
 * a context, or a resource that only matches through a policy variable (`${aws:username}`), makes
 * the answer `conditional` instead of being silently treated as a plain allow (or deny).
 *
 * Wildcard expansion (`dynamodb:*` → concrete actions) takes an {@link ActionCatalogue} so that
 * this module reads nothing itself; `src/compare/compare.ts` passes one backed by iam-data.
 */
import { UserInputError } from '../shared/errors.js';
import { isObject } from '../shared/values.js';
import { arnParts } from './arn.js';
import type { ActionCatalogue, ActionInfo } from './catalogue.js';
import {
  actionMatches,
  globMatch,
  globsOverlap,
  hasVariable,
  isPlaceholder,
  matchTokens,
  placeholdersAsStars,
  tokenize,
  type Token,
} from './glob.js';

/** The answer for one request. */
export type Decision = 'allowed' | 'denied-explicit' | 'not-allowed' | 'conditional';

/** Statement effect, spelled as IAM requires (case-sensitive). */
export type Effect = 'Allow' | 'Deny';

/** One parsed statement. Lists are never empty. */
export interface Statement {
  /** Policy name (file, inline policy or managed policy ARN) this statement came from. */
  readonly policy: string;
  readonly sid: string | null;
  /** 0-based position in the policy's Statement list. */
  readonly index: number;
  readonly effect: Effect;
  /** `Action` lists what the statement covers; `NotAction` everything except it. */
  readonly actionMode: 'Action' | 'NotAction';
  readonly actions: readonly string[];
  readonly resourceMode: 'Resource' | 'NotResource';
  readonly resources: readonly string[];
  /** Condition keys (`aws:SourceIp`…); non-empty makes the statement conditional. */
  readonly conditionKeys: readonly string[];
  /** The conditions, one per operator and key (all must hold; a key holds when any value matches). */
  readonly conditions: readonly ConditionTest[];
  /** True when a resource uses a policy variable (only with Version 2012-10-17). */
  readonly usesVariables: boolean;
  /** Version 2012-10-17: `${…}` is a variable or an escape (`${*}`); otherwise literal text. */
  readonly variables: boolean;
  /** 1-based line of the statement in its file, where the format gives one (YAML, HCL). */
  readonly line?: number;
}

/**
 * Where a policy is written, so that a finding says where to make the change: the file, and the
 * template resource (CloudFormation logical id, Terraform address) that holds or attaches it.
 */
export interface Origin {
  readonly file: string;
  readonly resource?: string;
  /** 1-based line of the resource (or policy) in the file, where the format gives one. */
  readonly line?: number;
}

/** One operator on one key of a `Condition` block. */
export interface ConditionTest {
  readonly operator: string;
  readonly key: string;
  readonly values: readonly string[];
}

/**
 * The request context of a replayed call: condition key → its one value. Keys compare
 * case-insensitively, as IAM's do.
 */
export type RequestContext = Readonly<Record<string, string>>;

/** A parsed policy document. */
export interface Policy {
  readonly name: string;
  /** `Version` as written; null when absent (IAM then treats `${…}` literally). */
  readonly version: string | null;
  readonly statements: readonly Statement[];
  /** Where it is written, when read from infrastructure as code (src/granted). */
  readonly origin?: Origin;
}

/** Where a statement lives, for reports. */
export interface StatementRef {
  policy: string;
  sid: string | null;
  index: number;
}

/** The decision with the statements that produced it. */
export interface Explanation {
  decision: Decision;
  /** Unconditional allows that match. */
  allowedBy: StatementRef[];
  /** Unconditional denies that match. */
  deniedBy: StatementRef[];
  /** Allow statements that match only if a condition or policy variable holds. */
  conditionalAllow: StatementRef[];
  /** Deny statements that match only if a condition or policy variable holds. */
  conditionalDeny: StatementRef[];
}

const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
  'Principal',
  'NotPrincipal',
]);

/**
 * Parses and validates an identity policy document (object, or its JSON text). Throws a
 * {@link UserInputError} naming `where` and the statement for anything IAM would reject, so that
 * a wrong file (a bucket policy, a trust policy) is reported instead of half-evaluated.
 */
export function parsePolicy(doc: unknown, name: string, where = name): Policy {
  const fail = (what: string): never => {
    throw new UserInputError(`${where}: ${what}`);
  };
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc) as unknown;
    } catch (err) {
      fail(`policy ${name} is not JSON (${(err as Error).message})`);
    }
  }
  if (!isObject(doc)) return fail(`policy ${name} is not a JSON object with a Statement`);
  let version: string | null = null;
  if (doc.Version !== undefined) {
    if (doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17')
      fail(`policy ${name}: Version ${JSON.stringify(doc.Version)} is not 2012-10-17 or 2008-10-17`);
    version = doc.Version as string;
  }
  const raw = doc.Statement;
  if (raw === undefined) return fail(`policy ${name} has no Statement (expected an IAM policy document)`);
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) return fail(`policy ${name} has an empty Statement list`);
  const statements = list.map((s, index): Statement => {
    const at = `policy ${name} statement ${index + 1}${isObject(s) && typeof s.Sid === 'string' ? ` (${s.Sid})` : ''}`;
    if (!isObject(s)) return fail(`${at} is not an object`);
    for (const k of Object.keys(s))
      if (!STATEMENT_KEYS.has(k)) fail(`${at}: unknown element ${JSON.stringify(k)}`);
    if ('Principal' in s || 'NotPrincipal' in s)
      fail(
        `${at} has a Principal: that is a resource-based or trust policy. --granted takes identity policies (attached to the role).`,
      );
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
      fail(`${at}: Effect must be "Allow" or "Deny", not ${JSON.stringify(s.Effect)}`);
    const actionMode = pickOne(s, 'Action', 'NotAction', at, fail);
    const resourceMode = pickOne(s, 'Resource', 'NotResource', at, fail);
    const actions = stringList(s[actionMode], `${at}: ${actionMode}`, fail);
    for (const a of actions)
      // A placeholder (an action the template leaves to a parameter) is kept by name: it matches
      // nothing and is listed as granted, never used, rather than refusing the whole file.
      if (a !== '*' && !isPlaceholder(a) && !/^[A-Za-z0-9*?-]+:[A-Za-z0-9*?_-]*$/.test(a))
        fail(`${at}: ${JSON.stringify(a)} is not an action; write service:Action (s3:GetObject) or *`);
    const resources = stringList(s[resourceMode], `${at}: ${resourceMode}`, fail);
    let conditionKeys: string[] = [];
    const conditions: ConditionTest[] = [];
    if (s.Condition !== undefined) {
      if (!isObject(s.Condition)) fail(`${at}: Condition must be an object`);
      const c = s.Condition as Record<string, unknown>;
      for (const [operator, keys] of Object.entries(c))
        if (isObject(keys))
          for (const [key, v] of Object.entries(keys)) {
            const values = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
            conditions.push({ operator, key, values });
          }
      conditionKeys = [
        ...new Set(Object.values(c).flatMap((v) => (isObject(v) ? Object.keys(v) : []))),
      ].sort();
      // `"Condition": {}` constrains nothing, but a reviewer should still see it: keep it conditional.
      if (conditionKeys.length === 0) conditionKeys = ['(empty Condition)'];
    }
    const usesVariables = version === '2012-10-17' && resources.some((r) => hasVariable(r));
    return {
      policy: name,
      sid: typeof s.Sid === 'string' ? s.Sid : null,
      index,
      effect: s.Effect as Effect,
      actionMode,
      actions,
      resourceMode,
      resources,
      conditionKeys,
      conditions,
      usesVariables,
      variables: version === '2012-10-17',
    };
  });
  return { name, version, statements };
}

function pickOne<A extends string, B extends string>(
  s: Record<string, unknown>,
  a: A,
  b: B,
  at: string,
  fail: (m: string) => never,
): A | B {
  const hasA = s[a] !== undefined;
  const hasB = s[b] !== undefined;
  if (hasA === hasB) return fail(`${at}: needs exactly one of ${a} or ${b}`);
  return hasA ? a : b;
}

function stringList(v: unknown, at: string, fail: (m: string) => never): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string' && x !== ''))
    return fail(`${at} must be a non-empty string or array of non-empty strings`);
  return list as string[];
}

/** Three-valued match: `maybe` when only a policy variable could make it match. */
export type Match = 'yes' | 'maybe' | 'no';

/**
 * Matches a policy resource pattern against a request resource. ARNs match segment by segment
 * (partition, service, region, account case-insensitively; the resource part case-sensitively,
 * where `*` crosses `/` and `:`), and an ARN pattern with fewer than six segments is padded with
 * `*` segments, as IAM does for identity policies. Anything else matches as one glob.
 */
export function resourceMatches(pattern: string, resource: string, variables = true): Match {
  return resourceMatchesParts(pattern, resource, arnParts(resource), variables);
}

/** The six parts of a requested resource, as {@link arnParts} gives them (undefined: not an ARN). */
type ResourceParts = ReturnType<typeof arnParts>;

/** {@link resourceMatches} with the resource's parts parsed once by the caller (a statement tries many patterns). */
function resourceMatchesParts(
  pattern: string,
  resource: string,
  req: ResourceParts,
  variables: boolean,
): Match {
  if (pattern === '*') return 'yes';
  const tokens = tokenize(pattern, variables);
  const strict = matchResource(tokens, resource, req, false);
  if (strict) return 'yes';
  if (!tokens.some((t) => t.t === 'var')) return 'no';
  return matchResource(tokens, resource, req, true) ? 'maybe' : 'no';
}

/**
 * An ARN-shaped pattern's tokens cut into its six segments (the last keeping its colons), or null
 * for any other pattern; once per token list (tokenize caches the lists): the replay of a policy
 * tries each of its patterns against every permission it was built from.
 */
const segmentsOf = new WeakMap<readonly Token[], Token[][] | null>();

function arnSegments(tokens: Token[]): Token[][] | null {
  const hit = segmentsOf.get(tokens);
  if (hit !== undefined) return hit;
  const isArnPattern =
    tokens.length > 4 && tokens.slice(0, 4).every((t, i) => t.t === 'lit' && t.c.toLowerCase() === 'arn:'[i]);
  let segs: Token[][] | null = null;
  if (isArnPattern) {
    segs = [[]];
    for (const t of tokens) {
      const last = segs[segs.length - 1] as Token[];
      if (segs.length < 6 && t.t === 'lit' && t.c === ':') segs.push([]);
      else last.push(t);
    }
    while (segs.length < 6) segs.push([{ t: 'star' }]);
  }
  segmentsOf.set(tokens, segs);
  return segs;
}

function matchResource(tokens: Token[], resource: string, req: ResourceParts, loose: boolean): boolean {
  const segs = arnSegments(tokens);
  if (!req || !segs) return matchTokens(tokens, resource, false, loose);
  return segs.every((seg, i) => matchTokens(seg, req[i] as string, i < 5, loose));
}

/* ------------------------------------------------------------------ evaluation */

/** Whether a statement's `Action` (or `NotAction`) covers `action`, whatever the resource. */
export function actionApplies(s: Statement, action: string): boolean {
  return s.actions.some((p) => actionMatches(p, action)) === (s.actionMode === 'Action');
}

/**
 * Whether a statement's conditions hold in `context`: `yes`/`no` when every condition is a
 * `StringEquals` or `StringLike` on a key the context holds, `maybe` otherwise.
 */
function conditionsHold(s: Statement, context: RequestContext | undefined): Match {
  if (s.conditionKeys.length === 0) return 'yes';
  if (!context || s.conditions.length === 0) return 'maybe';
  const lower = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  let all = true;
  for (const c of s.conditions) {
    const value = lower.get(c.key.toLowerCase());
    if (value === undefined || (c.operator !== 'StringEquals' && c.operator !== 'StringLike')) return 'maybe';
    const hit =
      c.operator === 'StringEquals' ? c.values.includes(value) : c.values.some((p) => globMatch(p, value));
    if (!hit) all = false;
  }
  return all ? 'yes' : 'no';
}

/** Whether one statement applies to a request (in `context`, when given: see {@link RequestContext}). */
export function statementApplies(
  s: Statement,
  action: string,
  resource: string,
  context?: RequestContext,
): Match {
  if (!actionApplies(s, action)) return 'no';
  const variables = s.variables;
  // A pattern that matches decides in either mode: the patterns after it need not be tried.
  const req = arnParts(resource);
  let yes = false;
  let maybe = false;
  for (const p of s.resources) {
    const hit = resourceMatchesParts(p, resource, req, variables);
    if (hit === 'yes') {
      yes = true;
      break;
    }
    if (hit === 'maybe') maybe = true;
  }
  let r: Match;
  if (s.resourceMode === 'Resource') r = yes ? 'yes' : maybe ? 'maybe' : 'no';
  else r = yes ? 'no' : maybe ? 'maybe' : 'yes';
  if (r === 'no' || s.conditionKeys.length === 0) return r;
  const c = conditionsHold(s, context);
  return c === 'no' ? 'no' : c === 'yes' ? r : 'maybe';
}

const ref = (s: Statement): StatementRef => ({ policy: s.policy, sid: s.sid, index: s.index });

/**
 * Decides a request against identity policies, with the statements that decided it. Explicit
 * deny wins; an allow that a conditional deny might override, or that holds only under a
 * condition, is `conditional`.
 */
export function explain(
  policies: readonly Policy[],
  action: string,
  resource: string,
  context?: RequestContext,
): Explanation {
  const e: Explanation = {
    decision: 'not-allowed',
    allowedBy: [],
    deniedBy: [],
    conditionalAllow: [],
    conditionalDeny: [],
  };
  for (const p of policies)
    for (const s of p.statements) {
      const m = statementApplies(s, action, resource, context);
      if (m === 'no') continue;
      const list =
        s.effect === 'Deny'
          ? m === 'yes'
            ? e.deniedBy
            : e.conditionalDeny
          : m === 'yes'
            ? e.allowedBy
            : e.conditionalAllow;
      list.push(ref(s));
    }
  if (e.deniedBy.length > 0) e.decision = 'denied-explicit';
  else if (e.allowedBy.length > 0) e.decision = e.conditionalDeny.length > 0 ? 'conditional' : 'allowed';
  else if (e.conditionalAllow.length > 0) e.decision = 'conditional';
  return e;
}

/** {@link explain}'s decision only. */
export function evaluate(
  policies: readonly Policy[],
  action: string,
  resource: string,
  context?: RequestContext,
): Decision {
  return explain(policies, action, resource, context).decision;
}

/* ------------------------------------------------------------------ wildcard expansion */

/**
 * The concrete actions an action pattern names (canonical spelling, sorted). A pattern without
 * wildcards that the reference does not know is returned as written, so nothing disappears.
 */
export function expandActionPattern(pattern: string, catalogue: ActionCatalogue): string[] {
  if (!/[*?]/.test(pattern)) {
    const colon = pattern.indexOf(':');
    const service = pattern.slice(0, colon).toLowerCase();
    const hit = catalogue.actionsOf(service).find((a) => a.action.toLowerCase() === pattern.toLowerCase());
    return [hit?.action ?? pattern];
  }
  const colon = pattern.indexOf(':');
  const servicePattern = colon < 0 ? '*' : pattern.slice(0, colon);
  const out: string[] = [];
  for (const service of catalogue.services()) {
    if (!globMatch(servicePattern, service, true)) continue;
    for (const a of catalogue.actionsOf(service)) if (actionMatches(pattern, a.action)) out.push(a.action);
  }
  return out.sort();
}

/** Every action in the reference (for `NotAction`). */
export function allActions(catalogue: ActionCatalogue): string[] {
  return catalogue
    .services()
    .flatMap((s) => catalogue.actionsOf(s).map((a) => a.action))
    .sort();
}

/** An ARN template from the reference as a glob: every `${…}` placeholder becomes `*`. */
export function templateGlob(arnTemplate: string): string {
  return arnTemplate.replace(/\$\{[^}]*\}/g, '*');
}

/**
 * Whether granting `info` on a statement's resources grants anything: some resource type of the
 * action can lie within them. An action without resource types is authorised on `*` only, so only
 * a pattern matching `*` itself grants it. `NotResource` grants unless it excludes every type.
 */
export function actionFitsResources(
  info: ActionInfo | undefined,
  mode: 'Resource' | 'NotResource',
  patterns: readonly string[],
): boolean {
  // Unknown to the reference: keep it rather than silently dropping a grant.
  if (!info) return true;
  const targets =
    info.resourceTypes.length === 0 ? ['*'] : info.resourceTypes.map((r) => templateGlob(r.arn));
  if (mode === 'Resource')
    return patterns.some((p) => {
      // A placeholder (`${Ref:MyTable}`) may stand for any resource: the grant counts as granted.
      const q = placeholdersAsStars(p);
      return q === '*' ? true : targets.some((t) => (t === '*' ? globMatch(q, '*') : globsOverlap(q, t)));
    });
  // NotResource: excluded only when a pattern covers the whole type (template read literally).
  return targets.some((t) => !patterns.some((p) => p === '*' || globMatch(p, t)));
}
