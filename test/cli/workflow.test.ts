/**
 * The reviewer's workflow (issue 23): stdout holds one parseable document, warnings travel in
 * each format and on stderr, defaults never widen access, filters that match nothing fail loudly,
 * tables keep the figures that carry the answer, and the instructions the tool prints work.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import test from 'ava';
import { parseAllDocuments } from 'yaml';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import {
  awsCall,
  batch,
  cli,
  hexId,
  lambdaSegment,
  repoRoot,
  T0,
  tempDir,
  traceId,
  writeFile,
} from '../support/helpers.js';

const samples = path.join(repoRoot, 'samples/traces');

/** The bundled X-Ray samples in a database (five workloads, two AccessDenied calls). */
const sampleDb = (async () => {
  const db = path.join(tempDir(), 'samples.db');
  const r = await cli(['--db', db, 'ingest', '-q', samples]);
  if (r.code !== 0) throw new Error(r.err);
  return db;
})();

/**
 * A workload of account 111111111111 sending to a queue of 222222222222 and reading its own
 * table; a function of the same name in 333333333333; a service whose account no trace records.
 */
const crossDb = (async () => {
  const dir = tempDir();
  let n = 1;
  const traces: { id: string; segments: Record<string, unknown>[] }[] = [];
  const add = (segment: (id: string) => Record<string, unknown>): void => {
    const id = traceId(n++);
    traces.push({ id, segments: [segment(id)] });
  };
  for (let i = 0; i < 3; i++)
    add((id) =>
      lambdaSegment(
        id,
        'orders-api',
        [
          awsCall('SQS', 'SendMessage', {
            queue_url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/shared-jobs',
          }),
          awsCall('DynamoDB', 'GetItem', { table_name: 'orders' }),
        ],
        { account: '111111111111' },
      ),
    );
  add((id) =>
    lambdaSegment(id, 'orders-api', [awsCall('DynamoDB', 'GetItem', { table_name: 'orders' })], {
      account: '333333333333',
    }),
  );
  add((id) => ({
    id: hexId(),
    name: 'no-account-svc',
    trace_id: id,
    start_time: T0,
    end_time: T0 + 1,
    subsegments: [awsCall('DynamoDB', 'GetItem', { table_name: 'orders' })],
  }));
  const dump = writeFile(dir, 'dump.json', batch(traces));
  const db = path.join(dir, 'cross.db');
  const r = await cli(['--db', db, 'ingest', '-q', dump]);
  if (r.code !== 0) throw new Error(r.err);
  return db;
})();

// ---- 1. data on stdout, everything else on stderr ----

type Parsed = { keys: string[]; comments: string };

/** Parses stdout with the format's real parser: every format must be one document. */
async function parseFormat(format: string, text: string): Promise<Parsed> {
  if (format === 'iam') {
    const doc = JSON.parse(text) as Record<string, unknown>;
    return { keys: Object.keys(doc), comments: '' };
  }
  if (format === 'terraform') {
    const doc = (await parseHcl('policy.tf', text)) as { data: Record<string, Record<string, unknown>> };
    return {
      keys: Object.keys(doc.data.aws_iam_policy_document ?? {}),
      comments: text
        .split('\n')
        .filter((l) => l.startsWith('#'))
        .join('\n'),
    };
  }
  const docs = parseAllDocuments(text);
  if (Array.isArray(docs) && docs.length !== 1) throw new Error(`${docs.length} YAML documents`);
  const [doc] = docs as unknown as { errors: unknown[]; toJS: () => Record<string, unknown> }[];
  if (!doc || doc.errors.length > 0) throw new Error(`invalid YAML: ${JSON.stringify(doc?.errors)}`);
  const value = doc.toJS();
  const top = Object.values(value)[0];
  return {
    keys: Array.isArray(top) ? top.map((_, i) => String(i)) : Object.keys(top as object),
    comments: text
      .split('\n')
      .filter((l) => /^\s*#/.test(l))
      .join('\n'),
  };
}

for (const format of ['iam', 'cloudformation', 'sam', 'serverless', 'terraform']) {
  test(`policy --format ${format} > file: stdout is one ${format} document, with its warnings where the format has room`, async (t) => {
    const r = await cli(['--db', await sampleDb, 'policy', '--format', format]);
    t.is(r.code, 0, r.err);
    const parsed = await parseFormat(format, r.out);
    t.is(parsed.keys.length, 5, r.out.slice(0, 400));
    t.notRegex(r.out, /[┌│└]/, 'no table on stdout');
    // Warnings: on stderr, one line per kind; and inside YAML/HCL as comments.
    t.regex(r.err, /\[denied\] dynamodb:DeleteItem on arn:aws:dynamodb:eu-west-1:123456789012:table\/orders/);
    t.regex(r.err, /│ lambda +│ orders-api +│/);
    if (format !== 'iam') {
      t.regex(parsed.comments, /warning \[denied\] dynamodb:DeleteItem/);
      t.regex(parsed.comments, /warning \[resource-unknown\]/);
    }
  });
}

test('policy --workload orders-api > p.json: one IAM policy document, nothing else', async (t) => {
  const r = await cli(['--db', await sampleDb, 'policy', '--workload', 'orders-api']);
  t.is(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { Version: string; Statement: unknown[] };
  t.is(doc.Version, '2012-10-17');
  t.true(doc.Statement.length > 0);
  t.regex(r.err, /# lambda arn:aws:lambda:eu-west-1:123456789012:function:orders-api/);
});

test('repeated warnings are grouped: one line per kind, naming every permission it covers', async (t) => {
  const r = await cli(['--db', await sampleDb, 'policy', '--workload', 'order-pipeline']);
  t.is(r.code, 0, r.err);
  const lines = r.err.split('\n').filter((l) => l.includes('[resource-unknown]'));
  t.is(lines.length, 1, r.err);
  t.regex(
    lines[0]!,
    /2 permissions: dynamodb:PutItem on .*table\/\*; lambda:InvokeFunction on .*function:\*/,
  );
  // --json keeps one warning per permission.
  const j = await cli(['--db', await sampleDb, 'policy', '--workload', 'order-pipeline', '--json']);
  const [p] = JSON.parse(j.out) as { warnings: { code: string }[] }[];
  t.is(p!.warnings.filter((w) => w.code === 'resource-unknown').length, 2);
});

test('policy --out: files on disk, a per-policy warning count on stderr, the grouped warnings in evidence.json', async (t) => {
  const out = path.join(tempDir(), 'policies');
  const r = await cli(['--db', await sampleDb, 'policy', '--out', out]);
  t.is(r.code, 0, r.err);
  t.is(r.out, '');
  t.regex(r.err, /^ {2}orders-api\.policy\.json: 4 warnings \(denied 1, dependent 2, resource-unknown 1\)$/m);
  t.regex(r.err, /Wrote 5 policies and evidence\.json/);
  const evidence = JSON.parse(fs.readFileSync(path.join(out, 'evidence.json'), 'utf8')) as {
    name: string;
    warningSummary: string[];
  }[];
  const orders = evidence.find((e) => e.name === 'orders-api')!;
  t.true(orders.warningSummary.some((l) => /^\[denied\] dynamodb:DeleteItem .*LEFT OUT/.test(l)));
});

// ---- 2. defaults that never widen access ----

test('denied calls are left out by default and listed with their evidence; --include-denied grants them; --exclude-denied is a no-op with a note', async (t) => {
  const db = await sampleDb;
  const def = await cli(['--db', db, 'policy', '--workload', 'orders-api']);
  t.notRegex(def.out, /dynamodb:DeleteItem/);
  t.regex(
    def.err,
    /\[denied\] dynamodb:DeleteItem on \S+ \(denied 1 of 1 call, AccessDenied in trace 1-[0-9a-f-]+\)\. LEFT OUT/,
  );
  const inc = await cli(['--db', db, 'policy', '--workload', 'orders-api', '--include-denied']);
  t.regex(inc.out, /"dynamodb:DeleteItem"/);
  t.regex(inc.err, /\[denied\] dynamodb:DeleteItem .* GRANTED although every call/);
  const old = await cli(['--db', db, 'policy', '--workload', 'orders-api', '--exclude-denied']);
  t.is(old.code, 0);
  t.is(old.out, def.out);
  t.regex(old.err, /--exclude-denied is the default since 0\.3/);
});

test('--placeholders replaces only the workload own account: another account stays literal, with a note', async (t) => {
  const r = await cli([
    '--db',
    await crossDb,
    'policy',
    '--workload',
    'arn:aws:lambda:eu-west-1:111111111111:function:orders-api',
    '--placeholders',
  ]);
  t.is(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { Statement: { Action: string[]; Resource: string[] }[] };
  const resources = doc.Statement.flatMap((s) => s.Resource);
  t.true(resources.includes('arn:aws:sqs:eu-west-1:222222222222:shared-jobs'), resources.join(' '));
  t.true(resources.includes('arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders'));
  t.regex(
    r.err,
    /\[cross-account\] sqs:SendMessage on arn:aws:sqs:eu-west-1:222222222222:shared-jobs\. another account than the workload's own \(111111111111\)/,
  );
});

test('a wildcard spanning accounts is never silent: a warning names the calls behind it', async (t) => {
  const r = await cli(['--db', await crossDb, 'policy', '--workload', 'no-account-svc']);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /arn:aws:dynamodb:eu-west-1:\*:table\/orders/);
  t.regex(
    r.err,
    /\[wildcard\] dynamodb:GetItem on arn:aws:dynamodb:eu-west-1:\*:table\/orders \(spans every account; 1 call on arn:aws:dynamodb:eu-west-1:\*:table\/orders, trace 1-/,
  );
});

// ---- 3. gates that fail loudly ----

const typos: [string, string[]][] = [
  ['policy', ['policy', '--workload', 'orders-apii']],
  [
    'policy --check-complete --out',
    ['policy', '--workload', 'orders-apii', '--check-complete', '--out', 'OUT'],
  ],
  ['explain', ['explain', 'orders-apii', 'dynamodb:GetItem']],
  ['usage', ['usage', '--workload', 'orders-apii']],
  ['calls', ['calls', '--workload', 'orders-apii']],
  ['timeline', ['timeline', '--workload', 'orders-apii']],
  ['report', ['report', '--workload', 'orders-apii', '--out', 'DIR/r.html']],
  [
    'compare',
    [
      'compare',
      '--granted',
      path.join(repoRoot, 'samples/granted/over-broad-policy.json'),
      '--workload',
      'orders-apii',
      '--check',
    ],
  ],
  ['workloads --exclude-workload', ['workloads', '--exclude-workload', 'orders-apii']],
  ['a wildcard that matches nothing', ['policy', '--workload', 'orders-apii*']],
];
for (const [name, args] of typos) {
  test(`a name that matches nothing is an error with suggestions: ${name}`, async (t) => {
    const dir = tempDir();
    const r = await cli([
      '--db',
      await sampleDb,
      ...args.map((a) => a.replace('OUT', path.join(dir, 'out')).replace('DIR', dir)),
    ]);
    t.is(r.code, 2, r.out);
    t.regex(
      r.err,
      /^xray-lp: .*"orders-apii\*?" matches nothing in the database \(did you mean "orders-api"/,
    );
    t.is(r.out, '');
    t.deepEqual(fs.readdirSync(dir), []);
  });
}

test('an --account that matches nothing is an error with the closest accounts', async (t) => {
  const r = await cli(['--db', await sampleDb, 'usage', '--account', '123456789013']);
  t.is(r.code, 2);
  t.regex(r.err, /--account "123456789013" matches nothing in the database \(did you mean "123456789012"/);
});

test('explain exits 6 when the permission is not granted, and never says "granted because 0 calls"', async (t) => {
  const db = await sampleDb;
  const no = await cli(['--db', db, 'explain', 'orders-api', 'dynamodb:DeleteTable']);
  t.is(no.code, 6);
  t.regex(no.out, /^NOT GRANTED/);
  const yes = await cli(['--db', db, 'explain', 'orders-api', 'dynamodb:GetItem']);
  t.is(yes.code, 0);
  // Granted by a statement, though no selected call needed this resource.
  const other = await cli([
    '--db',
    db,
    'explain',
    'orders-api',
    'states:StartExecution',
    'arn:aws:states:eu-west-1:123456789012:stateMachine:other',
  ]);
  t.is(other.code, 0, other.out);
  t.notRegex(other.out, /because 0 selected calls/);
  t.regex(other.out, /granted: no selected call needed it on this resource, but statement \S+ covers it/);
});

// ---- 4. tables that keep the key figures ----

test('COLUMNS=80: usage keeps calls and denied', async (t) => {
  const r = await cli(['--db', await sampleDb, 'usage', '--workload', 'orders-api'], {
    env: { COLUMNS: '80' },
  });
  t.is(r.code, 0, r.err);
  const header = r.out.split('\n')[1]!;
  t.regex(header, /│ calls │ denied │$/);
  t.true(r.out.split('\n').every((l) => l.length <= 80));
});

test('COLUMNS=80: two workloads with one name keep what tells them apart (account)', async (t) => {
  const r = await cli(['--db', await crossDb, 'workloads'], { env: { COLUMNS: '80' } });
  t.is(r.code, 0, r.err);
  t.regex(r.out, /│ orders-api .*│ 111111111111 │/);
  t.regex(r.out, /│ orders-api .*│ 333333333333 │/);
});

test('sources --wide shows every value whole: the input path and the sha256', async (t) => {
  const dir = tempDir();
  const deep = path.join(dir, 'a-rather-long-folder-name-for-exports', 'account-111122223333', 'eu-west-1');
  fs.mkdirSync(deep, { recursive: true });
  const file = path.join(deep, 'batch-get-traces-2026-11-20T10-00-00Z-part-00001.json');
  fs.copyFileSync(path.join(samples, 'pipeline.json'), file);
  const db = path.join(dir, 's.db');
  await cli(['--db', db, 'ingest', '-q', file]);
  const r = await cli(['--db', db, '--wide', 'sources'], { env: { COLUMNS: '80' } });
  t.true(r.out.includes(file), r.out);
  t.regex(r.out, /[0-9a-f]{64}/);
});

// ---- 5. instructions that work ----

test('xray-lp migrate and ingest with no input upgrade an older database, as the refusal says', async (t) => {
  for (const args of [['migrate'], ['ingest']]) {
    const db = path.join(tempDir(), 'v2.db');
    fs.copyFileSync(path.join(repoRoot, 'test/fixtures/store/v2-samples.db'), db);
    const refused = await cli(['--db', db, 'workloads']);
    t.is(refused.code, 1);
    t.regex(refused.err, /Run `xray-lp migrate` \(or `xray-lp ingest` with no input\) to upgrade it/);
    const m = await cli(['--db', db, ...args]);
    t.is(m.code, 0, m.err);
    t.regex(m.err, new RegExp(`Migrated .* from schema 2 to ${SCHEMA_VERSION}`));
    t.is((await cli(['--db', db, 'workloads'])).code, 0);
  }
  const none = await cli(['--db', path.join(tempDir(), 'none.db'), 'migrate']);
  t.is(none.code, 2);
  t.regex(none.err, /No database at .* to migrate/);
});

test('the README command table lists every command; every --help names both trace families and no old option', async (t) => {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Commands'),
    readme.indexOf('### Tables and terminal width'),
  );
  const listed = [...section.matchAll(/^\| `([a-z]+)/gm)].map((m) => m[1]);
  const help = await cli(['--help']);
  const commands = [...help.out.matchAll(/^ {2}([a-z]+)(?: |\|)/gm)]
    .map((m) => m[1])
    .filter((c) => c !== 'help');
  t.true(commands.length >= 15, help.out);
  t.deepEqual(
    commands.filter((c) => !listed.includes(c)),
    [],
  );
  for (const c of commands) {
    const h = await cli([c!, '--help']);
    t.regex(h.out, /X-Ray/, c);
    t.regex(h.out, /OpenTelemetry/, c);
    t.notRegex(h.out, /--principal|--exclude-denied/, c);
  }
});

test('compare names the current option in its hints (--workload, never --principal)', async (t) => {
  const r = await cli([
    '--db',
    await sampleDb,
    'compare',
    '--granted',
    path.join(repoRoot, 'samples/granted/account-123456789012.json'),
    path.join(repoRoot, 'samples/granted/functions-eu-west-1.json'),
    '--json',
  ]);
  t.notRegex(r.out, /--principal/);
  t.regex(r.out, /--workload billing-worker --role ROLE/);
});

test('policy --usage and compare --usage accept the folder export wrote, as well as its usage/', async (t) => {
  const out = path.join(tempDir(), 'exp');
  t.is((await cli(['--db', await sampleDb, 'export', '--out', out])).code, 0);
  const root = await cli(['policy', '--usage', out, '--json']);
  t.is(root.code, 0, root.err);
  const sub = await cli(['policy', '--usage', path.join(out, 'usage'), '--json']);
  t.is(root.out, sub.out);
  const granted = path.join(repoRoot, 'samples/granted/over-broad-policy.json');
  const c = await cli(['compare', '--usage', out, '--granted', granted, '--json']);
  t.is(c.code, 0, c.err);
  t.is(
    c.out,
    (await cli(['compare', '--usage', path.join(out, 'usage'), '--granted', granted, '--json'])).out,
  );
});

test('the counts of an OpenTelemetry ingest add up', async (t) => {
  const db = path.join(tempDir(), 'otel.db');
  const r = await cli(['--db', db, 'ingest', path.join(repoRoot, 'samples/otel/aws-spans.jsonl')]);
  t.is(r.code, 0, r.err);
  const m = /segments (\d+) \((\d+) new, (\d+) already stored, (\d+) spans kept only as their calls\)/.exec(
    r.out,
  );
  t.truthy(m, r.out);
  const [all, fresh, stored, callOnly] = m!.slice(1).map(Number) as [number, number, number, number];
  t.is(fresh + stored + callOnly, all);
  const again = await cli([
    '--db',
    db,
    'ingest',
    '--json',
    path.join(repoRoot, 'samples/otel/aws-spans.jsonl'),
  ]);
  const s = JSON.parse(again.out) as {
    segments: number;
    newSegments: number;
    duplicateSegments: number;
    replacedSegments: number;
    callOnlySpans: number;
  };
  t.true(s.duplicateSegments > 0);
  t.is(s.newSegments + s.duplicateSegments + s.replacedSegments + s.callOnlySpans, s.segments);
});
