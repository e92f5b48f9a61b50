/**
 * What happens to the observed (action, resource) pairs before they become statements: merging
 * equal grants, scoping S3 object keys, generalising account and region, and dropping grants that
 * another one already covers. Every step keeps the evidence (calls, first/last seen, traces).
 */
import { arnParts } from '../iam/arn.js';
import { globMatch } from '../iam/glob.js';
import type { PermissionUsage } from '../store/usage.js';
import type { PolicyOptions, S3ObjectScope } from './types.js';

/**
 * One (action, resource) permission with the evidence of the calls that needed it: a row of the
 * usage reader, with its sample traces as a list and the resources as recorded.
 */
export interface Grant extends Omit<PermissionUsage, 'subject' | 'traceMin' | 'traceMax' | 'members'> {
  /** Up to 3 sample trace ids, sorted. */
  traces: string[];
  /** The resources as recorded (before scoping and generalising), with their call counts. */
  observed: Map<string, number>;
}

/** Sum of the numbers. */
export function sum(ns: number[]): number {
  return ns.reduce((a, b) => a + b, 0);
}

/** Adds the evidence of `g` to `into` (same action, and a resource that covers g's). */
function absorb(into: Grant, g: Grant): void {
  into.calls += g.calls;
  into.denied += g.denied;
  into.first = Math.min(into.first, g.first);
  into.last = Math.max(into.last, g.last);
  into.traces = [...new Set([...into.traces, ...g.traces])].sort().slice(0, 3);
  for (const [r, n] of g.observed) into.observed.set(r, (into.observed.get(r) ?? 0) + n);
}

/**
 * Merges grants with the same action and resource, adding their evidence. In place: the first
 * grant of each (action, resource) absorbs the others (callers own the grants they pass).
 */
export function merge(grants: Grant[]): Grant[] {
  const out = new Map<string, Grant>();
  for (const g of grants) {
    const key = `${g.action}\u0000${g.resource}`;
    const prev = out.get(key);
    if (!prev) {
      out.set(key, g);
      continue;
    }
    absorb(prev, g);
    prev.resourceUnknown = prev.resourceUnknown && g.resourceUnknown;
  }
  return out.size === grants.length ? grants : [...out.values()];
}

const S3_OBJECT = /^(arn:[^:]+:s3:::)([^/]+)\/(.*)$/;

/**
 * S3 object ARNs keep their full key at ingest; here they are scoped. `prefix`: per bucket and
 * set of actions, the longest common path prefix of the keys at `/` boundaries, as `prefix*`.
 */
export function scopeS3Objects(grants: Grant[], scope: S3ObjectScope): Grant[] {
  if (scope === 'exact') return grants;
  const objects = grants.filter(
    (g) => g.resourceType === 'object' && !g.resourceUnknown && S3_OBJECT.test(g.resource),
  );
  if (objects.length === 0) return grants;
  const isObject = new Set(objects);
  const rest = grants.filter((g) => !isObject.has(g));
  // For each object ARN, the set of actions used on it.
  const actionsByArn = new Map<string, Set<string>>();
  for (const g of objects) {
    const set = actionsByArn.get(g.resource) ?? new Set<string>();
    set.add(g.action);
    actionsByArn.set(g.resource, set);
  }
  // Group object ARNs by bucket and action set.
  const groups = new Map<string, string[]>();
  for (const [arn, actions] of actionsByArn) {
    const m = S3_OBJECT.exec(arn)!;
    const key = `${m[1]}${m[2]}\u0000${[...actions].sort().join(',')}`;
    const group = groups.get(key);
    if (group) group.push(arn);
    else groups.set(key, [arn]);
  }
  const scoped = new Map<string, string>();
  for (const [key, arns] of groups) {
    const bucketArn = key.split('\u0000')[0] as string;
    if (scope === 'bucket') {
      for (const a of arns) scoped.set(a, `${bucketArn}/*`);
      continue;
    }
    const keys = arns.map((a) => S3_OBJECT.exec(a)![3] as string);
    const prefix = commonPathPrefix(keys);
    for (const a of arns) scoped.set(a, `${bucketArn}/${prefix}*`);
  }
  for (const g of objects) rest.push({ ...g, resource: scoped.get(g.resource) ?? g.resource });
  return rest;
}

/** Longest common prefix of the keys that ends at a `/` (or is empty). */
export function commonPathPrefix(keys: string[]): string {
  if (keys.length === 0) return '';
  let prefix = keys[0] as string;
  for (const k of keys) {
    let i = 0;
    while (i < prefix.length && i < k.length && prefix[i] === k[i]) i++;
    prefix = prefix.slice(0, i);
  }
  const cut = prefix.lastIndexOf('/');
  return cut >= 0 ? prefix.slice(0, cut + 1) : '';
}

/** True when the options generalise ARNs at all. */
export function generalises(
  o: Pick<PolicyOptions, 'accountWildcard' | 'regionWildcard' | 'placeholders'>,
): boolean {
  return Boolean(o.accountWildcard || o.regionWildcard || o.placeholders);
}

/** The account and region a policy is for: `--placeholders` replaces these, and only these. */
export interface OwnScope {
  account: string | null;
  region: string | null;
}

/**
 * Applies `--account-wildcard`, `--region-wildcard` and `--placeholders` to an ARN. Placeholders
 * stand for the deploying account and region, so they replace only the policy's own (`own`): a
 * queue of another account written `${AWS::AccountId}` would grant a same-named queue of the
 * deploying account instead.
 */
export function generaliseArn(
  arn: string,
  o: Pick<PolicyOptions, 'accountWildcard' | 'regionWildcard' | 'placeholders'>,
  own: OwnScope = { account: null, region: null },
): string {
  const parts = arnParts(arn);
  if (!parts || !arn.startsWith('arn:')) return arn;
  const [, partition, service, region, account, resource] = parts;
  // Another account's resource stays where it is, whatever region the template is deployed in.
  const ownAccount = account === '' || account === own.account;
  const r =
    region &&
    (o.regionWildcard
      ? '*'
      : o.placeholders && ownAccount && region === own.region
        ? '${AWS::Region}'
        : region);
  const a =
    account &&
    (o.accountWildcard ? '*' : o.placeholders && account === own.account ? '${AWS::AccountId}' : account);
  return `arn:${partition}:${service}:${r}:${a}:${resource}`;
}

/** Drops a grant when another grant of the same action already covers its resource. */
export function dropCovered(grants: Grant[]): Grant[] {
  const byAction = new Map<string, Grant[]>();
  for (const g of grants) {
    const list = byAction.get(g.action);
    if (list) list.push(g);
    else byAction.set(g.action, [g]);
  }
  const out: Grant[] = [];
  for (const list of byAction.values()) {
    const patterns = list.filter((g) => /[*?]/.test(g.resource));
    for (const g of list) {
      const cover = patterns.find(
        (p) => p !== g && p.resource !== g.resource && globMatch(p.resource, g.resource),
      );
      if (!cover) {
        out.push(g);
        continue;
      }
      absorb(cover, g); // the covering grant carries the evidence
    }
  }
  return out;
}
