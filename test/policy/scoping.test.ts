/**
 * S3 object scoping folds keys as they come (src/policy/to-grant.ts, S3ObjectScoper): the documents
 * equal those of the former all-in-memory algorithm (kept here as the oracle) on generated key
 * sets, and the evidence keeps exact counts and a bounded sample of the resources, so that memory
 * depends on the permissions, not on the keys.
 */
import test from 'ava';
import { buildOne, grantOf } from '../../src/policy/build.js';
import { DEFAULT_THRESHOLDS, type Observation } from '../../src/policy/completeness.js';
import { commonPathPrefix, MAX_OBSERVED, type Grant } from '../../src/policy/to-grant.js';
import type { PolicyOptions, S3ObjectScope } from '../../src/policy/types.js';
import { compareUtf8 } from '../../src/store/usage.js';

const NONE: Observation = { traces: 30, activeDays: 5, first: 0, last: 5 * 86_400, formats: [] };

function grant(action: string, resource: string, calls = 1, n = 0): Grant {
  return grantOf({
    action,
    resource,
    resourceType: resource.includes('/') && resource.startsWith('arn:aws:s3:::') ? 'object' : 'bucket',
    resourceUnknown: false,
    calls,
    denied: 0,
    first: n,
    last: n + 1,
    traceMin: `1-00000000-${String(n).padStart(24, '0')}`,
    traceMax: `1-00000000-${String(n).padStart(24, '0')}`,
  });
}

/** The readers' order: each resource's actions together. */
const byResource = (gs: Grant[]): Grant[] =>
  [...gs].sort((a, b) => compareUtf8(a.resource, b.resource) || compareUtf8(a.action, b.action));

/** The former algorithm (every key held): per bucket and action set, the common path prefix. */
function oracle(grants: Grant[], scope: Exclude<S3ObjectScope, 'exact'>): Grant[] {
  const re = /^(arn:[^:]+:s3:::)([^/]+)\/(.*)$/;
  const objects = grants.filter((g) => g.resourceType === 'object' && re.test(g.resource));
  const rest = grants.filter((g) => !objects.includes(g));
  const actions = new Map<string, Set<string>>();
  for (const g of objects) actions.set(g.resource, (actions.get(g.resource) ?? new Set()).add(g.action));
  const groups = new Map<string, string[]>();
  for (const [arn, set] of actions) {
    const m = re.exec(arn)!;
    const key = `${m[1]}${m[2]}\u0000${[...set].sort().join(',')}`;
    groups.set(key, [...(groups.get(key) ?? []), arn]);
  }
  const scoped = new Map<string, string>();
  for (const [key, arns] of groups) {
    const bucket = key.split('\u0000')[0] as string;
    const prefix = scope === 'bucket' ? '' : commonPathPrefix(arns.map((a) => re.exec(a)![3] as string));
    for (const a of arns) scoped.set(a, `${bucket}/${prefix}*`);
  }
  return [...rest, ...objects.map((g) => ({ ...g, resource: scoped.get(g.resource)! }))];
}

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Grants on random keys: a few buckets, nested prefixes, action sets, a bucket-level grant. */
function generated(seed: number, keys: number): Grant[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: Grant[] = [grant('s3:ListBucket', 'arn:aws:s3:::b0', 3)];
  const sets = [['s3:GetObject'], ['s3:GetObject', 's3:PutObject'], ['s3:DeleteObject'], ['s3:PutObject']];
  const seen = new Set<string>();
  for (let i = 0; i < keys; i++) {
    const path = Array.from({ length: 1 + Math.floor(r() * 3) }, () =>
      pick(['a', 'ab', 'b', 'c/d', 'é', '😀']),
    );
    const arn = `arn:aws:s3:::${pick(['b0', 'b1', 'b2'])}/${path.join('/')}/${pick(['x', 'y', ''])}${i % 7}`;
    if (seen.has(arn)) continue;
    seen.add(arn);
    for (const action of pick(sets)) out.push(grant(action, arn, 1 + (i % 5), i));
  }
  return out;
}

const opts = (s3Objects: S3ObjectScope, more: Partial<PolicyOptions> = {}): PolicyOptions => ({
  filter: {},
  s3Objects,
  ...more,
});
const build = (gs: Grant[], o: PolicyOptions): ReturnType<typeof buildOne> =>
  buildOne(gs, o, [], 'lambda', NONE, DEFAULT_THRESHOLDS);

for (const scope of ['prefix', 'bucket'] as const)
  for (const seed of [1, 2, 3, 4, 5])
    for (const more of [{}, { accountWildcard: true }, { maxSize: 700 }])
      test(`scoping ${scope}, seed ${seed} ${JSON.stringify(more)}: the documents are the former algorithm's`, (t) => {
        const gs = generated(seed, 40 + seed * 30);
        const streamed = build(byResource(gs), opts(scope, more));
        const former = build(oracle(generated(seed, 40 + seed * 30), scope), opts('exact', more));
        t.deepEqual(streamed.documents, former.documents);
        t.deepEqual(streamed.completeness, former.completeness);
        t.true(streamed.documents[0]!.Statement.length > 0);
      });

test('the evidence counts every resource and keeps the first 100 in code-unit order, with exact calls', (t) => {
  const keys = Array.from(
    { length: 250 },
    (_, i) => `arn:aws:s3:::bucket/in/${String(i).padStart(3, '0')}.bin`,
  );
  const gs = keys.map((k, i) => grant('s3:GetObject', k, 1 + (i % 3), i));
  const calls = gs.reduce((n, g) => n + g.calls, 0);
  const p = build(byResource(gs), opts('prefix')); // builds take their grants (merged in place)
  t.deepEqual(p.document.Statement[0]!.Resource, ['arn:aws:s3:::bucket/in/*']);
  const a = p.evidence[0]!.actions[0]!;
  t.is(MAX_OBSERVED, 100);
  t.is(a.resourcesObserved, 250);
  t.is(a.calls, calls);
  t.deepEqual(
    a.observed,
    keys.slice(0, 100).map((resource, i) => ({ resource, calls: 1 + (i % 3) })),
  );
});

test('the evidence sample is the same whatever order the keys come in', (t) => {
  const keys = Array.from({ length: 300 }, (_, i) => `arn:aws:s3:::bucket/k/${(i * 7919) % 1000}`);
  const gs = (): Grant[] => keys.map((k, i) => grant('s3:GetObject', k, 2, i));
  const sorted = build(byResource(gs()), opts('prefix')).evidence;
  const reversed = build(byResource(gs()).reverse(), opts('prefix')).evidence;
  t.deepEqual(reversed, sorted);
  const a = sorted[0]!.actions[0]!;
  t.is(a.resourcesObserved, 300);
  t.deepEqual(
    a.observed.map((o) => o.resource),
    [...keys].sort().slice(0, 100),
  );
});

test('with --s3-objects exact every key is its own grant, and each is counted once', (t) => {
  const keys = Array.from({ length: 120 }, (_, i) => `arn:aws:s3:::bucket/k/${i}`);
  const p = build(byResource(keys.map((k, i) => grant('s3:GetObject', k, 1, i))), opts('exact'));
  t.is(p.document.Statement[0]!.Resource.length, 120);
  t.is(p.evidence[0]!.actions[0]!.resourcesObserved, 120);
  t.is(p.evidence[0]!.actions[0]!.observed.length, 100);
});
