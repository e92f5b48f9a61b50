import path from 'node:path';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { commonPathPrefix, generaliseArn } from '../../src/policy/to-grant.js';
import { buildStatements, compactSize } from '../../src/policy/statements.js';
import { globMatch as iamGlobMatch } from '../../src/iam/glob.js';
import { buildPolicies, type PolicyDocument, type PolicyOptions } from '../../src/policy/build.js';
import { parseRoleMap } from '../../src/granted/roles.js';
import type { Store } from '../../src/store/db.js';
import type { CallFilter } from '../../src/store/filter.js';
import { oracleAllows } from '../support/oracle.js';
import {
  awsCall,
  batch,
  lambdaSegment,
  repoRoot,
  tempStore,
  traceId,
  writeFile,
  independentCall,
} from '../support/helpers.js';

const samples = path.join(repoRoot, 'samples/traces');
let sampleStore: Store;

test.before(async () => {
  sampleStore = tempStore().store;
  const s = await ingest(sampleStore, { inputs: [samples] });
  if (s.rejected > 0) throw new Error('samples did not ingest');
});

/** Asks the AGPL oracle (devDependency only) whether `doc` allows the request. */
const allows = (doc: PolicyDocument, action: string, resource: string, account: string): Promise<boolean> =>
  oracleAllows(doc, action, resource, account);

const accountOf = (arn: string, fallback: string): string =>
  /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(arn)?.[1] ?? fallback;
/** A concrete resource for a pattern (the oracle needs a real ARN). */
const concrete = (arn: string): string => arn.replace(/\*/g, 'probe').replace(/\?/g, 'x');

test('every selected call of every workload, but those only ever denied, is allowed by its policy (oracle: iam-simulate)', async (t) => {
  const { policies } = buildPolicies(sampleStore, { filter: {} });
  t.is(policies.length, 5);
  let checked = 0;
  for (const p of policies) {
    const rows = sampleStore
      .prepare(
        `SELECT DISTINCT tp.action, tp.resource FROM calls c JOIN target_permissions tp ON tp.target_id = c.target_id JOIN workloads pr ON pr.id = c.workload_id
         WHERE coalesce(pr.arn, pr.key) = ? AND c.outcome <> 'denied'`,
      )
      .all(p.principal) as { action: string; resource: string }[];
    for (const r of rows) {
      const resource = concrete(r.resource);
      t.true(
        await allows(p.document, r.action, resource, accountOf(resource, p.account ?? '123456789012')),
        `${p.name}: ${r.action} on ${resource}`,
      );
      checked++;
    }
  }
  t.true(checked > 20);
});

test('policies deny probes they should not allow: other actions, other resources, other accounts and regions', async (t) => {
  const { policies } = buildPolicies(sampleStore, { filter: {} });
  const orders = policies.find((p) => p.name === 'orders-api')!;
  const table = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders';
  const probes: [string, string, string, boolean][] = [
    ['dynamodb:GetItem', table, '123456789012', true],
    ['dynamodb:DeleteTable', table, '123456789012', false],
    ['dynamodb:Scan', table, '123456789012', false],
    [
      'dynamodb:GetItem',
      'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-archive',
      '123456789012',
      false,
    ],
    ['dynamodb:GetItem', 'arn:aws:dynamodb:eu-west-1:999999999999:table/orders', '999999999999', false],
    ['dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/orders', '123456789012', false],
    [
      'dynamodb:Query',
      'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-customer',
      '123456789012',
      true,
    ],
    [
      'dynamodb:Query',
      'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/other',
      '123456789012',
      false,
    ],
    ['sqs:DeleteMessage', 'arn:aws:sqs:eu-west-1:123456789012:order-jobs', '123456789012', false],
    ['sns:Publish', 'arn:aws:sns:eu-west-1:123456789012:other-topic', '123456789012', false],
  ];
  for (const [action, resource, account, expected] of probes) {
    t.is(await allows(orders.document, action, resource, account), expected, `${action} on ${resource}`);
  }
  const thumbs = policies.find((p) => p.name === 'thumbnailer')!;
  t.true(
    await allows(
      thumbs.document,
      's3:GetObject',
      'arn:aws:s3:::uploads/incoming/2026/11/img-999.jpg',
      '123456789012',
    ),
  );
  t.false(
    await allows(thumbs.document, 's3:GetObject', 'arn:aws:s3:::uploads/private/secret.txt', '123456789012'),
  );
  t.false(
    await allows(
      thumbs.document,
      's3:DeleteObject',
      'arn:aws:s3:::uploads/incoming/2026/11/img-001.jpg',
      '123456789012',
    ),
  );
});

test('--account-wildcard and --region-wildcard widen exactly those fields', async (t) => {
  const wide = buildPolicies(sampleStore, {
    filter: { workloads: ['orders-api'] },
    accountWildcard: true,
    regionWildcard: true,
  }).policies[0]!;
  t.true(
    await allows(
      wide.document,
      'dynamodb:GetItem',
      'arn:aws:dynamodb:us-east-1:999999999999:table/orders',
      '999999999999',
    ),
  );
  t.false(
    await allows(
      wide.document,
      'dynamodb:GetItem',
      'arn:aws:dynamodb:us-east-1:999999999999:table/other',
      '999999999999',
    ),
  );
  const acct = buildPolicies(sampleStore, { filter: { workloads: ['orders-api'] }, accountWildcard: true })
    .policies[0]!;
  t.true(
    await allows(
      acct.document,
      'dynamodb:GetItem',
      'arn:aws:dynamodb:eu-west-1:999999999999:table/orders',
      '999999999999',
    ),
  );
  t.false(
    await allows(
      acct.document,
      'dynamodb:GetItem',
      'arn:aws:dynamodb:us-east-1:999999999999:table/orders',
      '999999999999',
    ),
  );
});

test('output is deterministic: same options, and ingest order, give byte-identical policies', async (t) => {
  const a = JSON.stringify(buildPolicies(sampleStore, { filter: {} }));
  const b = JSON.stringify(buildPolicies(sampleStore, { filter: {} }));
  t.is(a, b);
  const other = tempStore().store;
  const files = [
    'pipeline.json',
    'reports-us-east-1.json.gz',
    'thumbnailer-2018.json',
    'orders-2023.json',
  ].map((f) => path.join(samples, f));
  await ingest(other, { inputs: files });
  t.is(
    JSON.stringify(buildPolicies(other, { filter: {} }).policies.map((p) => p.documents)),
    JSON.stringify(JSON.parse(a).policies.map((p: { documents: unknown }) => p.documents)),
  );
});

test('only valid policy grammar: Version and Statement, Sids alphanumeric and unique', (t) => {
  for (const p of buildPolicies(sampleStore, { filter: {} }).policies) {
    t.deepEqual(Object.keys(p.document), ['Version', 'Statement']);
    const sids = p.document.Statement.map((s) => s.Sid);
    t.true(sids.every((s) => /^[A-Za-z0-9]+$/.test(s)));
    t.is(new Set(sids).size, sids.length);
    t.is(p.size, JSON.stringify(p.document).length);
  }
});

test('denied permissions are left out by default and listed with their evidence; --include-denied grants them', (t) => {
  const exc = buildPolicies(sampleStore, { filter: { workloads: ['orders-api'] } }).policies[0]!;
  t.false(exc.document.Statement.some((s) => s.Action.includes('dynamodb:DeleteItem')));
  const w = exc.warnings.find((x) => x.code === 'denied' && x.action === 'dynamodb:DeleteItem')!;
  t.truthy(w);
  t.regex(w.message, /LEFT OUT/);
  t.regex(w.detail ?? '', /denied 1 of 1 call, AccessDenied in trace 1-/);
  const inc = buildPolicies(sampleStore, { filter: { workloads: ['orders-api'] }, includeDenied: true })
    .policies[0]!;
  t.true(inc.document.Statement.some((s) => s.Action.includes('dynamodb:DeleteItem')));
  t.regex(
    inc.warnings.find((x) => x.code === 'denied' && x.action === 'dynamodb:DeleteItem')!.message,
    /GRANTED/,
  );
  const ev = inc.evidence.flatMap((e) => e.actions).find((a) => a.action === 'dynamodb:DeleteItem')!;
  t.is(ev.denied, 1);
  t.true(ev.sampleTraceIds.length >= 1 && ev.sampleTraceIds.length <= 3);
});

test('unknown resources get the narrowest wildcard and a warning; omit leaves them out', (t) => {
  const inc = buildPolicies(sampleStore, { filter: { workloads: ['billing-worker'] } }).policies[0]!;
  const secret = inc.document.Statement.find((s) => s.Action.includes('secretsmanager:GetSecretValue'))!;
  t.deepEqual(secret.Resource, ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:*']);
  t.truthy(inc.warnings.find((w) => w.code === 'resource-unknown' && /allow-list/.test(w.message)));
  const omit = buildPolicies(sampleStore, {
    filter: { workloads: ['billing-worker'] },
    unknownResources: 'omit',
  }).policies[0]!;
  t.false(omit.document.Statement.some((s) => s.Action.includes('secretsmanager:GetSecretValue')));
  t.truthy(omit.warnings.find((w) => w.code === 'omitted-unknown'));
});

test('calls that map to no action are warnings, not silently dropped', (t) => {
  const p = buildPolicies(sampleStore, { filter: { workloads: ['billing-worker'] } }).policies[0]!;
  t.truthy(p.warnings.find((w) => w.code === 'unmapped' && /kms\.eu-west-1\.amazonaws\.com/.test(w.message)));
});

/** A database with one function making the given calls. */
async function scenario(calls: Record<string, unknown>[]): Promise<Store> {
  const { store, dir } = tempStore();
  const id = traceId(42);
  await ingest(store, {
    inputs: [writeFile(dir, 'd.json', batch([{ id, segments: [lambdaSegment(id, 'fn', calls)] }]))],
  });
  return store;
}

const s3calls = [
  awsCall('S3', 'GetObject', { bucket_name: 'data', key: 'in/2026/a.csv' }),
  awsCall('S3', 'GetObject', { bucket_name: 'data', key: 'in/2025/b.csv' }),
  awsCall('S3', 'PutObject', { bucket_name: 'data', key: 'out/r.csv' }),
  awsCall('S3', 'GetObject', { bucket_name: 'other', key: 'top.txt' }),
];
const s3cases: [PolicyOptions['s3Objects'], [string, string[]][]][] = [
  [
    'exact',
    [
      [
        's3:GetObject',
        ['arn:aws:s3:::data/in/2025/b.csv', 'arn:aws:s3:::data/in/2026/a.csv', 'arn:aws:s3:::other/top.txt'],
      ],
      ['s3:PutObject', ['arn:aws:s3:::data/out/r.csv']],
    ],
  ],
  [
    'prefix',
    [
      ['s3:GetObject', ['arn:aws:s3:::data/in/*', 'arn:aws:s3:::other/*']],
      ['s3:PutObject', ['arn:aws:s3:::data/out/*']],
    ],
  ],
  [
    'bucket',
    [
      ['s3:GetObject', ['arn:aws:s3:::data/*', 'arn:aws:s3:::other/*']],
      ['s3:PutObject', ['arn:aws:s3:::data/*']],
    ],
  ],
];
for (const [scope, expected] of s3cases) {
  test(`--s3-objects ${scope}`, async (t) => {
    const store = await scenario(s3calls);
    // Observed grants only: the run-time needs are test/runtime/needs.test.ts's subject.
    const p = buildPolicies(store, { filter: {}, s3Objects: scope, runtime: 'none' }).policies[0]!;
    const got = new Map<string, string[]>();
    for (const s of p.document.Statement)
      for (const a of s.Action) got.set(a, [...(got.get(a) ?? []), ...s.Resource].sort());
    t.deepEqual([...got.entries()].sort(), expected);
  });
}

test('--placeholders writes CloudFormation pseudo parameters', async (t) => {
  const store = await scenario([awsCall('DynamoDB', 'GetItem', { table_name: 't' })]);
  const p = buildPolicies(store, { filter: {}, placeholders: true }).policies[0]!;
  t.deepEqual(p.document.Statement[0]!.Resource, [
    'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/t',
  ]);
  t.truthy(p.warnings.find((w) => w.code === 'placeholders'));
});

test('--max-size splits into policies that together grant the same', async (t) => {
  const calls = Array.from({ length: 60 }, (_, i) =>
    awsCall('DynamoDB', i % 2 ? 'GetItem' : 'PutItem', { table_name: `table-number-${i}` }),
  );
  const store = await scenario(calls);
  const whole = buildPolicies(store, { filter: {} }).policies[0]!;
  const parts = buildPolicies(store, { filter: {}, maxSize: 1000 }).policies[0]!;
  t.is(whole.documents.length, 1);
  t.true(parts.documents.length > 1);
  for (const d of parts.documents) t.true(compactSize(d) <= 1000);
  const pairs = (docs: PolicyDocument[]): string[] =>
    docs
      .flatMap((d) => d.Statement.flatMap((s) => s.Action.flatMap((a) => s.Resource.map((r) => `${a} ${r}`))))
      .sort();
  t.deepEqual(pairs(parts.documents), pairs(whole.documents));
  t.truthy(parts.warnings.find((w) => w.code === 'split'));
});

test('size warnings above the managed and inline limits', async (t) => {
  const calls = Array.from({ length: 120 }, (_, i) =>
    awsCall('DynamoDB', 'GetItem', { table_name: `a-fairly-long-table-name-for-size-testing-${i}` }),
  );
  const p = buildPolicies(await scenario(calls), { filter: {} }).policies[0]!;
  t.true(p.size > 6144);
  t.truthy(p.warnings.find((w) => w.code === 'size-managed' || w.code === 'size-inline'));
});

test('--by role merges functions that share a role and reports them', async (t) => {
  const { store, dir } = tempStore();
  const t1 = traceId(50);
  const t2 = traceId(51);
  const t3 = traceId(52);
  await ingest(store, {
    inputs: [
      writeFile(
        dir,
        'd.json',
        batch([
          {
            id: t1,
            segments: [
              lambdaSegment(t1, 'a', [
                awsCall('SQS', 'SendMessage', {
                  queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
                }),
              ]),
            ],
          },
          {
            id: t2,
            segments: [lambdaSegment(t2, 'b', [awsCall('DynamoDB', 'GetItem', { table_name: 't' })])],
          },
          {
            id: t3,
            segments: [
              lambdaSegment(t3, 'c', [
                awsCall('SNS', 'Publish', { topic_arn: 'arn:aws:sns:eu-west-1:123456789012:x' }),
              ]),
            ],
          },
        ]),
      ),
    ],
  });
  const roles = parseRoleMap(
    JSON.stringify({
      Functions: [
        {
          FunctionName: 'a',
          FunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:a',
          Role: 'arn:aws:iam::123456789012:role/shared',
        },
        {
          FunctionName: 'b',
          FunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:b',
          Role: 'arn:aws:iam::123456789012:role/shared',
        },
      ],
    }),
    'roles.json',
  );
  // Observed grants only (a role's union of run-time needs: test/runtime/needs.test.ts).
  const r = buildPolicies(store, { filter: {}, roles, runtime: 'none' });
  t.deepEqual(r.sharedRoles, [
    {
      role: 'arn:aws:iam::123456789012:role/shared',
      functions: [
        'arn:aws:lambda:eu-west-1:123456789012:function:a',
        'arn:aws:lambda:eu-west-1:123456789012:function:b',
      ],
    },
  ]);
  t.deepEqual(r.unmatched, ['arn:aws:lambda:eu-west-1:123456789012:function:c']);
  const shared = r.policies.find((p) => p.kind === 'role')!;
  t.deepEqual(shared.document.Statement.flatMap((s) => s.Action).sort(), [
    'dynamodb:GetItem',
    'sqs:SendMessage',
  ]);
});

test('the roles file accepts a plain map and rejects junk with a hint', (t) => {
  t.deepEqual([...parseRoleMap('{"fn": "arn:aws:iam::1:role/r"}', 'x')], [['fn', 'arn:aws:iam::1:role/r']]);
  t.throws(() => parseRoleMap('not json', 'x'), { message: /list-functions/ });
  t.throws(() => parseRoleMap('{"Functions": []}', 'x'), { message: /no function/ });
});

test('statements never widen: each is an exact block of the action × resource relation', (t) => {
  const grants = [
    { action: 'a:X', resource: 'r1' },
    { action: 'a:Y', resource: 'r1' },
    { action: 'a:X', resource: 'r2' },
    { action: 'a:Y', resource: 'r2' },
    { action: 'a:Z', resource: 'r3' },
    { action: 'a:X', resource: 'r4' },
  ];
  const st = buildStatements(grants);
  const granted = st.flatMap((s) => s.Action.flatMap((a) => s.Resource.map((r) => `${a} ${r}`))).sort();
  t.deepEqual(granted, grants.map((g) => `${g.action} ${g.resource}`).sort());
  t.is(st.length, 3);
});

test('helpers: common path prefix, ARN generalisation, IAM glob', (t) => {
  t.is(commonPathPrefix(['a/b/c.txt', 'a/b/d/e.txt']), 'a/b/');
  t.is(commonPathPrefix(['ab.txt', 'ac.txt']), '');
  t.is(commonPathPrefix(['only/one.txt']), 'only/');
  t.is(
    generaliseArn('arn:aws:sqs:eu-west-1:123456789012:q', { accountWildcard: true }),
    'arn:aws:sqs:eu-west-1:*:q',
  );
  t.is(
    generaliseArn('arn:aws:s3:::b/k', { accountWildcard: true, regionWildcard: true }),
    'arn:aws:s3:::b/k',
  );
  t.true(iamGlobMatch('arn:aws:s3:::b/in/*', 'arn:aws:s3:::b/in/x/y'));
  t.false(iamGlobMatch('arn:aws:s3:::b/in/*', 'arn:aws:s3:::b/out'));
  t.true(iamGlobMatch('a?c', 'abc'));
});

/** Policies read through the rollups and through the calls themselves, side by side. */
function bothPaths(store: Store, filter: CallFilter, includeDenied = false): [unknown, unknown] {
  const rollup = buildPolicies(store, { filter, includeDenied });
  const direct = buildPolicies(store, { filter, includeDenied, source: 'calls' });
  return [rollup, direct];
}

const rollupCases: [string, CallFilter, boolean][] = [
  ['everything', {}, false],
  [
    'whole days',
    { since: Date.parse('2026-11-18T00:00:00Z') / 1000, until: Date.parse('2026-11-21T00:00:00Z') / 1000 },
    false,
  ],
  [
    'partial days at both ends',
    { since: Date.parse('2026-11-18T07:30:00Z') / 1000, until: Date.parse('2026-11-21T13:15:00Z') / 1000 },
    false,
  ],
  [
    'within one day',
    { since: Date.parse('2026-11-19T06:00:00Z') / 1000, until: Date.parse('2026-11-19T18:00:00Z') / 1000 },
    false,
  ],
  ['outcomes', { outcomes: ['ok', 'denied'] }, false],
  ['one workload', { workloads: ['orders-api'] }, false],
  ['excluding a workload', { excludeWorkloads: ['orders-api'] }, false],
  ['service and region', { services: ['dynamodb'], regions: ['eu-west-1'] }, false],
  ['action and resource patterns', { actions: ['s3:*'], resources: ['arn:aws:s3:::uploads/*'] }, false],
  ['account', { accounts: ['210987654321'] }, false],
  ['without denied calls', {}, true],
];
for (const [name, filter, excludeDenied] of rollupCases) {
  test(`policy usage from the daily rollup equals usage from calls: ${name}`, (t) => {
    const [rollup, direct] = bothPaths(sampleStore, filter, excludeDenied);
    t.deepEqual(rollup, direct);
    t.true((rollup as { policies: unknown[] }).policies.length > 0);
  });
}

test('the daily target rollup follows re-ingests, in-progress replacement and late attribution', async (t) => {
  const id = traceId(77);
  const seg = lambdaSegment(id, 'fn', [awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' })]);
  const indep = independentCall(seg, awsCall('DynamoDB', 'PutItem', { table_name: 't' }));
  const partial = { ...seg, end_time: undefined, in_progress: true, subsegments: [] };
  const { store, dir } = tempStore();
  for (const [name, doc] of [
    ['i.json', indep],
    ['p.json', partial],
    ['s.json', seg],
    ['s2.json', seg],
  ] as const) {
    await ingest(store, { inputs: [writeFile(dir, name, JSON.stringify(doc))] });
    const [rollup, direct] = bothPaths(store, {});
    t.deepEqual(rollup, direct, `after ${name}`);
  }
  const final = buildPolicies(store, { filter: {}, runtime: 'none' })
    .policies.flatMap((p) => p.evidence.flatMap((e) => e.actions.map((a) => `${a.action} ${a.calls}`)))
    .sort();
  t.deepEqual(final, ['dynamodb:PutItem 1', 's3:GetObject 1']);
});

test('a workload in a newer partition gets a policy with that partition in every ARN', async (t) => {
  const id = traceId(4242);
  const seg = lambdaSegment(
    id,
    'eu-sovereign',
    [
      awsCall('DynamoDB', 'GetItem', { table_name: 'orders', region: 'eusc-de-east-1' }),
      awsCall('SQS', 'SendMessage', {
        region: 'eusc-de-east-1',
        queue_url: 'https://sqs.eusc-de-east-1.amazonaws.eu/123456789012/jobs',
      }),
    ],
    { region: 'eusc-de-east-1' },
  );
  const { store, dir } = tempStore();
  await ingest(store, { inputs: [writeFile(dir, 'eusc.json', batch([{ id, segments: [seg] }]))] });
  const [p] = buildPolicies(store, { filter: {} }).policies;
  t.is(p?.principal, 'arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:eu-sovereign');
  // The run-time needs too: the function's log group in its partition, and X-Ray's `*`.
  t.deepEqual(p?.document.Statement.flatMap((s) => s.Resource).sort(), [
    '*',
    'arn:aws-eusc:dynamodb:eusc-de-east-1:123456789012:table/orders',
    'arn:aws-eusc:logs:eusc-de-east-1:123456789012:log-group:/aws/lambda/eu-sovereign',
    'arn:aws-eusc:logs:eusc-de-east-1:123456789012:log-group:/aws/lambda/eu-sovereign:*',
    'arn:aws-eusc:sqs:eusc-de-east-1:123456789012:jobs',
  ]);
});
