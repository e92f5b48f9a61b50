/**
 * CloudTrail as a second source of evidence in policies (src/policy/trail.ts, build.ts): a
 * role's evidence is its own subject; `--by role` merges it with the traces of the workloads
 * that run as the role (linked by a Lambda `sts:AssumeRole` record), each permission saying
 * which source saw it; calls made with the role's credentials from outside the workload are not
 * granted by default and are named in every output; a role seen only in management events is
 * told what that cannot show.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies, type WorkloadPolicy } from '../../src/policy/build.js';
import type { Explanation } from '../../src/policy/explain.js';
import { MANAGEMENT_ONLY } from '../../src/policy/trail.js';
import { cli, repoRoot, tempStore, writeFile } from '../support/helpers.js';
import { FIXTURE_ROLE as ROLE, LAMBDA_NODE, ordersTraces, roleRecord } from '../support/cloudtrail.js';

const dir = path.join(repoRoot, 'test/fixtures/cloudtrail');
const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:orders-fn';
const LEAKED = ['s3:ListAllMyBuckets', 'ecr:DescribeRepositories'];

const actionsOf = (p: WorkloadPolicy): string[] => p.document.Statement.flatMap((s) => s.Action);

async function trailStore(files: string[]): Promise<ReturnType<typeof tempStore>> {
  const s = tempStore();
  const r = await ingest(s.store, { inputs: files.map((f) => path.join(dir, f)) });
  if (r.rejected > 0) throw new Error('fixtures did not ingest');
  return s;
}

test("a role's CloudTrail evidence is its own subject; the leaked credentials' calls are not granted and are named", async (t) => {
  const { store } = await trailStore(['records.json']);
  const { policies } = buildPolicies(store, { filter: {} });
  t.deepEqual(
    policies.map((p) => p.principal),
    [`role:${ROLE}`],
    'service-linked roles, IAM users and service principals are not subjects',
  );
  const p = policies[0] as WorkloadPolicy;
  const actions = actionsOf(p);
  for (const a of [
    'dynamodb:GetItem',
    'kms:Decrypt',
    'secretsmanager:GetSecretValue',
    'ssm:GetParameter',
    's3:GetObject',
  ])
    t.true(actions.includes(a), a);
  for (const a of LEAKED) t.false(actions.includes(a), `${a} (outside) is not granted`);
  const outside = p.warnings.filter((w) => w.code === 'outside');
  t.is(outside.length, 1, 'one caller: the laptop');
  const w = outside[0]?.message ?? '';
  t.regex(w, /credentials used outside the workload: 4 calls/);
  t.regex(w, /198\.51\.100\.77/);
  t.regex(w, /aws-cli\/2\.15\.30/);
  for (const a of LEAKED) t.true(w.includes(a), a);
  t.regex(w, /not granted/);
  t.like(p.cloudtrail, { role: ROLE, events: 11, sessions: ['orders-fn'] });
  t.like(p.cloudtrail?.outside[0], { sourceIp: '198.51.100.77', calls: 4 });
  // Unmapped CloudTrail calls are warnings with their count.
  t.true(
    p.warnings.some(
      (x) =>
        x.code === 'unmapped' && /1 CloudTrail call apigateway\.amazonaws\.com GetRestApis/.test(x.message),
    ),
  );
  // Every permission's evidence says where it was seen.
  for (const st of p.evidence)
    for (const a of st.actions) if (a.origin === 'observed') t.deepEqual(a.sources, ['cloudtrail']);
  store.close();
});

test('--include-outside grants the outside calls, still named', async (t) => {
  const { store } = await trailStore(['records.json']);
  const p = buildPolicies(store, { filter: {}, includeOutside: true }).policies[0] as WorkloadPolicy;
  for (const a of LEAKED) t.true(actionsOf(p).includes(a), a);
  t.regex(p.warnings.find((w) => w.code === 'outside')?.message ?? '', /GRANTED \(--include-outside\)/);
  store.close();
});

test('--by role: one policy per role from its traces and its CloudTrail, each permission with the sources that saw it', async (t) => {
  const { store, dir: d, file } = await trailStore(['records.json']);
  await ingest(store, { inputs: [ordersTraces(d)] });
  store.close();
  // The role link comes from the Lambda service's sts:AssumeRole record: no roles file.
  const r = await cli(['policy', '--db', file, '--by', 'role', '--json']);
  t.is(r.code, 0, r.err);
  const policies = JSON.parse(r.out) as WorkloadPolicy[];
  t.deepEqual(
    policies.map((p) => p.principal),
    [ROLE],
  );
  const p = policies[0] as WorkloadPolicy;
  t.deepEqual(p.members, [FN]);
  const sources = new Map(p.evidence.flatMap((s) => s.actions.map((a) => [a.action, a.sources] as const)));
  t.deepEqual(sources.get('dynamodb:GetItem'), ['cloudtrail', 'trace']);
  t.deepEqual(sources.get('sqs:SendMessage'), ['trace']);
  t.deepEqual(sources.get('secretsmanager:GetSecretValue'), ['cloudtrail']);
  for (const a of LEAKED) t.false(actionsOf(p).includes(a), a);
  t.true(p.warnings.some((w) => w.code === 'outside'));
  // The Lambda service's logs:CreateLogStream (awslambda-worker) is the log-group need, seen.
  const logs = p.evidence.flatMap((s) => s.actions).filter((a) => a.action === 'logs:CreateLogStream');
  t.is(logs.length, 1);
  t.like(logs[0], { origin: 'runtime', calls: 1, sources: ['cloudtrail'] });
  t.false(JSON.stringify(p.document).includes('log-stream:2026'), 'not granted a second time on the stream');
});

test('every output names the outside calls: each format, --json and the stderr summary', async (t) => {
  const { store, file } = await trailStore(['leaked-credentials.json', 'tree']);
  store.close();
  for (const format of ['iam', 'cloudformation', 'sam', 'serverless', 'terraform']) {
    const r = await cli(['policy', '--db', file, '--format', format]);
    t.is(r.code, 0, r.err);
    const where = format === 'iam' ? r.err : r.out;
    t.regex(where, /credentials used outside the workload: 4 calls .* from 198\.51\.100\.77/, format);
    for (const a of LEAKED)
      t.false(r.out.includes(`${a}"`) || r.out.includes(`- ${a}\n`), `${format}: ${a} not granted`);
  }
  const j = await cli(['policy', '--db', file, '--json']);
  t.true((JSON.parse(j.out) as WorkloadPolicy[])[0]?.warnings.some((w) => w.code === 'outside'));
  const html = path.join(path.dirname(file), 'report.html');
  const r = await cli(['report', '--db', file, '--out', html]);
  t.is(r.code, 0, r.err);
  t.regex(
    fs.readFileSync(html, 'utf8'),
    /credentials used outside the workload: 4 calls .* from 198\.51\.100\.77/,
  );
});

test('a role seen only in management events: the verdict says what that cannot show', async (t) => {
  const d = tempStore();
  const only = path.join(dir, 'tree');
  await ingest(d.store, { inputs: [only] });
  // The tree's first file holds management events only; drop the data events to make it so.
  d.store.prepare('DELETE FROM trail_events WHERE management = 0').run();
  const p = buildPolicies(d.store, { filter: {} }).policies[0] as WorkloadPolicy;
  t.true(p.completeness.reason.includes(MANAGEMENT_ONLY));
  t.true(p.warnings.some((w) => w.code === 'incomplete' && w.message.includes('data events')));
  const withData = tempStore();
  await ingest(withData.store, { inputs: [only] });
  const q = buildPolicies(withData.store, { filter: {} }).policies[0] as WorkloadPolicy;
  t.false(q.completeness.reason.includes(MANAGEMENT_ONLY));
  d.store.close();
  withData.store.close();
});

test('explain shows both sources, and the outside calls a permission was withheld from', async (t) => {
  const { store, dir: d, file } = await trailStore(['records.json']);
  await ingest(store, { inputs: [ordersTraces(d)] });
  store.close();
  const both = await cli([
    'explain',
    '--db',
    file,
    '--by',
    'role',
    '--json',
    'orders-fn',
    'dynamodb:GetItem',
  ]);
  t.is(both.code, 0, both.err);
  const e = JSON.parse(both.out) as Explanation;
  t.deepEqual(e.cloudtrail?.sources, ['cloudtrail', 'trace']);
  t.is(e.calls, 1, 'the traced call');
  t.true(e.reasons.some((r) => /seen by cloudtrail and trace/.test(r)));
  const leaked = await cli(['explain', '--db', file, 'orders-fn-role', 'ecr:DescribeRepositories']);
  t.is(leaked.code, 6);
  t.regex(leaked.out, /NOT GRANTED/);
  t.regex(leaked.out, /credentials used outside the workload: calls from 198\.51\.100\.77/);
  t.regex(leaked.out, /--include-outside/);
  const granted = await cli([
    'explain',
    '--db',
    file,
    '--include-outside',
    'orders-fn-role',
    'ecr:DescribeRepositories',
  ]);
  t.is(granted.code, 0, granted.out);
});

/** A role-session SQS call of our own. */
const record = (
  n: number,
  role: string,
  eventName: string,
  userAgent: string,
  sourceIp: string,
): Record<string, unknown> =>
  roleRecord({
    n,
    role,
    eventName,
    userAgent,
    sourceIp,
    params: { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs' },
    id: `sdk-${role.length}`,
  });

const GO = 'aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22 md/GOOS#linux';
const NODE = LAMBDA_NODE;

/** Role, records → the actions granted and the callers named as outside. */
const SDK_CASES: [string, Record<string, unknown>[], string[], string[]][] = [
  [
    'a function on an OS-only run time (no token anywhere): its SDK calls are its own',
    [record(1, 'arn:aws:iam::123456789012:role/go-fn', 'SendMessage', GO, '3.250.1.1')],
    ['sqs:SendMessage'],
    [],
  ],
  [
    'a role whose calls carry the token: an SDK call without it, from elsewhere, is outside',
    [
      record(1, 'arn:aws:iam::123456789012:role/node-fn', 'SendMessage', NODE, '3.250.1.1'),
      record(2, 'arn:aws:iam::123456789012:role/node-fn', 'DeleteQueue', GO, '203.0.113.9'),
    ],
    ['sqs:SendMessage'],
    ['203.0.113.9'],
  ],
];
for (const [name, records, granted, outside] of SDK_CASES)
  test(`SDK without the run-time token: ${name}`, async (t) => {
    const { store, dir: d } = tempStore();
    await ingest(store, { inputs: [writeFile(d, 'ct.json', JSON.stringify({ Records: records }))] });
    const p = buildPolicies(store, { filter: {} }).policies[0] as WorkloadPolicy;
    t.deepEqual(actionsOf(p), granted);
    t.deepEqual(
      (p.cloudtrail?.outside ?? []).map((c) => c.sourceIp),
      outside,
    );
    store.close();
  });
