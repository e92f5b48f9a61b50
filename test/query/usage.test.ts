/** Grouped usage (src/query/usage.ts), on the shared query fixture. */
import test from 'ava';
import { UserInputError } from '../../src/shared/errors.js';
import type { CallFilter } from '../../src/query/filters.js';
import { parseGroupBy, queryUsage, type UsageGroup } from '../../src/query/usage.js';
import { D20, D21, fixtureStore, H } from './fixture.js';

const fixture = fixtureStore();

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
