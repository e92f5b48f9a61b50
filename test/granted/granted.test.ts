import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { evaluate } from '../../src/iam/evaluate.js';
import { mergeGranted, parseGrantedFile, type GrantedFile } from '../../src/granted/granted.js';
import { fixturesDir } from '../support/helpers.js';

const dir = path.join(fixturesDir, 'granted');
const load = (name: string): GrantedFile =>
  parseGrantedFile(fs.readFileSync(path.join(dir, name), 'utf8'), name);
const ROLE = 'arn:aws:iam::111122223333:role/service-role/api-role';

test('a policy document', (t) => {
  const f = load('policy.json');
  if (f.kind !== 'policy') return t.fail(f.kind);
  t.is(f.policy.name, 'policy.json');
  t.is(f.policy.statements.length, 2);
  t.is(
    evaluate([f.policy], 'dynamodb:GetItem', 'arn:aws:dynamodb:eu-west-1:111122223333:table/orders'),
    'allowed',
  );
  t.is(
    evaluate([f.policy], 'dynamodb:Query', 'arn:aws:dynamodb:eu-west-1:111122223333:table/orders'),
    'denied-explicit',
  );
});

test('get-policy-version output', (t) => {
  const f = load('get-policy-version.json');
  if (f.kind !== 'policy') return t.fail(f.kind);
  t.is(evaluate([f.policy], 's3:GetObject', 'arn:aws:s3:::uploads/a'), 'allowed');
});

for (const name of ['authorization-details.json', 'authorization-details-urlencoded.json'])
  test(`get-account-authorization-details: ${name}`, (t) => {
    const f = load(name);
    if (f.kind !== 'authorization-details') return t.fail(f.kind);
    t.is(f.roles.length, 1);
    const role = f.roles[0];
    if (!role) return t.fail();
    t.is(role.arn, ROLE);
    t.is(role.name, 'api-role');
    t.deepEqual(
      role.policies.map((p) => p.name),
      [
        'inline:send-jobs',
        'arn:aws:iam::111122223333:policy/uploads-read',
        'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
      ],
    );
    // The default version (v2: s3:GetObject on uploads/*), not v1 (s3:* on *).
    t.is(evaluate(role.policies, 's3:GetObject', 'arn:aws:s3:::uploads/a'), 'allowed');
    t.is(evaluate(role.policies, 's3:PutObject', 'arn:aws:s3:::uploads/a'), 'not-allowed');
    t.is(evaluate(role.policies, 'sqs:SendMessage', 'arn:aws:sqs:eu-west-1:111122223333:jobs'), 'allowed');
    // An AWS managed policy the export left out (exported with --filter Role) comes from the
    // bundled catalogue, and the note says so; a customer managed one would stay unknown.
    t.is(role.notes.length, 2);
    t.regex(
      role.notes[0] ?? '',
      /^AWS managed policies from the bundled catalogue of .*: AmazonS3ReadOnlyAccess v3 of 2023-08-10;/,
    );
    t.regex(role.notes[1] ?? '', /permissions boundary .* is not evaluated/);
  });

test('the URL-encoded form gives the same roles as the CLI form', (t) => {
  t.deepEqual(load('authorization-details-urlencoded.json').kind, 'authorization-details');
  const a = load('authorization-details.json');
  const b = load('authorization-details-urlencoded.json');
  if (a.kind !== 'authorization-details' || b.kind !== 'authorization-details') return t.fail();
  t.deepEqual(
    a.roles.map((r) => r.policies),
    b.roles.map((r) => r.policies),
  );
});

for (const name of ['list-functions.json', 'get-function-configuration.json'])
  test(`functions: ${name}`, (t) => {
    const f = load(name);
    if (f.kind !== 'functions') return t.fail(f.kind);
    t.is(f.functions.get('api'), ROLE);
    t.is(f.functions.get('arn:aws:lambda:eu-west-1:111122223333:function:api'), ROLE);
  });

const rejected: { name: string; message: RegExp }[] = [
  { name: 'not-json.json', message: /^--granted not-json\.json: not JSON .*Pass an IAM policy document/ },
  { name: 'bucket-policy.json', message: /^--granted bucket-policy\.json: .*has a Principal/ },
];
for (const r of rejected)
  test(`rejects ${r.name} naming the file`, (t) => {
    t.regex(t.throws(() => load(r.name)).message, r.message);
  });

test('rejects an unrecognised JSON shape', (t) => {
  t.regex(
    t.throws(() => parseGrantedFile('{"Roles": []}', 'x.json')).message,
    /--granted x\.json: not a file we recognise/,
  );
});

test('an empty functions list is an error that names --granted, not --roles', (t) => {
  t.regex(
    t.throws(() => parseGrantedFile('{"Functions": []}', 'f.json')).message,
    /^--granted f\.json: no function/,
  );
});

test('mergeGranted: all kinds together, a duplicate role noted', (t) => {
  const m = mergeGranted([
    load('policy.json'),
    load('authorization-details.json'),
    load('authorization-details-urlencoded.json'),
    load('list-functions.json'),
  ]);
  t.is(m.policies.length, 1);
  t.is(m.roles.length, 1);
  t.regex(m.roles[0]?.notes.at(-1) ?? '', /also in authorization-details-urlencoded\.json/);
  t.is(m.functions.get('api'), ROLE);
  t.deepEqual(
    m.files.map((f) => f.kind),
    ['policy', 'authorization-details', 'authorization-details', 'functions'],
  );
});
