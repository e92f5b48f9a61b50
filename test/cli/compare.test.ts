import path from 'node:path';
import fs from 'node:fs';
import test from 'ava';
import type { CompareResult } from '../../src/compare/compare.js';
import { FIXTURE_ROLE, fixtureRoleDetails } from '../support/cloudtrail.js';
import { cli, fixturesDir, repoRoot, tempDir } from '../support/helpers.js';

const g = (f: string): string => path.join(repoRoot, 'samples/granted', f);
let db: string;
test.before(async () => {
  db = path.join(tempDir(), 'c.db');
  const r = await cli(['--db', db, 'ingest', path.join(repoRoot, 'samples/traces')]);
  if (r.code !== 0) throw new Error(r.err);
});

/** Runs `xray-lp compare` on the sample database. */
const compare = (args: string[]): ReturnType<typeof cli> => cli(['--db', db, 'compare', ...args]);

test('table: names what to remove; --check exits 4', async (t) => {
  const r = await compare(['--granted', g('over-broad-policy.json'), '--principal', 'orders-api', '--check']);
  t.is(r.code, 4);
  t.regex(
    r.out,
    /orders-api \(lambda\) as .*over-broad-policy\.json: uses 8 of \d+ granted actions \(\d+%\)/,
  );
  t.regex(
    r.out,
    /Remove \(granted, never used\):\n {4}\[risk critical: resource exposure: [^\]]+\] dynamodb:\* on \* \[.*#1 \(AllDynamoDB\)\]: \d+ of \d+ actions unused: dynamodb:AssociateTableReplica/,
  );
  t.regex(r.err, /check failed: orders-api has unused or missing permissions/);
});

test('without --check the exit code is 0', async (t) => {
  const r = await compare(['--granted', g('over-broad-policy.json'), '--principal', 'orders-api']);
  t.is(r.code, 0);
});

test('--json: the documented shape', async (t) => {
  const r = await compare([
    '--json',
    '--allow-unused',
    'logs:*',
    '--granted',
    g('account-123456789012.json'),
    g('account-210987654321.json'),
    g('functions-eu-west-1.json'),
    g('functions-us-east-1.json'),
  ]);
  t.is(r.code, 0, r.err);
  const j = JSON.parse(r.out) as CompareResult;
  t.deepEqual(Object.keys(j), ['workloads', 'unmatchedWorkloads', 'unmatchedRoles', 'passed']);
  const w = j.workloads[0];
  t.deepEqual(Object.keys(w ?? {}), [
    'principal',
    'kind',
    'name',
    'account',
    'role',
    'granted',
    'used',
    'headline',
    'unused',
    'missing',
    'conditional',
    'unverifiable',
    'deniedAtRuntime',
    'runtimeNeeds',
    'notes',
    'risk',
    'passes',
  ]);
  t.deepEqual(Object.keys(w?.unused[0] ?? {}), [
    'policy',
    'sid',
    'statement',
    'action',
    'resource',
    'conditional',
    'granted',
    'unused',
    'allowedUnused',
    'runtime',
    'used',
    'usedResources',
    'risk',
    'risky',
    'riskyCount',
  ]);
  t.deepEqual(Object.keys(w?.runtimeNeeds[0] ?? {}), [
    'action',
    'resource',
    'origin',
    'rule',
    'why',
    'source',
    'possible',
    'granted',
  ]);
  t.deepEqual(j.unmatchedWorkloads.map((u) => u.name).sort(), ['billing-worker', 'order-pipeline']);
});

test('--markdown for a review ticket', async (t) => {
  const r = await compare([
    '--markdown',
    '--granted',
    g('account-123456789012.json'),
    g('functions-eu-west-1.json'),
  ]);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /^# Granted vs used permissions\n/);
  t.regex(
    r.out,
    /\| orders-api \| orders-api-role \| \d+ \| 8 \| \d+ \| (none|low|medium|high|critical) \| 1 \| 0 \| \*\*FAIL\*\* \|/,
  );
  t.regex(
    r.out,
    /### Missing \(used, not granted\)[\s\S]*`dynamodb:DeleteItem`.*denied by inline:orders-api #2 \(NoDeletes\)/,
  );
  t.regex(r.out, /## Not compared\n\n[\s\S]*- billing-worker \(ecs\)/);
});

test('--role with the shared workload filters', async (t) => {
  const r = await compare([
    '--granted',
    g('account-123456789012.json'),
    '--principal',
    'billing-worker',
    '--role',
    'billing-worker-task-role',
    '--json',
  ]);
  t.is(r.code, 0, r.err);
  const j = JSON.parse(r.out) as CompareResult;
  t.deepEqual(
    j.workloads.map((w) => [w.name, w.role.name, w.role.matchedBy]),
    [['billing-worker', 'billing-worker-task-role', 'role-option']],
  );
});

const errors: { name: string; args: string[]; message: RegExp }[] = [
  {
    name: 'malformed file',
    args: ['--granted', path.join(fixturesDir, 'granted/not-json.json')],
    message: /--granted .*not-json\.json: not JSON/,
  },
  {
    name: 'resource policy',
    args: ['--granted', path.join(fixturesDir, 'granted/bucket-policy.json')],
    message: /has a Principal/,
  },
  {
    name: 'missing file',
    args: ['--granted', '/nonexistent/p.json'],
    message: /--granted \/nonexistent\/p\.json: ENOENT/,
  },
  {
    name: 'unknown role',
    args: ['--granted', g('account-123456789012.json'), '--role', 'nope'],
    message: /--role "nope" is not in the --granted files/,
  },
  {
    name: 'json and markdown',
    args: ['--granted', g('over-broad-policy.json'), '--json', '--markdown'],
    message: /exclude each other/,
  },
  {
    name: 'bad time filter',
    args: ['--granted', g('over-broad-policy.json'), '--since', 'yesterday'],
    message: /--since "yesterday" is not a time/,
  },
];
for (const e of errors)
  test(`exit 2: ${e.name}`, async (t) => {
    const r = await compare([...e.args]);
    t.is(r.code, 2);
    t.regex(r.err, e.message);
  });

test('--check with nothing selected fails rather than passing silently', async (t) => {
  const r = await compare(['--granted', g('over-broad-policy.json'), '--since', '2099-01-01', '--check']);
  t.is(r.code, 4);
  t.regex(r.out, /No calls match/);
});

/**
 * orders-api's own permissions (it uses exactly these, so nothing is missing or unused) and,
 * unused, the grants of the `extra` statements.
 */
function riskPolicy(extra: object[]): string {
  const file = path.join(tempDir(), 'risk-policy.json');
  const doc = JSON.parse(fs.readFileSync(g('over-broad-policy.json'), 'utf8')) as { Statement: object[] };
  doc.Statement.splice(
    0,
    1,
    {
      Sid: 'Orders',
      Effect: 'Allow',
      Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders',
    },
    {
      Sid: 'ByCustomer',
      Effect: 'Allow',
      Action: 'dynamodb:Query',
      Resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/index/by-customer',
    },
  );
  doc.Statement.push(...extra);
  fs.writeFileSync(file, JSON.stringify(doc));
  return file;
}
const PASS_ROLE = { Sid: 'PassAny', Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' };
const READ_ALL = { Sid: 'ReadAll', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };
const SECRETS = {
  Sid: 'OneSecret',
  Effect: 'Allow',
  Action: 'secretsmanager:GetSecretValue',
  Resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf',
};
const DESCRIBE = {
  Sid: 'Describe',
  Effect: 'Allow',
  Action: 'sqs:GetQueueAttributes',
  Resource: 'arn:aws:sqs:eu-west-1:123456789012:order-jobs',
};

test('--json: unused grants are ordered by risk, each saying which of its actions are risky', async (t) => {
  const r = await compare([
    '--json',
    '--runtime',
    'none',
    '--principal',
    'orders-api',
    '--granted',
    riskPolicy([DESCRIBE, SECRETS, READ_ALL, PASS_ROLE]),
  ]);
  t.is(r.code, 0, r.err);
  const w = (JSON.parse(r.out) as CompareResult).workloads[0]!;
  t.deepEqual(w.missing, []);
  t.deepEqual(
    w.unused.filter((u) => u.unused.length > 0).map((u) => [u.action, u.risk]),
    [
      ['iam:PassRole', 'critical'],
      ['s3:GetObject', 'high'],
      ['secretsmanager:GetSecretValue', 'low'],
      ['sqs:GetQueueAttributes', 'none'],
    ],
  );
  t.is(w.risk, 'critical');
  t.deepEqual(
    w.unused[0]!.risky.map((x) => [x.action, x.classes[0], x.scope]),
    [['iam:PassRole', 'privilege-escalation', 'all']],
  );
  t.deepEqual(w.unused[3]!.risky, []);
});

test('table: the riskiest unused grant comes first and says why', async (t) => {
  const r = await compare([
    '--runtime',
    'none',
    '--principal',
    'orders-api',
    '--granted',
    riskPolicy([DESCRIBE, PASS_ROLE]),
  ]);
  t.is(r.code, 0, r.err);
  t.regex(
    r.out,
    /Remove \(granted, never used\):\n {4}\[risk critical: privilege escalation: iam:PassRole\] iam:PassRole on \* \[.*#6 \(PassAny\)\]: never used\n {4}sqs:GetQueueAttributes/,
  );
  t.regex(r.out, /│ risk +│/);
});

// --check --max-risk LEVEL is a gate: unused grants below LEVEL pass (exit 0), at or above fail (4).
const gate: [string, object[], string | undefined, number][] = [
  ['an unused PassRole on * is critical', [PASS_ROLE], 'critical', 4],
  ['s3:GetObject on * is high: a critical gate passes', [READ_ALL], 'critical', 0],
  ['s3:GetObject on * is high: a high gate fails', [READ_ALL], 'high', 4],
  ['one secret is low: a medium gate passes', [SECRETS, DESCRIBE], 'medium', 0],
  ['one secret is low: a low gate fails', [SECRETS], 'low', 4],
  ['a grant with no risk class passes a low gate', [DESCRIBE], 'low', 0],
  ['without --max-risk any unused grant fails', [DESCRIBE], undefined, 4],
  ['nothing unused passes', [], undefined, 0],
];
for (const [name, extra, level, code] of gate)
  test(`--check --max-risk ${level ?? '(none)'}: ${name} (exit ${code})`, async (t) => {
    const r = await compare([
      '--runtime',
      'none',
      '--principal',
      'orders-api',
      '--check',
      ...(level ? ['--max-risk', level] : []),
      '--granted',
      riskPolicy(extra),
    ]);
    t.is(r.code, code, r.err);
    if (code === 0) t.is(r.err, '');
    else if (level) t.regex(r.err, new RegExp(`unused grants of risk ${level} or higher`));
  });

test('--max-risk names the levels when given another', async (t) => {
  const r = await compare(['--granted', g('over-broad-policy.json'), '--check', '--max-risk', 'severe']);
  t.not(r.code, 0);
  t.regex(r.err, /none, low, medium, high, critical/);
});

test('a database of CloudTrail records only: the role is compared with itself, outside calls named; nothing selected is not "empty"', async (t) => {
  const dir = tempDir();
  const ct = path.join(dir, 'ct.db');
  const role = FIXTURE_ROLE;
  const ingested = await cli([
    '--db',
    ct,
    'ingest',
    path.join(repoRoot, 'test/fixtures/cloudtrail/records.json'),
  ]);
  t.is(ingested.code, 0, ingested.err);
  const details = fixtureRoleDetails(dir, ['dynamodb:GetItem', 'ecr:DescribeRepositories']);
  const cases: { args: string[]; out: RegExp; notOut?: RegExp }[] = [
    {
      args: ['--workload', `role:${role}`],
      out: /orders-fn-role \(role\) as arn:aws:iam::123456789012:role\/orders-fn-role: uses 1 of 2 granted actions[\s\S]*ecr:DescribeRepositories on \*[\s\S]*credentials used outside the workload: 4 calls .* from 198\.51\.100\.77/,
    },
    { args: ['--since', '2099-01-01'], out: /No calls match/, notOut: /database is empty/ },
    // The reviewer knows the laptop's calls are theirs: counted as used, still named.
    {
      args: ['--workload', `role:${role}`, '--include-outside'],
      out: /uses 2 of 2 granted actions[\s\S]*credentials used outside the workload: 4 calls .* from 198\.51\.100\.77.*COUNTED AS USED \(--include-outside\)/,
      notOut: /ecr:DescribeRepositories on \*.*never used/,
    },
  ];
  for (const c of cases) {
    const r = await cli(['--db', ct, 'compare', '--granted', details, ...c.args]);
    t.is(r.code, 0, r.err);
    t.regex(r.out, c.out);
    if (c.notOut) t.notRegex(r.out, c.notOut);
  }
});

test('compare of every workload gives the same answer with its permissions read on worker threads (XRAY_LP_READ_THREAD)', async (t) => {
  const args = [
    '--db',
    db,
    'compare',
    '--granted',
    g('account-123456789012.json'),
    '--granted',
    g('functions-eu-west-1.json'),
    '--json',
  ];
  const one = await cli(args, { env: { XRAY_LP_READ_THREAD: 'never' } });
  const two = await cli(args, { env: { XRAY_LP_READ_THREAD: 'always' } });
  t.is(one.code, two.code);
  t.true((JSON.parse(one.out) as CompareResult).workloads.length > 0);
  t.is(two.out, one.out);
  const bad = await cli(args, { env: { XRAY_LP_READ_THREAD: 'yes' } });
  t.is(bad.code, 2);
  t.regex(bad.err, /XRAY_LP_READ_THREAD="yes"/);
});

test("a run-time need CloudTrail saw (Lambda's awslambda-worker writing logs with the role) is missing once, marked as that need; needs with the same action and resource but other reasons are not merged into one line", async (t) => {
  const dir = tempDir();
  const ct = path.join(dir, 'ct.db');
  const role = FIXTURE_ROLE;
  t.is(
    (await cli(['--db', ct, 'ingest', '-q', path.join(repoRoot, 'test/fixtures/cloudtrail/records.json')]))
      .code,
    0,
  );
  const details = fixtureRoleDetails(dir, [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'secretsmanager:GetSecretValue',
    'kms:Decrypt',
    'ssm:GetParameter',
    's3:GetObject',
  ]);
  const text = await cli(['--db', ct, 'compare', '--granted', details, '--workload', `role:${role}`]);
  t.is(text.code, 0, text.err);
  const missing = /Missing \(used, not granted\):\n((?: {4}.*\n)+)/.exec(text.out)?.[1] ?? '';
  t.regex(
    missing,
    /logs:CreateLogStream on arn:aws:logs:eu-west-1:123456789012:log-group:\/aws\/lambda\/orders-fn:log-stream:\S+: not granted \(1 call; the run-time need above\)/,
  );
  // One line per reason: kms:Decrypt is named once on each.
  t.notRegex(text.out, /kms:Decrypt, kms:Decrypt/);
  const json = await cli([
    '--db',
    ct,
    'compare',
    '--granted',
    details,
    '--workload',
    `role:${role}`,
    '--json',
  ]);
  const w = (JSON.parse(json.out) as CompareResult).workloads[0]!;
  t.deepEqual(
    w.missing.map((m) => [m.action, m.runtimeNeed === true]),
    [['logs:CreateLogStream', true]],
  );
  t.false(w.passes, 'a run-time need the role lacks still fails the check');
});
