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
  /** The resources as recorded (before scoping and generalising): a count and a bounded sample. */
  observed: ObservedResources;
  /** Which sources saw it, where a policy holds CloudTrail evidence (absent: traces only). */
  sources?: ('trace' | 'cloudtrail')[];
  /**
   * CloudTrail: every call behind it was an AWS service's on the workload's behalf (the Lambda
   * service writing logs): a run-time need that covers it is that need, seen.
   */
  onBehalf?: boolean;
}

/** Resources kept at most in the evidence of one grant (and of one action of a statement). */
export const MAX_OBSERVED = 100;

/**
 * The resources a grant was built from, as recorded: how many distinct ones, and the first
 * {@link MAX_OBSERVED} of them in code-unit order with their calls. Bounded, so that a prefix
 * scoping a million S3 keys holds a hundred of them, not a million.
 */
export interface ObservedResources {
  /** Distinct resources (the resources of the grants it sums are distinct: rows are unique per (action, resource)). */
  count: number;
  /** The first {@link MAX_OBSERVED} resources in code-unit order, with their calls. */
  sample: [resource: string, calls: number][];
}

/** The evidence of one recorded resource. */
export function observedOne(resource: string, calls: number): ObservedResources {
  return { count: 1, sample: [[resource, calls]] };
}

/** Adds `from` to `into` (in place): counts add up, the samples merge and keep the first ones. */
export function addObserved(into: ObservedResources, from: ObservedResources): void {
  into.count += from.count;
  const a = into.sample;
  const b = from.sample;
  const last = a[a.length - 1];
  // The usual case: keys arrive in order, and a full sample takes nothing later.
  if (a.length >= MAX_OBSERVED && last && (b[0] === undefined || b[0][0] > last[0])) return;
  if (last && b[0] && b[0][0] > last[0]) {
    for (const x of b) {
      if (a.length >= MAX_OBSERVED) break;
      a.push([x[0], x[1]]);
    }
    return;
  }
  const out: [string, number][] = [];
  let i = 0;
  let j = 0;
  while (out.length < MAX_OBSERVED && (i < a.length || j < b.length)) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x[0] < y[0])) {
      out.push(x!);
      i++;
    } else if (x === undefined || y[0] < x[0]) {
      out.push([y[0], y[1]]);
      j++;
    } else {
      // The same resource in both: once, with both counts.
      out.push([x[0], x[1] + y[1]]);
      i++;
      j++;
      into.count--;
    }
  }
  into.sample = out;
}

/** Sum of the numbers. */
export function sum(ns: number[]): number {
  return ns.reduce((a, b) => a + b, 0);
}

/** Adds the evidence of `g` to `into` (same action, and a resource that covers g's). */
export function absorbGrant(into: Grant, g: Grant): void {
  into.calls += g.calls;
  into.denied += g.denied;
  into.first = Math.min(into.first, g.first);
  into.last = Math.max(into.last, g.last);
  into.traces = sampleTraces(into.traces, g.traces);
  addObserved(into.observed, g.observed);
  if (into.onBehalf === true && g.onBehalf !== true) delete into.onBehalf;
  if (into.sources || g.sources)
    into.sources = [...new Set([...(into.sources ?? ['trace']), ...(g.sources ?? ['trace'])])].sort();
}

/**
 * The first 3 distinct trace ids of both lists, sorted. Folding a million S3 keys calls this once
 * per key, and a full sample seldom changes: when `a` is already 3 sorted ids and `b` adds none
 * before its last, `a` is the answer, without the sets and arrays of the general case.
 */
function sampleTraces(a: string[], b: string[]): string[] {
  if (a.length === 3 && a[0]! < a[1]! && a[1]! < a[2]! && b.every((x) => x >= a[2]!)) return a;
  return [...new Set([...a, ...b])].sort().slice(0, 3);
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
    absorbGrant(prev, g);
    prev.resourceUnknown = prev.resourceUnknown && g.resourceUnknown;
  }
  return out.size === grants.length ? grants : [...out.values()];
}

const S3_OBJECT = /^(arn:[^:]+:s3:::)([^/]+)\/(.*)$/;

/** One bucket and set of actions: the longest common prefix so far, and a grant per action. */
interface ObjectGroup {
  bucketArn: string;
  /** Longest common prefix (code units) of the keys so far; cut at its last `/` at the end. */
  common: string;
  byAction: Map<string, Grant>;
}

/**
 * S3 object ARNs keep their full key at ingest; here they are scoped, one grant at a time.
 * `prefix`: per bucket and set of actions, the longest common path prefix of the keys at `/`
 * boundaries, as `prefix*`; `bucket`: `bucket/*`; `exact` does not use this.
 *
 * Memory depends on the groups (bucket × action set) and the actions, not on the keys: each
 * key's grants are folded into its group as soon as the next key arrives, so grants must come
 * with all the actions of one resource together (ordered by resource, as the readers give them
 * to policies). If a resource came back later its actions would form a second, smaller set: the
 * policy would still grant every pair seen, only grouped differently.
 */
export class S3ObjectScoper {
  private readonly groups = new Map<string, ObjectGroup>();
  private current: Grant[] = [];

  constructor(private readonly scope: Exclude<S3ObjectScope, 'exact'>) {}

  /** True when `g` is an S3 object grant this scopes (an object ARN with its key recorded). */
  static takes(g: Grant): boolean {
    return g.resourceType === 'object' && !g.resourceUnknown && S3_OBJECT.test(g.resource);
  }

  /** Adds an object grant (see {@link S3ObjectScoper.takes}); the caller gives up `g`. */
  add(g: Grant): void {
    if (this.current.length > 0 && (this.current[0] as Grant).resource !== g.resource) this.fold();
    this.current.push(g);
  }

  /** Folds the grants of the current resource into the group of its bucket and action set. */
  private fold(): void {
    const grants = this.current;
    this.current = [];
    const m = S3_OBJECT.exec((grants[0] as Grant).resource)!;
    const bucketArn = `${m[1]}${m[2]}`;
    const key = m[3] as string;
    // Most keys are read or written by one action: its name is the set.
    const actions =
      grants.length === 1
        ? (grants[0] as Grant).action
        : [...new Set(grants.map((g) => g.action))].sort().join(',');
    const id = `${bucketArn}\u0000${actions}`;
    let group = this.groups.get(id);
    if (!group) {
      group = { bucketArn, common: key, byAction: new Map() };
      this.groups.set(id, group);
    } else if (!key.startsWith(group.common)) {
      let i = 0;
      const c = group.common;
      while (i < c.length && i < key.length && c[i] === key[i]) i++;
      group.common = c.slice(0, i);
    }
    for (const g of grants) {
      const into = group.byAction.get(g.action);
      if (into) absorbGrant(into, g);
      else group.byAction.set(g.action, g);
    }
  }

  /** The scoped grants, one per group and action (the same resource may come from several groups: {@link merge} them). */
  finish(): Grant[] {
    if (this.current.length > 0) this.fold();
    const out: Grant[] = [];
    for (const group of this.groups.values()) {
      const prefix = this.scope === 'bucket' ? '' : commonPathPrefix([group.common]);
      for (const g of group.byAction.values()) out.push({ ...g, resource: `${group.bucketArn}/${prefix}*` });
    }
    this.groups.clear();
    return out;
  }
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
      absorbGrant(cover, g); // the covering grant carries the evidence
    }
  }
  return out;
}
