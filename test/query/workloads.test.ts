/** Workloads and their totals (src/query/workloads.ts), on the shared query fixture. */
import test from 'ava';
import type { CallFilter } from '../../src/query/filters.js';
import { listWorkloads } from '../../src/query/workloads.js';
import { D20, D21, D22, fixtureStore, H } from './fixture.js';

const fixture = fixtureStore();

// ---------------------------------------------------------------- principals

test('principals: every workload with its totals over the whole period', async (t) => {
  const { store } = await fixture;
  const rows = listWorkloads(store);
  t.deepEqual(
    rows.map((r) => [
      r.name,
      r.calls,
      r.traces,
      r.distinctActions,
      r.denied,
      r.errors,
      r.faults,
      r.throttles,
    ]),
    [
      // api's trace 102 spans midnight (D21 → D22): traces count per day.
      ['api', 5, 3, 2, 1, 0, 0, 1],
      ['worker', 3, 2, 3, 0, 1, 1, 0],
    ],
  );
  t.is(rows[0]!.firstSeen, '2026-11-20T10:00:00.000Z');
  t.is(rows[0]!.lastSeen, '2026-11-22T00:30:00.000Z');
});

// Ranges exercising whole days (rollups), partial edge days (calls) and sub-day ranges.
const ranges: { title: string; filter: CallFilter; expect: [string, number, number][] }[] = [
  {
    title: 'whole day D20',
    filter: { since: D20, until: D21 },
    expect: [
      ['api', 2, 1],
      ['worker', 2, 2],
    ],
  },
  {
    title: 'whole days D21–D22',
    filter: { since: D21 },
    expect: [
      ['api', 3, 1],
      ['worker', 1, 1],
    ],
  },
  {
    title: 'partial start, whole day, partial end',
    filter: { since: D20 + 12.5 * H, until: D22 + H },
    expect: [
      ['api', 3, 1],
      ['worker', 2, 2],
    ],
  },
  {
    title: 'inside one day',
    filter: { since: D20 + 9 * H, until: D20 + 12.5 * H },
    expect: [
      ['api', 2, 1],
      ['worker', 1, 1],
    ],
  },
  { title: 'across midnight only', filter: { since: D21 + 23 * H, until: D22 + H }, expect: [['api', 2, 1]] },
  {
    title: 'until only, mid-day',
    filter: { until: D21 + 6 * H },
    expect: [
      ['worker', 3, 3],
      ['api', 2, 1],
    ],
  },
  { title: 'nothing recorded', filter: { since: D22 + 2 * H }, expect: [] },
];
for (const r of ranges) {
  test(`principals over a range: ${r.title}`, async (t) => {
    const { store } = await fixture;
    const rows = listWorkloads(store, { filter: r.filter });
    t.deepEqual(
      rows.map((p) => [p.name, p.calls, p.distinctActions]),
      r.expect,
    );
    // The calls path (taken for any finer filter) agrees with the rollup path.
    const viaCalls = listWorkloads(store, {
      filter: { ...r.filter, outcomes: ['ok', 'error', 'fault', 'throttle', 'denied'] },
    });
    t.deepEqual(
      viaCalls.map((p) => [p.name, p.calls, p.distinctActions, p.denied, p.firstSeen, p.lastSeen]),
      rows.map((p) => [p.name, p.calls, p.distinctActions, p.denied, p.firstSeen, p.lastSeen]),
    );
  });
}

const principalFilters: { title: string; filter: CallFilter; expect: [string, number][] }[] = [
  { title: 'by name', filter: { workloads: ['work*'] }, expect: [['worker', 3]] },
  { title: 'by ARN', filter: { workloads: ['arn:aws:lambda:eu-west-1:*'] }, expect: [['api', 5]] },
  { title: 'excluding', filter: { excludeWorkloads: ['api'] }, expect: [['worker', 3]] },
  {
    title: 'by service (calls path)',
    filter: { services: ['DynamoDB'] },
    expect: [
      ['api', 2],
      ['worker', 2],
    ],
  },
  { title: 'by outcome', filter: { outcomes: ['denied'] }, expect: [['api', 1]] },
  { title: 'by action', filter: { actions: ['dynamodb:*get*'] }, expect: [['worker', 2]] },
  { title: 'by region', filter: { regions: ['us-*'] }, expect: [['worker', 3]] },
];
for (const r of principalFilters) {
  test(`principals filtered ${r.title}`, async (t) => {
    const { store } = await fixture;
    t.deepEqual(
      listWorkloads(store, { filter: r.filter }).map((p) => [p.name, p.calls]),
      r.expect,
    );
  });
}

test('principals: distinct actions under an action filter count only matching actions', async (t) => {
  const { store } = await fixture;
  const [w] = listWorkloads(store, { filter: { actions: ['dynamodb:BatchGetItem'] } });
  t.like(w, { name: 'worker', calls: 1, distinctActions: 1 });
});
