/**
 * The one usage reader (src/store/usage.ts) against a direct scan of calls: every command that
 * reads usage gives the same numbers whether whole days come from the rollups (the default) or
 * every row is computed from calls (`source: 'calls'`), for ranges aligned to UTC days and not,
 * open or closed, within one day, and under every kind of filter.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { compareGranted } from '../../src/compare/compare.js';
import { mergeGranted, parseGrantedFile } from '../../src/granted/granted.js';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies } from '../../src/policy/build.js';
import { explainPermission } from '../../src/policy/explain.js';
import { queryTimeline } from '../../src/query/timeline.js';
import { queryUsage, type UsageGroup } from '../../src/query/usage.js';
import { listWorkloads } from '../../src/query/workloads.js';
import type { Store } from '../../src/store/db.js';
import type { CallFilter } from '../../src/store/filter.js';
import {
  compareUtf8,
  readPermissions,
  readUsage,
  readWorkloadActivity,
  splitRange,
  type UsageSource,
} from '../../src/store/usage.js';
import { compareText } from '../../src/shared/order.js';
import { DAY } from '../../src/shared/time.js';
import { repoRoot, tempStore } from '../support/helpers.js';

const at = (iso: string): number => Date.parse(iso) / 1000;

/** Ranges over the samples' week (2026-11-16 … 22): aligned, unaligned, open, within one day, empty. */
const RANGES: [string, Pick<CallFilter, 'since' | 'until'>][] = [
  ['everything', {}],
  ['whole days', { since: at('2026-11-17T00:00:00Z'), until: at('2026-11-21T00:00:00Z') }],
  ['partial days at both ends', { since: at('2026-11-17T09:30:00Z'), until: at('2026-11-21T13:15:30Z') }],
  ['open end, partial start', { since: at('2026-11-18T16:45:00Z') }],
  ['open start, partial end', { until: at('2026-11-19T07:05:00Z') }],
  ['within one day', { since: at('2026-11-19T06:00:00Z'), until: at('2026-11-19T18:00:00Z') }],
  ['one second', { since: at('2026-11-19T10:00:00Z'), until: at('2026-11-19T10:00:01Z') }],
  ['outside the data', { since: at('2027-01-01T00:00:00Z') }],
];

const FILTERS: [string, CallFilter][] = [
  ['no filter', {}],
  ['a workload', { workloads: ['orders-api'] }],
  ['excluding a workload', { excludeWorkloads: ['orders-api'] }],
  ['a service and a region', { services: ['dynamodb'], regions: ['eu-west-1'] }],
  ['an action pattern', { actions: ['s3:*'] }],
  ['a resource pattern', { resources: ['arn:aws:dynamodb:*:table/orders'] }],
  ['an account', { accounts: ['210987654321'] }],
  ['outcomes', { outcomes: ['error', 'denied', 'throttle'] }],
];

const GROUPINGS: UsageGroup[][] = [
  ['workload', 'action', 'resource'],
  ['service', 'outcome'],
  ['action'],
  ['day', 'workload'],
  ['hour'],
  ['operation', 'region', 'account'],
];

let store: Store;
test.before(async () => {
  store = tempStore().store;
  const s = await ingest(store, { inputs: [path.join(repoRoot, 'samples/traces')] });
  if (s.rejected > 0) throw new Error('samples did not ingest');
});

const granted = mergeGranted(
  [
    'account-123456789012.json',
    'account-210987654321.json',
    'functions-eu-west-1.json',
    'functions-us-east-1.json',
  ].map((f) => parseGrantedFile(fs.readFileSync(path.join(repoRoot, 'samples/granted', f), 'utf8'), f)),
);

/** Every command's answer for a filter, read from one source. */
function answers(filter: CallFilter, source: UsageSource): Record<string, unknown> {
  return {
    workloads: listWorkloads(store, { filter, source }),
    usage: GROUPINGS.map((groupBy) => queryUsage(store, { filter, groupBy, source })),
    timeline: queryTimeline(store, { filter, by: 'day', source }),
    policies: buildPolicies(store, { filter, source }),
    policiesWithDenied: buildPolicies(store, { filter, source, includeDenied: true }),
    compare: compareGranted(store, { filter, granted, source, allowUnused: ['logs:*'] }),
    explain: explainPermission(store, { filter, source, workload: 'orders-api', action: 'dynamodb:GetItem' }),
  };
}

for (const [range, r] of RANGES) {
  for (const [name, f] of FILTERS) {
    test(`rollups and calls agree: ${range}, ${name}`, (t) => {
      const filter = { ...f, ...r };
      const fromRollups = answers(filter, 'rollups');
      t.deepEqual(fromRollups, answers(filter, 'calls'));
      if (range === 'everything' && name === 'no filter')
        t.true((fromRollups.workloads as unknown[]).length >= 5, 'the samples hold every workload');
    });
  }
}

/** The report's activity per workload as it was read before readWorkloadActivity: readUsage grouped by workload and bucket. */
function activityFromUsage(filter: CallFilter, source: UsageSource, unit: number): string[] {
  const by = unit === DAY ? 'day' : 'hour';
  return readUsage(store, { filter, source, groupBy: ['workload', by] })
    .filter((r) => r.workloadId !== null)
    .map((r) => {
      const label = String(r[by]);
      const start = Date.parse(by === 'day' ? `${label}T00:00:00Z` : label.replace(/Z$/, ':00Z')) / 1000;
      return JSON.stringify([r.workloadKey, start, r.calls, r.errors, r.faults, r.throttles, r.denied]);
    })
    .sort();
}

for (const [range, r] of RANGES) {
  for (const [name, f] of FILTERS) {
    test(`readWorkloadActivity: as readUsage by workload and day or hour: ${range}, ${name}`, (t) => {
      const filter = { ...f, ...r };
      for (const source of ['rollups', 'calls'] as const)
        for (const unit of [DAY, 3600]) {
          const got = readWorkloadActivity(store, { filter, source, unit })
            .map((a) =>
              JSON.stringify([
                a.workloadKey,
                a.bucket * unit,
                a.calls,
                a.errors,
                a.faults,
                a.throttles,
                a.denied,
              ]),
            )
            .sort();
          t.deepEqual(got, activityFromUsage(filter, source, unit), `${source}, unit ${unit}`);
          if (range === 'everything' && name === 'no filter') t.true(got.length > 0);
        }
    });
  }
}

test('the answers are not empty where the samples have data (the comparison means something)', (t) => {
  const a = answers({ since: at('2026-11-17T09:30:00Z'), until: at('2026-11-21T13:15:30Z') }, 'rollups');
  t.true((a.workloads as unknown[]).length > 0);
  t.true((a.policies as { policies: unknown[] }).policies.length > 0);
  t.true((a.usage as unknown[][]).every((rows) => rows.length > 0));
});

const SPLITS: [string, number | undefined, number | undefined, ReturnType<typeof splitRange>][] = [
  ['open', undefined, undefined, { days: { from: undefined, to: undefined }, edges: [] }],
  ['aligned', 10 * DAY, 12 * DAY, { days: { from: 10, to: 12 }, edges: [] }],
  [
    'both edges',
    10 * DAY + 5,
    12 * DAY + 7,
    {
      days: { from: 11, to: 12 },
      edges: [
        [10 * DAY + 5, 11 * DAY],
        [12 * DAY, 12 * DAY + 7],
      ],
    },
  ],
  ['within a day', 10 * DAY + 5, 10 * DAY + 9, { days: undefined, edges: [[10 * DAY + 5, 10 * DAY + 9]] }],
  [
    'across one midnight, no whole day',
    10 * DAY + 5,
    11 * DAY + 9,
    { days: undefined, edges: [[10 * DAY + 5, 11 * DAY + 9]] },
  ],
  [
    'open end',
    10 * DAY + 5,
    undefined,
    { days: { from: 11, to: undefined }, edges: [[10 * DAY + 5, 11 * DAY]] },
  ],
];
for (const [name, since, until, want] of SPLITS) {
  test(`splitRange: ${name}`, (t) => {
    t.deepEqual(splitRange(since, until), want);
  });
}

test('compareUtf8 is SQLite text order (UTF-8 bytes), not UTF-16 code units', (t) => {
  const words = [
    'a',
    'ab',
    'b',
    '\u00e9',
    '\uffff',
    '\ue000',
    '\u{1f600}',
    '\u{10000}',
    'z\u{1f600}',
    'z\uff01',
    '',
  ];
  const bytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  t.deepEqual([...words].sort(compareUtf8), bytes);
  // Code-unit order puts U+1F600 (a surrogate pair) before U+FFFF; UTF-8 puts it after.
  t.true(compareUtf8('\u{1f600}', '\uffff') > 0);
});

for (const [range, r] of RANGES)
  test(`permissions by resource: each subject's rows in (resource, action) order, the same rows as by action: ${range}`, (t) => {
    for (const source of ['rollups', 'calls'] as const) {
      const byResource = [...readPermissions(store, { filter: r, source, order: 'resource' })];
      const byAction = [...readPermissions(store, { filter: r, source })];
      const key = (p: { subject: number; action: string; resource: string }): string =>
        `${p.subject}\u0000${p.action}\u0000${p.resource}`;
      t.deepEqual(
        [...byResource].sort((a, b) => compareText(key(a), key(b))),
        [...byAction].sort((a, b) => compareText(key(a), key(b))),
      );
      for (let i = 1; i < byResource.length; i++) {
        const a = byResource[i - 1]!;
        const b = byResource[i]!;
        t.true(
          a.subject < b.subject ||
            (a.subject === b.subject &&
              (compareUtf8(a.resource, b.resource) || compareUtf8(a.action, b.action)) < 0),
          `row ${i} out of order`,
        );
      }
    }
  });

/*
 * Reads of many subjects: the stored rows are read one subject at a time, on this thread or on a
 * read worker (store/read-thread/). Both must give what one grouped read of the computed rows
 * gives (`source: 'calls'` has no stored arm), subject by subject, in order, with the members.
 */
const SUBJECT_FILTERS: [string, CallFilter][] = [
  ['no filter', {}],
  ['an action pattern', { actions: ['s3:*', 'dynamodb:*'] }],
  ['an account', { accounts: ['210987654321'] }],
];

for (const [range, r] of RANGES)
  for (const [name, f] of SUBJECT_FILTERS)
    test(`permissions of grouped subjects, per subject and on a read worker, equal one grouped read: ${range}, ${name}`, (t) => {
      const ids = store.prepare('SELECT id FROM workloads ORDER BY name DESC').pluck().all() as number[];
      // Three subjects in an order that is not the workloads' ids; the first workload is left out.
      const subjects = new Map(ids.slice(1).map((id, i) => [id, [2, 0, 1][i % 3] as number]));
      const filter = { ...f, ...r };
      const read = (source: UsageSource, thread: 'never' | 'always', order: 'action' | 'resource') => [
        ...readPermissions(store, { filter, source, subjects, members: true, order, thread }),
      ];
      for (const order of ['resource', 'action'] as const) {
        const oracle = read('calls', 'never', order);
        t.deepEqual(read('rollups', 'never', order), oracle, `on this thread, by ${order}`);
        t.deepEqual(read('rollups', 'always', order), oracle, `on a read worker, by ${order}`);
      }
      if (range === 'everything' && name === 'no filter')
        t.true(read('calls', 'never', 'action').length > 10);
    });
