/**
 * The completeness verdict (src/policy/completeness.ts) on constructed histories: settled, still
 * discovering, settling, too little data, and each threshold's boundary; then end to end, where
 * `policy --json` carries it and a warning says what to do.
 */
import path from 'node:path';
import test from 'ava';
import {
  completenessOf,
  completenessWarning,
  DEFAULT_THRESHOLDS,
  MAX_CURVE_POINTS,
  MAX_RARE,
  type CompletenessVerdict,
  type Observation,
} from '../../src/policy/completeness.js';
import type { Grant } from '../../src/policy/to-grant.js';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies } from '../../src/policy/build.js';
import { awsCall, batch, lambdaSegment, repoRoot, tempStore, writeFile } from '../support/helpers.js';

const DAY = 86_400;
const T0 = 1_790_000_000; // 2026-09-21T14:13:20Z

function grant(
  first: number,
  traces = ['1-00000000-000000000000000000000001', '1-00000000-000000000000000000000002'],
): Grant {
  return {
    action: `s3:GetObject`,
    resource: `arn:aws:s3:::b${first}/*`,
    resourceType: 'object',
    resourceUnknown: false,
    calls: 2,
    denied: 0,
    first,
    last: first,
    traces,
    observed: { count: 0, sample: [] },
  };
}

/** 30 days observed (T0 … T0 + 30 d), 30 active days, 100 traces, from X-Ray and OTel. */
const month: Observation = {
  traces: 100,
  activeDays: 30,
  first: T0,
  last: T0 + 30 * DAY,
  formats: ['opentelemetry', 'x-ray'],
};

// The last new permission, as the share of the observed period before its end (1 = at the start).
const at = (quietShare: number): number => T0 + Math.round((1 - quietShare) * 30 * DAY);

const cases: {
  name: string;
  grants: Grant[];
  observed?: Partial<Observation>;
  verdict: CompletenessVerdict;
  reason: RegExp;
}[] = [
  {
    name: 'everything seen on the first day',
    grants: [grant(T0), grant(T0 + 3600)],
    verdict: 'settled',
    reason: /30 days before the last call \(100% of the 30 days/,
  },
  {
    name: 'the last new permission 40% before the end (boundary: settled)',
    grants: [grant(T0), grant(at(0.4))],
    verdict: 'settled',
    reason: /\(40% of/,
  },
  {
    name: 'the last new permission just inside the last 40%',
    grants: [grant(T0), grant(at(0.4) + 60)],
    verdict: 'settling',
    reason: /\(40% of/,
  },
  {
    name: 'the last new permission 10% before the end (boundary: settling)',
    grants: [grant(T0), grant(at(0.1))],
    verdict: 'settling',
    reason: /\(10% of/,
  },
  {
    name: 'the last new permission just inside the last 10%',
    grants: [grant(T0), grant(at(0.1) + 60)],
    verdict: 'still discovering',
    reason: /\(10% of/,
  },
  {
    name: 'a new permission on the last call',
    grants: [grant(T0), grant(T0 + 30 * DAY)],
    verdict: 'still discovering',
    reason: /0 minutes before the last call \(0% of/,
  },
  {
    name: 'two active days',
    grants: [grant(T0)],
    observed: { activeDays: 2 },
    verdict: 'too little data',
    reason: /only 2 active days \(fewer than 3\)$/,
  },
  {
    name: 'three active days (boundary)',
    grants: [grant(T0)],
    observed: { activeDays: 3 },
    verdict: 'settled',
    reason: /before the last call/,
  },
  {
    name: '19 traces',
    grants: [grant(T0)],
    observed: { traces: 19 },
    verdict: 'too little data',
    reason: /only 19 traces \(fewer than 20\)$/,
  },
  {
    name: '20 traces (boundary)',
    grants: [grant(T0)],
    observed: { traces: 20 },
    verdict: 'settled',
    reason: /before the last call/,
  },
  {
    name: 'one day and one trace',
    grants: [grant(T0)],
    observed: { activeDays: 1, traces: 1 },
    verdict: 'too little data',
    reason: /1 active day \(fewer than 3\) and 1 trace \(fewer than 20\)/,
  },
  {
    name: 'no calls at all',
    grants: [],
    observed: { traces: 0, activeDays: 0, first: null, last: null },
    verdict: 'too little data',
    reason: /only 0 active days/,
  },
  {
    name: 'enough days and traces, but no permission',
    grants: [],
    verdict: 'too little data',
    reason: /no period observed/,
  },
];

for (const c of cases) {
  test(`verdict: ${c.name} → ${c.verdict}`, (t) => {
    const r = completenessOf(c.grants, { ...month, ...c.observed });
    t.is(r.verdict, c.verdict);
    t.regex(r.reason, c.reason);
  });
}

test('thresholds are options', (t) => {
  const g = [grant(T0), grant(at(0.3))];
  t.is(completenessOf(g, month).verdict, 'settling');
  t.is(completenessOf(g, month, { ...DEFAULT_THRESHOLDS, settledShare: 0.25 }).verdict, 'settled');
  t.is(completenessOf(g, month, { ...DEFAULT_THRESHOLDS, recentShare: 0.35 }).verdict, 'still discovering');
  t.is(
    completenessOf(g, { ...month, activeDays: 5 }, { ...DEFAULT_THRESHOLDS, minActiveDays: 7 }).verdict,
    'too little data',
  );
  t.is(
    completenessOf(g, { ...month, traces: 40 }, { ...DEFAULT_THRESHOLDS, minTraces: 50 }).verdict,
    'too little data',
  );
});

test('the discovery curve counts distinct permissions at each time one first appeared', (t) => {
  const r = completenessOf([grant(T0 + 2 * DAY), grant(T0), grant(T0), grant(T0 + 9 * DAY)], month);
  t.deepEqual(r.discovery, [
    { at: '2026-09-21T14:13:20.000Z', permissions: 2 },
    { at: '2026-09-23T14:13:20.000Z', permissions: 3 },
    { at: '2026-09-30T14:13:20.000Z', permissions: 4 },
  ]);
  t.is(r.permissions, 4);
  t.is(r.lastNewPermission, '2026-09-30T14:13:20.000Z');
});

test('the curve keeps its shape in at most MAX_CURVE_POINTS points; rare permissions are counted, the first MAX_RARE listed', (t) => {
  const many = Array.from({ length: 1000 }, (_, i) => ({
    ...grant(T0 + i * 60, ['1-00000000-000000000000000000000009']),
    resource: `arn:aws:s3:::b/k${String(i).padStart(4, '0')}`,
  }));
  const r = completenessOf(many, month);
  t.is(r.discovery.length, MAX_CURVE_POINTS);
  t.deepEqual(r.discovery[0], { at: '2026-09-21T14:13:20.000Z', permissions: 1 });
  t.is(r.discovery.at(-1)!.permissions, 1000);
  t.true(r.discovery.every((p, i) => i === 0 || p.permissions > r.discovery[i - 1]!.permissions));
  t.is(r.rareCount, 1000);
  t.is(r.rare.length, MAX_RARE);
  t.is(r.rare[0]!.resource, 'arn:aws:s3:::b/k0000');
});

test('permissions seen in a single trace are listed as rare, with that trace', (t) => {
  const one = '1-00000000-00000000000000000000000a';
  const r = completenessOf([grant(T0), { ...grant(T0 + DAY), traces: [one] }], month);
  t.deepEqual(r.rare, [
    { action: 's3:GetObject', resource: `arn:aws:s3:::b${T0 + DAY}/*`, traceId: one, source: 'trace' },
  ]);
});

test('a permission only CloudTrail saw, in one record, is rare with that record; seen by both, its one sample is a trace', (t) => {
  const event = '3b1d2f0c-8a4e-4c52-9d1e-0f6a7b8c9d0e';
  const trace = '1-00000000-00000000000000000000000b';
  const r = completenessOf(
    [
      grant(T0),
      { ...grant(T0 + DAY), traces: [event], sources: ['cloudtrail'] },
      { ...grant(T0 + 2 * DAY), traces: [trace], sources: ['trace', 'cloudtrail'] },
    ],
    month,
  );
  t.deepEqual(
    r.rare.map((x) => [x.traceId, x.source]),
    [
      [event, 'cloudtrail'],
      [trace, 'trace'],
    ],
  );
});

test('data that came only from X-Ray is said to be sampled', (t) => {
  t.true(completenessOf([grant(T0)], { ...month, formats: ['x-ray'] }).sampled);
  t.false(completenessOf([grant(T0)], { ...month, formats: ['opentelemetry'] }).sampled);
  t.false(completenessOf([grant(T0)], month).sampled);
});

test('policy --json carries the verdict per workload, and a warning when it is not settled', async (t) => {
  const { store, dir } = tempStore();
  // `busy` calls one table on 25 days with 2 traces a day: settled. `late` does the same, then
  // calls a second table on its last day: still discovering. `thin` has 2 days.
  const traces: { id: string; segments: Record<string, unknown>[] }[] = [];
  let n = 0;
  const add = (fn: string, day: number, table: string): void => {
    n++;
    const id = `1-${(T0 + day * DAY).toString(16)}-${n.toString(16).padStart(24, '0')}`;
    const at = T0 + day * DAY + n;
    const call = awsCall(
      'DynamoDB',
      'GetItem',
      { table_name: table },
      { start_time: at, end_time: at + 0.5 },
    );
    const seg = lambdaSegment(id, fn, [call]);
    seg.start_time = at;
    seg.end_time = at + 1;
    traces.push({ id, segments: [seg] });
  };
  for (let d = 0; d < 25; d++)
    for (const fn of ['busy', 'late']) {
      add(fn, d, 'orders');
      add(fn, d, 'orders');
    }
  add('late', 24, 'new-table');
  add('thin', 0, 'orders');
  add('thin', 1, 'orders');
  await ingest(store, { inputs: [writeFile(dir, 'dump.json', batch(traces))] });
  const byName = new Map(buildPolicies(store, { filter: {} }).policies.map((p) => [p.name, p]));
  t.is(byName.get('busy')!.completeness.verdict, 'settled');
  t.false(byName.get('busy')!.warnings.some((w) => w.code === 'incomplete'));
  t.is(byName.get('late')!.completeness.verdict, 'still discovering');
  t.regex(
    byName.get('late')!.warnings.find((w) => w.code === 'incomplete')!.message,
    /still discovering permissions: .* ingest more days/,
  );
  t.is(byName.get('thin')!.completeness.verdict, 'too little data');
  t.regex(
    byName.get('thin')!.warnings.find((w) => w.code === 'incomplete')!.message,
    /X-Ray samples requests/,
  );
  t.is(byName.get('busy')!.completeness.activeDays, 25);
  t.is(byName.get('busy')!.completeness.traces, 50);
  store.close();
});

/** Traces, CloudTrail records → the reason's words and what the warning asks for more of. */
const SOURCES: [string, Partial<Observation>, RegExp, string][] = [
  ['traces only', { traces: 5 }, /only 5 traces \(fewer than 20\)/, 'traces'],
  [
    'CloudTrail only',
    { traces: 0, records: 4 },
    /only 4 CloudTrail records \(fewer than 20\)/,
    'CloudTrail records',
  ],
  [
    'both',
    { traces: 3, records: 1 },
    /only 3 traces and 1 CloudTrail record \(4 together\) \(fewer than 20\)/,
    'traces or CloudTrail records',
  ],
];
for (const [name, o, reason, more] of SOURCES)
  test(`the verdict words its evidence by source: ${name}`, (t) => {
    const c = completenessOf([grant(T0)], { ...month, ...o });
    t.is(c.verdict, 'too little data');
    t.regex(c.reason, reason);
    t.false(name !== 'traces only' && /\d+ traces? \(fewer/.test(c.reason), 'records are not called traces');
    t.true(completenessWarning(c).includes(`Ingest more days of ${more}.`), completenessWarning(c));
  });

test('records count toward the minimum with the traces', (t) => {
  t.is(
    completenessOf([grant(T0)], { ...month, traces: 10, records: 10 }).verdict === 'too little data',
    false,
  );
});

test("end to end: a role's CloudTrail records are counted and called records, not traces", async (t) => {
  const { store } = tempStore();
  await ingest(store, { inputs: [path.join(repoRoot, 'test/fixtures/cloudtrail/records.json')] });
  const c = buildPolicies(store, { filter: {} }).policies[0]!.completeness;
  t.is(c.traces, 0);
  t.is(c.cloudtrailRecords, 11);
  t.regex(c.reason, /only 1 active day \(fewer than 3\) and 11 CloudTrail records \(fewer than 20\)/);
  t.notRegex(c.reason, /trace/);
  store.close();
});
