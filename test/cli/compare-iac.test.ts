/**
 * `compare --granted` and `report --granted` with infrastructure as code (issue 27): the tool's
 * own output in every format reads back as the granted side with nothing missing and nothing
 * unused on the same data (files and standard input), templates and a CDK cloud assembly are
 * read as such, and findings say where to make the change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import test from 'ava';
import type { CompareResult } from '../../src/compare/compare.js';
import { POLICY_FORMATS } from '../../src/policy/formats.js';
import { cli, fixturesDir, repoRoot, tempDir } from '../support/helpers.js';

const iac = path.join(fixturesDir, 'iac');

/** The bundled X-Ray samples in a database. */
const sampleDb = (async () => {
  const db = path.join(tempDir(), 'samples.db');
  const r = await cli(['--db', db, 'ingest', '-q', path.join(repoRoot, 'samples/traces')]);
  if (r.code !== 0) throw new Error(r.err);
  return db;
})();

/** The role a format's output is compared as: SAM names the function's generated role. */
const ROLE: Partial<Record<string, string>> = { sam: 'OrdersApiFunctionRole' };

for (const format of POLICY_FORMATS)
  for (const placeholders of [false, true])
    test(`round trip: policy --format ${format}${placeholders ? ' --placeholders' : ''} read back by compare --granted finds nothing missing or unused`, async (t) => {
      const db = await sampleDb;
      const shape = ['--include-denied', ...(placeholders ? ['--placeholders'] : [])];
      const p = await cli(['--db', db, 'policy', '--workload', 'orders-api', '--format', format, ...shape]);
      t.is(p.code, 0, p.err);
      const file = path.join(tempDir(), `policy.${format}`);
      fs.writeFileSync(file, p.out);
      const role = ROLE[format] ? ['--role', ROLE[format]!] : [];
      const c = await cli([
        '--db',
        db,
        'compare',
        '--workload',
        'orders-api',
        '--granted',
        file,
        ...role,
        '--json',
        '--check',
      ]);
      t.is(c.code, 0, c.err);
      const r = JSON.parse(c.out) as CompareResult;
      const w = r.workloads[0];
      t.is(r.workloads.length, 1);
      t.deepEqual(w?.missing, []);
      t.deepEqual(w?.conditional, []);
      t.deepEqual(
        w?.unused.flatMap((u) => u.unused),
        [],
      );
      t.true((w?.used.actions ?? 0) > 0);
    });

test('round trip through standard input: policy --format cloudformation | compare --granted -', async (t) => {
  const db = await sampleDb;
  const p = await cli([
    '--db',
    db,
    'policy',
    '--workload',
    'orders-api',
    '--format',
    'cloudformation',
    '--include-denied',
  ]);
  const c = await cli(['--db', db, 'compare', '--workload', 'orders-api', '--granted', '-', '--check'], {
    stdin: Readable.from([p.out]),
  });
  t.is(c.code, 0, c.err);
  t.regex(c.out, /orders-api \(lambda\) as -: uses \d+ of \d+ granted actions/);
  t.regex(c.out, /│ orders-api │ - {4}│ .* │ ok {4}│/);
});

test('a CloudFormation YAML template: findings say in which file, resource and line to make the change', async (t) => {
  const db = await sampleDb;
  const template = path.join(tempDir(), 'orders.yaml');
  fs.copyFileSync(path.join(iac, 'cloudformation.yaml'), template);
  const c = await cli(['--db', db, 'compare', '--workload', 'orders-api', '--granted', 'orders.yaml'], {
    cwd: path.dirname(template),
  });
  t.is(c.code, 0, c.err);
  // The template names the function orders-api: its role is matched without a functions file.
  t.regex(c.out, /orders-api \(lambda\) as orders\.yaml#OrdersRole: uses \d+ of \d+ granted actions/);
  t.regex(c.out, /Role defined at orders\.yaml:18 \(OrdersRole\)/);
  t.regex(c.out, /Missing \(used, not granted; add to orders\.yaml:18 \(OrdersRole\)\):/);
  // Pseudo parameters bound to the workload's account and region; the parameter stays unknown.
  t.regex(
    c.out,
    /sqs:SendMessage on arn:aws:sqs:eu-west-1:123456789012:orders-\$\{Ref:Stage\} \[inline:orders-data #2 \(Queue\) at orders\.yaml:43 \(OrdersRole\)\]: never used/,
  );
  // The AWS managed policy attached by ARN comes from the bundled catalogue, where it is attached.
  t.regex(
    c.out,
    /ssm:Get\* \(\d+ actions\).* on \* \[arn:aws:iam::aws:policy\/AmazonSSMReadOnlyAccess #1 at orders\.yaml:30 \(OrdersRole\)\]: never used/,
  );
  t.regex(
    c.out,
    /Note: AWS managed policies from the bundled catalogue of \d{4}-\d\d-\d\d: AWSLambdaBasicExecutionRole v1 of 2015-04-09, AmazonSSMReadOnlyAccess v1 of 2015-05-29;/,
  );
  const m = await cli(
    ['--db', db, 'compare', '--workload', 'orders-api', '--granted', 'orders.yaml', '--markdown'],
    {
      cwd: path.dirname(template),
    },
  );
  t.regex(m.out, /Defined at `orders\.yaml:18 \(OrdersRole\)`\./);
  t.regex(m.out, /inline:orders-data #2 \(Queue\) at orders\.yaml:43 \(OrdersRole\)/);
  const j = await cli(
    ['--db', db, 'compare', '--workload', 'orders-api', '--granted', 'orders.yaml', '--json'],
    {
      cwd: path.dirname(template),
    },
  );
  const r = JSON.parse(j.out) as CompareResult;
  t.deepEqual(r.workloads[0]?.role.origin, { file: 'orders.yaml', resource: 'OrdersRole', line: 18 });
  const queue = r.workloads[0]?.unused.find((u) => u.sid === 'Queue');
  t.deepEqual(queue?.origin, { file: 'orders.yaml', resource: 'OrdersRole', line: 43 });
});

test('a CDK cloud assembly folder is read through its templates', async (t) => {
  const db = await sampleDb;
  const c = await cli(['--db', db, 'compare', '--workload', 'orders-api', '--granted', 'cdk.out', '--json'], {
    cwd: iac,
  });
  t.is(c.code, 0, c.err);
  const r = JSON.parse(c.out) as CompareResult;
  t.is(r.workloads[0]?.role.name, 'OrdersApiServiceRole1A2B3C4D');
  t.deepEqual(r.workloads[0]?.role.origin, {
    file: path.join('cdk.out', 'OrdersStack.template.json'),
    resource: 'OrdersApiServiceRole1A2B3C4D',
    line: 14,
  });
});

test('report --granted reads a template and shows where each grant is written', async (t) => {
  const db = await sampleDb;
  const out = path.join(tempDir(), 'report.html');
  const r = await cli(
    ['--db', db, 'report', '--out', out, '--workload', 'orders-api', '--granted', 'cloudformation.yaml'],
    {
      cwd: iac,
    },
  );
  t.is(r.code, 0, r.err);
  const html = fs.readFileSync(out, 'utf8');
  t.regex(html, /defined at cloudformation\.yaml:18 \(OrdersRole\)/);
  t.regex(html, /at cloudformation\.yaml:43 \(OrdersRole\)/);
});

test('a bad template: one line naming the file, the line and the fix, exit 2, no stack trace', async (t) => {
  const db = await sampleDb;
  const file = path.join(tempDir(), 'broken.yaml');
  fs.writeFileSync(file, 'Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties: [a, b\n');
  const c = await cli(['--db', db, 'compare', '--granted', file]);
  t.is(c.code, 2);
  t.regex(
    c.err,
    /^xray-lp: --granted .*broken\.yaml:5:1: not valid YAML or JSON \(.+\)\. Pass an IAM policy document.*\n$/,
  );
  t.notRegex(c.err, /\n\s+at /);
});
