import test from 'ava';
import { UserInputError } from '../../src/shared/errors.js';
import { explainEmpty, listCalls } from '../../src/query/calls.js';
import type { CallFilter } from '../../src/query/filters.js';
import { listWorkloads } from '../../src/query/workloads.js';
import { queryTimeline } from '../../src/query/timeline.js';
import { parseGroupBy, queryUsage, type UsageGroup } from '../../src/query/usage.js';
import { openStore } from '../../src/store/db.js';
import { rebuildRollups } from '../../src/store/rollups.js';
import { tempDir } from '../helpers.js';
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

// ---------------------------------------------------------------- usage

test('usage: default rows are workload × action × resource, gaps and unattributed included', async (t) => {
  const { store } = await fixture;
  const rows = queryUsage(store, { filter: {} });
  t.deepEqual(
    rows.map((r) => [r.workload, r.action, r.resource, r.calls, r.errors, r.faults, r.throttles, r.denied]),
    [
      ['api', 'dynamodb:PutItem', 'arn:aws:dynamodb:eu-west-1:123456789012:table/notes', 2, 0, 0, 1, 0],
      ['api', 's3:GetObject', 'arn:aws:s3:::*/*', 2, 0, 0, 0, 1],
      ['(unattributed)', 'dynamodb:PutItem', 'arn:aws:dynamodb:eu-west-1:*:table/notes', 1, 0, 0, 0, 0],
      ['api', '(no permission needed)', null, 1, 0, 0, 0, 0],
      ['worker', 'dynamodb:BatchGetItem', 'arn:aws:dynamodb:us-east-1:222222222222:table/a', 1, 0, 0, 0, 0],
      ['worker', 'dynamodb:BatchGetItem', 'arn:aws:dynamodb:us-east-1:222222222222:table/b', 1, 0, 0, 0, 0],
      ['worker', 'dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:222222222222:table/a', 1, 0, 1, 0, 0],
      ['worker', 'sqs:SendMessage', 'arn:aws:sqs:us-east-1:222222222222:jobs', 1, 1, 0, 0, 0],
    ],
  );
  t.like(rows[0], {
    workloadKey: 'arn:aws:lambda:eu-west-1:123456789012:function:api',
    workloadKind: 'lambda',
    firstSeen: '2026-11-20T10:00:00.000Z',
    lastSeen: '2026-11-20T10:00:01.000Z',
  });
  t.is(rows[2]!.workloadKey, null);
  t.regex(rows[3]!.note ?? '', /needs no permission/);
});

const groupings: { by: UsageGroup[]; expect: unknown[][] }[] = [
  {
    by: ['service'],
    expect: [
      ['dynamodb', 5],
      ['s3', 2],
      ['sqs', 1],
      ['sts', 1],
    ],
  },
  {
    // BatchGetItem needs two permissions but is one call: it counts once per action.
    by: ['action'],
    expect: [
      ['dynamodb:PutItem', 3],
      ['s3:GetObject', 2],
      ['(no permission needed)', 1],
      ['dynamodb:BatchGetItem', 1],
      ['dynamodb:GetItem', 1],
      ['sqs:SendMessage', 1],
    ],
  },
  {
    by: ['outcome'],
    expect: [
      ['ok', 5],
      ['denied', 1],
      ['error', 1],
      ['fault', 1],
      ['throttle', 1],
    ],
  },
  {
    by: ['day'],
    expect: [
      ['2026-11-20', 4],
      ['2026-11-21', 4],
      ['2026-11-22', 1],
    ],
  },
  {
    by: ['workload', 'hour'],
    expect: [
      ['api', '2026-11-20T10:00Z', 2],
      ['(unattributed)', '2026-11-21T02:00Z', 1],
      ['api', '2026-11-21T12:00Z', 1],
      ['api', '2026-11-21T23:00Z', 1],
      ['api', '2026-11-22T00:00Z', 1],
      ['worker', '2026-11-20T12:00Z', 1],
      ['worker', '2026-11-20T13:00Z', 1],
      ['worker', '2026-11-21T01:00Z', 1],
    ],
  },
  {
    by: ['region', 'account'],
    expect: [
      ['eu-west-1', '123456789012', 5],
      ['us-east-1', '222222222222', 3],
      ['eu-west-1', null, 1],
    ],
  },
  {
    by: ['operation'],
    expect: [
      ['dynamodb:PutItem', 3],
      ['s3:GetObject', 2],
      ['dynamodb:BatchGetItem', 1],
      ['dynamodb:GetItem', 1],
      ['sqs:SendMessage', 1],
      ['sts:GetCallerIdentity', 1],
    ],
  },
  {
    by: ['resource'],
    expect: [
      ['arn:aws:dynamodb:eu-west-1:123456789012:table/notes', 2],
      ['arn:aws:dynamodb:us-east-1:222222222222:table/a', 2],
      ['arn:aws:s3:::*/*', 2],
      [null, 1],
      ['arn:aws:dynamodb:eu-west-1:*:table/notes', 1],
      ['arn:aws:dynamodb:us-east-1:222222222222:table/b', 1],
      ['arn:aws:sqs:us-east-1:222222222222:jobs', 1],
    ],
  },
];
for (const g of groupings) {
  test(`usage --group-by ${g.by.join(',')}`, async (t) => {
    const { store } = await fixture;
    const rows = queryUsage(store, { filter: {}, groupBy: g.by });
    const keys = g.by.flatMap((b) => (b === 'region' ? ['region'] : b === 'account' ? ['account'] : [b]));
    t.deepEqual(
      rows.map((r) => [...keys.map((k) => (r as unknown as Record<string, unknown>)[k]), r.calls]),
      g.expect,
    );
    // Only the grouped fields are present, with the metrics.
    t.deepEqual(
      Object.keys(rows[0]!).filter(
        (k) => !['calls', 'errors', 'faults', 'throttles', 'denied', 'firstSeen', 'lastSeen'].includes(k),
      ),
      g.by.flatMap((b) =>
        b === 'workload'
          ? ['workload', 'workloadKey', 'workloadKind']
          : b === 'action'
            ? ['action', 'note']
            : [b],
      ),
    );
  });
}

// Each filter, through usage grouped by principal: calls per workload.
const filters: { title: string; filter: CallFilter; expect: [string, number][] }[] = [
  {
    title: 'since',
    filter: { since: D21 },
    expect: [
      ['api', 3],
      ['(unattributed)', 1],
      ['worker', 1],
    ],
  },
  { title: 'until', filter: { until: D20 + 12 * H }, expect: [['api', 2]] },
  { title: 'principal', filter: { workloads: ['worker'] }, expect: [['worker', 3]] },
  {
    title: 'principal * leaves unattributed out',
    filter: { workloads: ['*'] },
    expect: [
      ['api', 5],
      ['worker', 3],
    ],
  },
  {
    title: 'exclude-principal keeps unattributed',
    filter: { excludeWorkloads: ['api'] },
    expect: [
      ['worker', 3],
      ['(unattributed)', 1],
    ],
  },
  { title: 'service alias', filter: { services: ['SQS'] }, expect: [['worker', 1]] },
  {
    title: 'action, case-insensitive',
    filter: { actions: ['DYNAMODB:PUTITEM'] },
    expect: [
      ['api', 2],
      ['(unattributed)', 1],
    ],
  },
  { title: 'resource', filter: { resources: ['arn:aws:dynamodb:*:table/a'] }, expect: [['worker', 2]] },
  {
    title: 'region',
    filter: { regions: ['eu-*'] },
    expect: [
      ['api', 5],
      ['(unattributed)', 1],
    ],
  },
  { title: 'account', filter: { accounts: ['222222222222'] }, expect: [['worker', 3]] },
  { title: 'outcome', filter: { outcomes: ['error', 'fault'] }, expect: [['worker', 2]] },
  {
    title: 'combined: principal, service and range',
    filter: { workloads: ['api'], services: ['s3'], since: D21 + 12 * H },
    expect: [['api', 2]],
  },
];
for (const f of filters) {
  test(`usage filtered by ${f.title}`, async (t) => {
    const { store } = await fixture;
    t.deepEqual(
      queryUsage(store, { filter: f.filter, groupBy: ['workload'] }).map((r) => [r.workload, r.calls]),
      f.expect,
    );
  });
}

test('usage: an action filter with the action grouping keeps only matching permission rows', async (t) => {
  const { store } = await fixture;
  const rows = queryUsage(store, { filter: { resources: ['*table/b'] }, groupBy: ['action', 'resource'] });
  t.deepEqual(
    rows.map((r) => [r.action, r.resource, r.calls]),
    [['dynamodb:BatchGetItem', 'arn:aws:dynamodb:us-east-1:222222222222:table/b', 1]],
  );
});

const groupByInputs: [string[] | undefined, UsageGroup[]][] = [
  [undefined, ['workload', 'action', 'resource']],
  // `principal` is the first release's name of `workload`.
  [['day,principal'], ['workload', 'day']],
  [
    ['Service', 'outcome,service'],
    ['service', 'outcome'],
  ],
];
for (const [input, expected] of groupByInputs) {
  test(`parseGroupBy ${JSON.stringify(input)}`, (t) => {
    t.deepEqual(parseGroupBy(input), expected);
  });
}

test('parseGroupBy rejects a typo and lists the valid groupings', (t) => {
  const e = t.throws(() => parseGroupBy(['principal,acton']), { instanceOf: UserInputError });
  t.regex(
    e!.message,
    /"acton".*workload, service, action, resource, operation, region, account, outcome, day, hour/,
  );
  t.throws(() => parseGroupBy([',']), { instanceOf: UserInputError });
});

// ---------------------------------------------------------------- calls

test('calls: newest first, limited, with permissions and unattributed calls', async (t) => {
  const { store } = await fixture;
  const rows = listCalls(store, { filter: {}, limit: 4 });
  t.deepEqual(
    rows.map((r) => [r.time, r.workload, r.service, r.operation, r.outcome]),
    [
      ['2026-11-22T00:30:00.000Z', 'api', 's3', 'GetObject', 'denied'],
      ['2026-11-21T23:30:00.000Z', 'api', 's3', 'GetObject', 'ok'],
      ['2026-11-21T12:00:00.000Z', 'api', 'sts', 'GetCallerIdentity', 'ok'],
      ['2026-11-21T02:00:00.000Z', '(unattributed)', 'dynamodb', 'PutItem', 'ok'],
    ],
  );
  t.like(rows[2], { actions: [], resources: [], mapping: 'no-permission' });
  t.like(rows[3], { workloadKey: null, workloadKind: null, httpStatus: 200, via: 'sdk', durationMs: 50 });
  t.is(listCalls(store, { filter: {} }).length, 9);
});

test('calls: a call needing two permissions lists both resources', async (t) => {
  const { store } = await fixture;
  const [c] = listCalls(store, {
    filter: { workloads: ['worker'], services: ['dynamodb'], outcomes: ['ok'] },
  });
  t.deepEqual(c?.actions, ['dynamodb:BatchGetItem']);
  t.deepEqual(c?.resources, [
    'arn:aws:dynamodb:us-east-1:222222222222:table/a',
    'arn:aws:dynamodb:us-east-1:222222222222:table/b',
  ]);
});

// ---------------------------------------------------------------- timeline

test('timeline by day fills every day of the matching calls', async (t) => {
  const { store } = await fixture;
  t.deepEqual(
    queryTimeline(store, { filter: {} }).map((r) => [
      r.start,
      r.calls,
      r.errors,
      r.faults,
      r.throttles,
      r.denied,
    ]),
    [
      ['2026-11-20T00:00:00.000Z', 4, 1, 0, 1, 0],
      ['2026-11-21T00:00:00.000Z', 4, 0, 1, 0, 0],
      ['2026-11-22T00:00:00.000Z', 1, 0, 0, 0, 1],
    ],
  );
});

test('timeline by hour shows empty hours inside the asked range, clipped to the recorded period', async (t) => {
  const { store } = await fixture;
  const rows = queryTimeline(store, {
    filter: { workloads: ['worker'], since: D20 + 11 * H, until: D20 + 15 * H },
    by: 'hour',
  });
  t.deepEqual(
    rows.map((r) => [r.start.slice(11, 16), r.calls]),
    [
      ['11:00', 0],
      ['12:00', 1],
      ['13:00', 1],
      ['14:00', 0],
    ],
  );
  // A range far wider than the data stops at the first and last recorded call.
  const wide = queryTimeline(store, { filter: { since: D20 - 30 * 86400, until: D22 + 30 * 86400 } });
  t.deepEqual(
    wide.map((r) => r.start.slice(0, 10)),
    ['2026-11-20', '2026-11-21', '2026-11-22'],
  );
});

test('timeline refuses more buckets than a chart can show', async (t) => {
  const { store } = await fixtureStore(); // modified below: not the shared one
  store.prepare('UPDATE calls SET start_time = start_time - 400 * 86400 WHERE outcome = ?').run('fault');
  rebuildRollups(store); // the rollups follow the calls, as ingest keeps them
  t.throws(() => queryTimeline(store, { filter: {}, by: 'hour' }), {
    instanceOf: UserInputError,
    message: /at most 5000\. Narrow --since\/--until or use --by day/,
  });
  t.is(queryTimeline(store, { filter: {}, by: 'day' }).length, 402);
});

test('timeline of nothing is empty', async (t) => {
  const { store } = await fixture;
  t.deepEqual(queryTimeline(store, { filter: { workloads: ['nobody'] } }), []);
});

// ---------------------------------------------------------------- empty results

test('explainEmpty says why: empty database, range outside the period, or no match', async (t) => {
  const { store } = await fixture;
  const empty = openStore({ path: `${tempDir()}/e.db` });
  t.regex(
    explainEmpty(empty, {}, 'calls'),
    /^No calls: the database holds no calls yet\. Run `xray-lp ingest <dump>` first\.$/,
  );
  empty.close();
  t.is(
    explainEmpty(store, { since: D22 + 86400 }, 'calls'),
    'No calls: the range (since 2026-11-23T00:00:00.000Z) is outside the recorded period 2026-11-20T10:00:00.000Z … 2026-11-22T00:30:00.000Z.',
  );
  t.is(
    explainEmpty(store, { workloads: ['nobody'] }, 'calls'),
    'No calls match (workload nobody); the recorded period is 2026-11-20T10:00:00.000Z … 2026-11-22T00:30:00.000Z.',
  );
});
