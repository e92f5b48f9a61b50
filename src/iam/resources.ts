/**
 * Turning identifiers into ARNs, using the ARN templates of the Service Authorization Reference
 * (`arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}`) rather than hand-written
 * patterns, so the resource type and the ARN shape always agree with the reference.
 */
import { isAccountId, isRegion, parseArn, partitionOf } from './arn.js';
import { actionInfo, resourceTypeArn } from './catalogue.js';
import type { ActionResourceType } from './catalogue.js';
import type { Candidate, IamCall, IamContext, Scope } from './types.js';

const VAR_RE = /\$\{([^}]+)\}/g;

/** Template variables that stand for the region or the account, whatever the service calls them. */
const REGION_VARS = new Set(['Region']);
const ACCOUNT_VARS = new Set(['Account', 'AccountId']);

/**
 * Account and region for ARNs of one call: the call's own values, else the workload context,
 * else `*`. The partition follows the region (`cn-north-1` → `aws-cn`).
 */
export function scopeOf(call: IamCall, ctx: IamContext | undefined): Scope {
  const region = pick(isRegion, call.region, ctx?.region);
  const account = pick(isAccountId, call.account, ctx?.account);
  return {
    partition: partitionOf(region),
    region: region ?? '*',
    account: account ?? '*',
    regionKnown: region !== undefined,
    accountKnown: account !== undefined,
  };
}

function pick(valid: (s: string) => boolean, ...values: (string | null | undefined)[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && valid(v)) return v;
  return undefined;
}

/** The scope with region/account replaced by values an identifier carried (queue URL, partial ARN). */
export function withOverrides(scope: Scope, region: string | undefined, account: string | undefined): Scope {
  const r = region !== undefined && isRegion(region) ? region : undefined;
  const a = account !== undefined && isAccountId(account) ? account : undefined;
  if (r === undefined && a === undefined) return scope;
  const nextRegion = r ?? scope.region;
  return {
    partition: r !== undefined ? partitionOf(r) : scope.partition,
    region: nextRegion,
    account: a ?? scope.account,
    regionKnown: r !== undefined || scope.regionKnown,
    accountKnown: a !== undefined || scope.accountKnown,
  };
}

/**
 * Fills a resource type's ARN template. Variables missing from `vars` become `*` and make the
 * candidate `unknown`; account and region come from the scope (a `*` there is not "unknown":
 * the identifier was recorded, only the workload's account/region were not).
 */
export function buildArn(
  service: string,
  type: string,
  vars: Readonly<Record<string, string | undefined>>,
  scope: Scope,
): Candidate | undefined {
  const template = resourceTypeArn(service, type);
  if (template === undefined) return undefined;
  return fillTemplate(template, type, vars, scope);
}

function fillTemplate(
  template: string,
  type: string,
  vars: Readonly<Record<string, string | undefined>>,
  scope: Scope,
): Candidate {
  let unknown = false;
  const arn = template.replace(VAR_RE, (_m, name: string) => {
    if (name === 'Partition') return scope.partition;
    if (REGION_VARS.has(name)) return scope.region;
    if (ACCOUNT_VARS.has(name)) return scope.account;
    const v = vars[name];
    if (v === undefined) {
      unknown = true;
      return '*';
    }
    return v;
  });
  return { type, arn, unknown };
}

/** The wildcard ARN for a resource type in this scope (`arn:aws:dynamodb:eu-west-1:123456789012:table/*`). */
export function wildcardArn(rt: ActionResourceType, scope: Scope): string {
  return fillTemplate(rt.arn, rt.key, {}, scope).arn;
}

interface CompiledTemplate {
  readonly re: RegExp;
  /** Literal characters in the template: more literals = more specific type. */
  readonly literals: number;
}

const compiled = new Map<string, CompiledTemplate>();

function compile(template: string): CompiledTemplate {
  let hit = compiled.get(template);
  if (hit) return hit;
  const parts = template.split(VAR_RE);
  // split() with a capture group alternates literal, variable name, literal…
  let src = '^';
  let literals = 0;
  const varCount = (parts.length - 1) / 2;
  let seen = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (i % 2 === 0) {
      src += part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      literals += part.length;
    } else {
      seen++;
      if (part === 'Partition' || REGION_VARS.has(part) || ACCOUNT_VARS.has(part)) src += '[^:]*';
      // The last name may hold `/` (S3 keys, secret names, SSM paths); an inner name may not,
      // unless the template goes on with `:` (a log group's name holds `/`: `log-group:/aws/x:log-stream:s`).
      else src += seen === varCount ? '.+' : (parts[i + 1] ?? '').startsWith(':') ? '[^:]+' : '[^/]+';
    }
  }
  hit = { re: new RegExp(src + '$'), literals };
  compiled.set(template, hit);
  return hit;
}

/**
 * The resource type (among the action's) that an ARN is an instance of, preferring the most
 * specific template: `table/t/index/i` is an `index`, not a `table`. Undefined when none fits
 * or the ARN belongs to another service.
 */
export function typeOfArn(
  arn: string,
  service: string,
  types: readonly ActionResourceType[],
): string | undefined {
  const parsed = parseArn(arn);
  if (!parsed || parsed.service !== service) return undefined;
  let best: { key: string; literals: number } | undefined;
  for (const rt of types) {
    const c = compile(rt.arn);
    if (c.re.test(arn) && (!best || c.literals > best.literals)) best = { key: rt.key, literals: c.literals };
  }
  return best?.key;
}

/**
 * The IAM resource type of `resource` for `action`, from the Service Authorization Reference, as
 * ingest records it (S3 object scoping needs it): for rows without `resource_type`.
 */
export function resourceTypeOf(action: string, resource: string): string | null {
  const info = actionInfo(action);
  if (!info) return null;
  return typeOfArn(resource, info.service, info.resourceTypes) ?? null;
}
