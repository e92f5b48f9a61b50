import path from 'node:path';
import test from 'ava';
import type { CompareResult } from '../../src/compare/compare.js';
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
    /Remove \(granted, never used\):\n {4}dynamodb:\* on \* \[.*#1 \(AllDynamoDB\)\]: \d+ of \d+ actions unused: dynamodb:AssociateTableReplica/,
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
  t.regex(r.out, /\| orders-api \| orders-api-role \| \d+ \| 8 \| \d+ \| 1 \| 0 \| \*\*FAIL\*\* \|/);
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
