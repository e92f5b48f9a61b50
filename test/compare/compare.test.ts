import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parsePolicy } from '../../src/iam/evaluate.js';
import { mergeGranted, parseGrantedFile, type GrantedInputs } from '../../src/granted/granted.js';
import { ingest } from '../../src/ingest/ingest.js';
import {
  compareGranted,
  headline,
  RISKY_LISTED,
  storeUsage,
  type WorkloadComparison,
} from '../../src/compare/compare.js';
import { buildPolicies, policies } from '../../src/policy/build.js';
import type { Store } from '../../src/store/db.js';
import { repoRoot, tempStore } from '../support/helpers.js';

const SAMPLE_DUMPS = [path.join(repoRoot, 'samples/traces')];
const granted = (...files: string[]): GrantedInputs =>
  mergeGranted(
    files.map((f) => parseGrantedFile(fs.readFileSync(path.join(repoRoot, 'samples/granted', f), 'utf8'), f)),
  );
const ACCOUNTS = [
  'account-123456789012.json',
  'account-210987654321.json',
  'functions-eu-west-1.json',
  'functions-us-east-1.json',
];

let store: Store;
test.before(async () => {
  store = tempStore().store;
  const s = await ingest(store, { inputs: SAMPLE_DUMPS });
  if (s.rejected > 0) throw new Error('samples did not ingest');
});

const byName = (ws: WorkloadComparison[], name: string): WorkloadComparison => {
  const w = ws.find((x) => x.name === name);
  if (!w) throw new Error(`${name} not compared`);
  return w;
};

test('over-broad policy: names the unused dynamodb actions and what was used', (t) => {
  const r = compareGranted(store, {
    filter: { workloads: ['orders-api'] },
    granted: granted('over-broad-policy.json'),
  });
  t.is(r.workloads.length, 1);
  const w = byName(r.workloads, 'orders-api');
  t.is(w.role.matchedBy, 'policy-files');
  t.false(w.passes);
  t.false(r.passed);
  const dynamo = w.unused.find((u) => u.action === 'dynamodb:*');
  if (!dynamo) return t.fail('no dynamodb:* entry');
  t.is(dynamo.resource, '*');
  t.true(dynamo.unused.includes('dynamodb:DeleteTable'));
  t.true(dynamo.unused.includes('dynamodb:ListTables'), 'on * even wildcard-only actions are granted');
  t.deepEqual(dynamo.used, [
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ]);
  t.is(dynamo.granted, dynamo.unused.length + dynamo.used.length);
  t.deepEqual(w.missing, []);
  // DeleteItem was denied when called though dynamodb:* grants it: something else denies it.
  t.deepEqual(
    w.deniedAtRuntime.map((d) => d.action),
    ['dynamodb:DeleteItem'],
  );
  // StartExecution's state machine was not recorded; the policy grants one state machine only.
  t.deepEqual(
    w.unverifiable.map((u) => u.action),
    ['states:StartExecution'],
  );
  t.is(w.used.actions, 8);
  t.is(
    w.headline,
    `uses 8 of ${w.granted.actions} granted actions (${Math.round((8 / w.granted.actions) * 100)}%)`,
  );
});

test('authorization details + functions: matched per function, explicit deny is missing, conditions reported', (t) => {
  const r = compareGranted(store, {
    filter: {},
    granted: granted(...ACCOUNTS),
    allowUnused: ['logs:*', 'xray:*'],
  });
  t.deepEqual(r.workloads.map((w) => w.name).sort(), ['orders-api', 'report-builder', 'thumbnailer']);
  t.deepEqual(r.unmatchedWorkloads.map((u) => u.name).sort(), ['billing-worker', 'order-pipeline']);
  t.deepEqual(
    r.unmatchedRoles.map((x) => x.name),
    ['billing-worker-task-role', 'legacy-cron-role'],
  );

  const orders = byName(r.workloads, 'orders-api');
  t.is(orders.role.matchedBy, 'functions');
  t.deepEqual(
    orders.missing.map((m) => [m.action, m.reason, m.deniedBy.map((d) => d.sid)]),
    [['dynamodb:DeleteItem', 'denied-explicit', ['NoDeletes']]],
  );
  const sqs = orders.unused.find((u) => u.action === 'sqs:*');
  t.deepEqual(sqs?.used, ['sqs:SendMessage']);
  t.true(sqs?.unused.includes('sqs:DeleteQueue'));
  t.true(orders.unused.some((u) => u.action === 'dynamodb:Scan'));
  // Lambda's logging is a run-time need, not an allowed-unused grant (nor one to remove).
  const logs = orders.unused.filter((u) => u.action.startsWith('logs:'));
  t.true(
    logs.length > 0 &&
      logs.every((u) => u.unused.length === 0 && u.allowedUnused.length === 0 && u.runtime.length === 1),
  );

  const thumbs = byName(r.workloads, 'thumbnailer');
  t.deepEqual(
    thumbs.unused
      .filter((u) => u.unused.length > 0)
      .map((u) => u.unused)
      .flat()
      .sort(),
    ['s3:DeleteObject', 's3:GetObjectVersion'],
  );
  t.deepEqual(
    thumbs.deniedAtRuntime.map((d) => d.action),
    ['s3:PutObjectAcl'],
  );

  const reports = byName(r.workloads, 'report-builder');
  t.deepEqual(
    reports.conditional.map((c) => c.action),
    ['dynamodb:BatchGetItem', 'dynamodb:BatchGetItem', 'dynamodb:Scan'],
  );
  t.deepEqual(reports.missing, []);
  t.true(reports.unused.filter((u) => u.action.startsWith('dynamodb:')).every((u) => u.conditional));
  t.is(reports.granted.conditional, 4);
});

test('--role compares the selected workloads with one role', (t) => {
  const r = compareGranted(store, {
    filter: { workloads: ['billing-worker'] },
    granted: granted(...ACCOUNTS),
    role: 'billing-worker-task-role',
  });
  const w = byName(r.workloads, 'billing-worker');
  t.is(w.role.matchedBy, 'role-option');
  t.deepEqual(w.missing, []);
  t.deepEqual(
    w.unverifiable.map((u) => u.action),
    ['secretsmanager:GetSecretValue'],
  );
  t.deepEqual(
    w.unused.flatMap((u) => u.unused),
    ['sqs:ChangeMessageVisibility'],
  );
  t.regex(w.notes.join('\n'), /could not be mapped/);
});

test('an unknown --role lists the roles there are', (t) => {
  const err = t.throws(() =>
    compareGranted(store, { filter: {}, granted: granted(...ACCOUNTS), role: 'nope' }),
  );
  t.regex(
    err.message,
    /--role "nope" is not in the --granted files\. Roles there: orders-api-role, thumbnailer-role/,
  );
});

test('a functions file alone grants nothing: error', (t) => {
  t.throws(() => compareGranted(store, { filter: {}, granted: granted('functions-eu-west-1.json') }), {
    message: /no role or policy found/,
  });
});

test('the policy generated from usage passes the comparison (round trip)', (t) => {
  // Denied permissions granted too: compare counts a denied call as needed (missing otherwise).
  for (const p of buildPolicies(store, { filter: {}, includeDenied: true }).policies) {
    const g: GrantedInputs = {
      roles: [],
      policies: p.documents.map((d, i) => parsePolicy(d, `generated-${i}`)),
      functions: new Map(),
      files: [],
    };
    const r = compareGranted(store, { filter: { workloads: [p.principal] }, granted: g });
    const w = r.workloads[0];
    if (!w) return t.fail(p.name);
    t.deepEqual(w.missing, [], p.name);
    t.deepEqual(w.unverifiable, [], p.name);
    t.deepEqual(
      w.unused.flatMap((u) => u.unused),
      [],
      p.name,
    );
    t.true(w.passes, p.name);
  }
});

test('time filter: nothing selected, nothing compared', (t) => {
  const r = compareGranted(store, {
    filter: { since: 4_000_000_000 },
    granted: granted('over-broad-policy.json'),
  });
  t.deepEqual(r.workloads, []);
  t.false(r.passed);
});

const headlines: [number, number, string][] = [
  [4, 312, 'uses 4 of 312 granted actions (1%)'],
  [1, 400, 'uses 1 of 400 granted actions (<1%)'],
  [0, 10, 'uses 0 of 10 granted actions (0%)'],
  [1, 1, 'uses 1 of 1 granted action (100%)'],
  [0, 0, 'is granted nothing'],
];
for (const [used, granted_, expected] of headlines)
  test(`headline ${used}/${granted_}`, (t) => t.is(headline(used, granted_), expected));

test('the database read is closed when a comparison stops early or skips workloads: the store closes', async (t) => {
  const { store: own } = tempStore();
  await ingest(own, { inputs: [path.join(repoRoot, 'samples/traces')] });
  // Every workload asked for, none read through (what happens to workloads that match no role).
  const all = [...storeUsage(own, { filter: {} }).workloads()];
  t.true(all.length >= 5);
  // One workload read, then the caller stops.
  const it = storeUsage(own, { filter: {} }).workloads()[Symbol.iterator]();
  t.false(it.next().done);
  it.return?.(undefined);
  t.notThrows(() => own.close());
});

test('policies stopped early leave no read open: the store closes', async (t) => {
  const { store: own } = tempStore();
  await ingest(own, { inputs: [path.join(repoRoot, 'samples/traces')] });
  for (const _p of policies(own, { filter: {} })) break;
  t.notThrows(() => own.close());
});

test('run-time needs: the two managed policies a traced function is given are run-time needs, never unused; --check passes on them', (t) => {
  const managed = granted('AWSLambdaBasicExecutionRole.json', 'AWSXRayDaemonWriteAccess.json');
  const r = compareGranted(store, { filter: { workloads: ['orders-api'] }, granted: managed });
  const w = byName(r.workloads, 'orders-api');
  const idle = w.unused.flatMap((u) => u.unused);
  // Nothing of the two managed policies is to be removed: each action is a run-time need.
  t.deepEqual(idle, []);
  t.deepEqual(w.unused.flatMap((u) => u.runtime).sort(), [
    'logs:CreateLogGroup',
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'xray:GetSamplingRules',
    'xray:GetSamplingStatisticSummaries',
    'xray:GetSamplingTargets',
    'xray:PutTelemetryRecords',
    'xray:PutTraceSegments',
  ]);
  // Each need, granted or not, with why and where from; the sampling reads only possibly needed.
  const status = Object.fromEntries(w.runtimeNeeds.map((n) => [`${n.action} ${n.resource}`, n]));
  t.true(
    status['logs:PutLogEvents arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-api:*']
      ?.granted,
  );
  t.false(status['xray:PutTraceSegments *']?.possible);
  t.true(status['xray:GetSamplingRules *']?.possible);
  // What fails the check is what the function calls and is not granted, never its logging.
  t.true(w.missing.length > 0);
  t.false(w.passes);
});

test('run-time needs: a grant next to a need is still unused (another function’s log group, destructive logs actions)', (t) => {
  const doc = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:PutLogEvents', 'logs:DeleteLogGroup'],
        Resource: 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-api:*',
      },
      {
        Effect: 'Allow',
        Action: 'logs:PutLogEvents',
        Resource: 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/other:*',
      },
    ],
  };
  const r = compareGranted(store, {
    filter: { workloads: ['orders-api'] },
    granted: mergeGranted([parseGrantedFile(JSON.stringify(doc), 'neighbours.json')]),
  });
  const w = byName(r.workloads, 'orders-api');
  t.deepEqual(
    w.unused.map((u) => [u.action, u.resource.split(':').pop(), u.unused, u.runtime]),
    // Riskiest first (both unused pairs are Write on one log group: low), the need last.
    [
      ['logs:DeleteLogGroup', '*', ['logs:DeleteLogGroup'], []],
      ['logs:PutLogEvents', '*', ['logs:PutLogEvents'], []],
      ['logs:PutLogEvents', '*', [], ['logs:PutLogEvents']],
    ],
  );
});

test('dependent needs: a KMS grant for the calls a workload makes is recognised, not unused; a KMS action none of its calls needs is unused', (t) => {
  const doc = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ScheduleKeyDeletion'],
        Resource: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
    ],
  };
  const r = compareGranted(store, {
    filter: { workloads: ['thumbnailer'] },
    granted: mergeGranted([parseGrantedFile(JSON.stringify(doc), 'kms.json')]),
  });
  const w = byName(r.workloads, 'thumbnailer');
  // thumbnailer reads (s3:GetObject) and writes (s3:PutObject) objects.
  t.deepEqual(w.unused.flatMap((u) => u.runtime).sort(), ['kms:Decrypt', 'kms:GenerateDataKey']);
  t.deepEqual(
    w.unused.flatMap((u) => u.unused),
    ['kms:ScheduleKeyDeletion'],
  );
});

test('risk: an Action "*" grant lists its riskiest actions, bounded, privilege escalation first, and counts them all', (t) => {
  const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
  const r = compareGranted(store, {
    filter: { workloads: ['orders-api'] },
    granted: mergeGranted([parseGrantedFile(JSON.stringify(doc), 'admin.json')]),
    runtime: 'none',
  });
  const [u] = byName(r.workloads, 'orders-api').unused;
  if (!u) return t.fail('no unused grant');
  t.is(u.risk, 'critical');
  t.is(u.risky.length, RISKY_LISTED);
  t.true(u.riskyCount > 1000, String(u.riskyCount));
  t.deepEqual(u.risky[0]?.classes[0], 'privilege-escalation');
  t.true(u.risky.some((x) => x.action === 'iam:PassRole'));
});
