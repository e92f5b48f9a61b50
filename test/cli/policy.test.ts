import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
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

async function sampleDb(): Promise<string> {
  const db = path.join(tempDir(), 'p.db');
  const r = await cli(['--db', db, 'ingest', '-q', samples]);
  if (r.code !== 0) throw new Error(r.err);
  return db;
}

test('policy prints one JSON document on stdout; the warnings, one line per kind, and the summary table on stderr', async (t) => {
  const db = await sampleDb();
  const r = await cli(['--db', db, 'policy']);
  t.is(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as Record<string, { Version: string }>;
  t.is(doc['arn:aws:lambda:eu-west-1:123456789012:function:orders-api']?.Version, '2012-10-17');
  t.regex(r.err, /│ lambda +│ orders-api +│/);
  t.regex(r.err, /\n# {3}\[denied\] dynamodb:DeleteItem on .* LEFT OUT/);
  // A risky permission the workload really calls is flagged with its evidence (docs/risk.md).
  t.regex(
    r.err,
    /\n# {3}\[risky\] secretsmanager:GetSecretValue on arn:aws:secretsmanager:eu-west-1:123456789012:secret:\* \(risk medium; \d+ calls on .*, trace 1-[0-9a-f-]+\)\. risky permissions observed: data exfiltration/,
  );
  t.true(
    r.err.indexOf('# lambda arn:aws:lambda:eu-west-1:123456789012:function:orders-api') <
      r.err.indexOf('│ lambda'),
  );
});

test('policy --json: principal, kind, name, document, warnings, evidence', async (t) => {
  const db = await sampleDb();
  const r = await cli(['--db', db, 'policy', '--json', '--principal', 'thumbnailer']);
  const [p] = JSON.parse(r.out) as Record<string, unknown>[];
  t.like(p, {
    principal: 'arn:aws:lambda:eu-west-1:123456789012:function:thumbnailer',
    kind: 'lambda',
    name: 'thumbnailer',
  });
  const ev = (
    p!.evidence as {
      actions: {
        action: string;
        origin: string;
        calls: number;
        sampleTraceIds: string[];
        firstSeen: string;
        runtime?: { why: string; source: string }[];
      }[];
    }[]
  ).flatMap((e) => e.actions);
  const observed = ev.filter((a) => a.origin === 'observed');
  t.true(observed.length > 0);
  t.true(
    observed.every(
      (a) =>
        a.calls > 0 && a.sampleTraceIds.length >= 1 && a.sampleTraceIds.length <= 3 && /Z$/.test(a.firstSeen),
    ),
  );
  // Run-time needs: no calls, a reason and a public source for each.
  const runtime = ev.filter((a) => a.origin !== 'observed');
  t.deepEqual([...new Set(runtime.map((a) => a.action))].sort(), [
    'logs:CreateLogGroup',
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'xray:PutTelemetryRecords',
    'xray:PutTraceSegments',
  ]);
  t.true(
    runtime.every(
      (a) =>
        a.calls === 0 &&
        (a.runtime ?? []).length > 0 &&
        a.runtime!.every((r) => r.why.length > 0 && r.source.startsWith('https://docs.aws.amazon.com/')),
    ),
  );
});

test('policy output is byte-identical across runs', async (t) => {
  const db = await sampleDb();
  const a = await cli(['--db', db, 'policy', '--format', 'terraform']);
  const b = await cli(['--db', db, 'policy', '--format', 'terraform']);
  t.is(a.out, b.out);
});

for (const format of ['cloudformation', 'sam', 'serverless', 'terraform']) {
  test(`policy --format ${format} prints every workload`, async (t) => {
    const db = await sampleDb();
    const r = await cli(['--db', db, 'policy', '--format', format]);
    t.is(r.code, 0, r.err);
    for (const name of ['orders-api', 'thumbnailer', 'report-builder']) t.true(r.out.includes(name), name);
  });
}

test('policy --out writes one file per workload plus evidence.json; names from data never escape', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'x.db');
  const id = traceId(90);
  const evil = ['../../escape', '/etc/passwd', 'CON', '..', 'a/b\\c'].map((name) => ({
    id: hexId(),
    name,
    trace_id: id,
    start_time: T0,
    end_time: T0 + 1,
    subsegments: [
      awsCall('SQS', 'SendMessage', { queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' }),
    ],
  }));
  await cli([
    '--db',
    db,
    'ingest',
    '-q',
    writeFile(
      dir,
      'd.json',
      batch([
        {
          id,
          segments: [
            ...evil,
            lambdaSegment(id, 'fine', [
              awsCall('SNS', 'Publish', { topic_arn: 'arn:aws:sns:eu-west-1:123456789012:t' }),
            ]),
          ],
        },
      ]),
    ),
  ]);
  const out = path.join(dir, 'out');
  const r = await cli(['--db', db, 'policy', '--out', out]);
  t.is(r.code, 0, r.err);
  // The manifest lists what the tool wrote (src/shared/files.ts): the rest are the policies.
  const files = fs
    .readdirSync(out)
    .filter((f) => f !== '.xray-lp-manifest.json')
    .sort();
  t.is(files.length, 7);
  t.true(files.includes('evidence.json'));
  t.true(files.includes('fine.policy.json'));
  t.true(files.includes('_CON.policy.json'));
  for (const f of files) t.regex(f, /^[A-Za-z0-9._-]+$/);
  t.false(fs.existsSync(path.join(dir, 'escape.policy.json')));
  t.false(fs.existsSync(path.resolve(dir, '../escape.policy.json')));
  const doc = JSON.parse(fs.readFileSync(path.join(out, 'fine.policy.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  t.deepEqual(Object.keys(doc), ['Version', 'Statement']);
});

test('explain says why a permission is in, and why another is not', async (t) => {
  const db = await sampleDb();
  const yes = await cli(['--db', db, 'explain', 'orders-api', 'dynamodb:GetItem']);
  t.is(yes.code, 0, yes.err);
  t.regex(
    yes.out,
    /^GRANTED: dynamodb:GetItem for arn:aws:lambda:eu-west-1:123456789012:function:orders-api/,
  );
  t.regex(yes.out, /sample traces: 1-/);
  const no = await cli(['--db', db, 'explain', 'orders-api', 'dynamodb:DeleteTable']);
  t.regex(no.out, /^NOT GRANTED: .*\n {2}not granted: no recorded call of this workload needed it/);
  const outside = await cli([
    '--db',
    db,
    'explain',
    'orders-api',
    'dynamodb:GetItem',
    '--until',
    '2026-01-01',
  ]);
  t.regex(outside.out, /outside the selected range/);
  const denied = await cli(['--db', db, 'explain', 'orders-api', 'dynamodb:DeleteItem', '--json']);
  t.is(denied.code, 6);
  t.like(JSON.parse(denied.out), { granted: false, byOutcome: { denied: 1 } });
  const included = await cli([
    '--db',
    db,
    'explain',
    'orders-api',
    'dynamodb:DeleteItem',
    '--include-denied',
    '--json',
  ]);
  t.is(included.code, 0);
  t.like(JSON.parse(included.out), { granted: true, byOutcome: { denied: 1 } });
});

const usage: [string[], RegExp][] = [
  [
    ['policy', '--format', 'pulumi'],
    /argument 'pulumi' is invalid\. Allowed choices are iam, cloudformation/,
  ],
  [['policy', '--s3-objects', 'some'], /Allowed choices are exact, prefix, bucket/],
  [['policy', '--max-size', '12'], /at least 200/],
  [['policy', '--by', 'role'], /needs --roles FILE/],
  [
    ['policy', '--placeholders', '--account-wildcard'],
    /'--account-wildcard' cannot be used with option '--placeholders'/,
  ],
  [['policy', '--since', 'last tuesday'], /is not a time/],
  [['explain', 'orders-api', 'GetItem'], /not an IAM action/],
];
for (const [args, message] of usage) {
  test(`usage error: ${args.join(' ')}`, async (t) => {
    const db = await sampleDb();
    const r = await cli(['--db', db, ...args]);
    t.is(r.code, 2);
    t.regex(r.err, message);
  });
}

test('an empty selection explains itself with the recorded period', async (t) => {
  const db = await sampleDb();
  const r = await cli(['--db', db, 'policy', '--since', '2020-01-01', '--until', '2020-02-01']);
  t.is(r.code, 0);
  t.deepEqual(JSON.parse(r.out), {});
  t.regex(
    r.err,
    /No calls: the range \(since 2020-01-01T00:00:00.000Z, until 2020-02-01T00:00:00.000Z\) is outside the recorded period 2026-11-16/,
  );
});

test('policy --check-complete exits 5 when a selected workload is not settled, 0 when all are', async (t) => {
  const db = await sampleDb();
  // X-Ray samples alone: a week, and under 20 traces for most workloads.
  const thin = await cli(['--db', db, 'policy', '--check-complete', '--json']);
  t.is(thin.code, 5);
  t.regex(thin.err, /xray-lp: \d+ of 5 policies are not settled: .*too little data.*Ingest more days/);
  const verdicts = (JSON.parse(thin.out) as { name: string; completeness: { verdict: string } }[]).map(
    (p) => [p.name, p.completeness.verdict],
  );
  t.true(verdicts.some(([, v]) => v === 'too little data'));
  // Lowered thresholds settle them: the option reaches the verdict.
  const loose = await cli([
    '--db',
    db,
    'policy',
    '--check-complete',
    '--min-traces',
    '1',
    '--min-active-days',
    '1',
    '--settled-share',
    '0',
    '--recent-share',
    '0',
  ]);
  t.is(loose.code, 0, loose.err);
  t.regex(loose.err, /│ completeness +│/);
});

const badThresholds: [string[], RegExp][] = [
  [['--settled-share', '1.5'], /--settled-share "1\.5": a share of the observed period, from 0 to 1/],
  [['--min-traces', 'many'], /--min-traces "many": a whole number/],
  [['--recent-share', '0.5', '--settled-share', '0.3'], /--recent-share 0\.5 is above --settled-share 0\.3/],
];
for (const [args, message] of badThresholds) {
  test(`policy ${args.join(' ')} is a usage error`, async (t) => {
    const db = await sampleDb();
    const r = await cli(['--db', db, 'policy', ...args]);
    t.is(r.code, 2);
    t.regex(r.err, message);
  });
}

test('run-time needs: in Runtime statements by default, left out with --runtime none; the summary states the replay', async (t) => {
  const db = await sampleDb();
  const all = JSON.parse((await cli(['--db', db, 'policy', '--json'])).out) as {
    name: string;
    document: { Statement: { Sid: string; Action: string[]; Resource: string[] }[] };
    replay: { permissions: number; allowed: number };
  }[];
  const none = JSON.parse(
    (await cli(['--db', db, 'policy', '--json', '--runtime', 'none'])).out,
  ) as typeof all;
  const runtimeOf = (p: (typeof all)[number]): string[] =>
    p.document.Statement.filter((s) => s.Sid.startsWith('Runtime')).flatMap((s) =>
      s.Action.flatMap((a) => s.Resource.map((r) => `${a} ${r}`)),
    );
  const orders = all.find((p) => p.name === 'orders-api')!;
  t.true(
    runtimeOf(orders).includes(
      'logs:PutLogEvents arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-api:*',
    ),
  );
  t.true(runtimeOf(orders).includes('xray:PutTraceSegments *'));
  t.deepEqual(none.flatMap(runtimeOf), []);
  // The observed statements are the same either way.
  t.deepEqual(
    all.map((p) => p.document.Statement.filter((s) => !s.Sid.startsWith('Runtime'))),
    none.map((p) => p.document.Statement),
  );
  for (const p of all) t.is(p.replay.allowed, p.replay.permissions);
  const total = all.reduce((n, p) => n + p.replay.permissions, 0);
  const text = await cli(['--db', db, 'policy']);
  // The summary is on stderr: stdout holds the documents only.
  t.true(text.err.includes(`all ${total} permissions allowed`), text.err.slice(-400));
});

test('explain says why a run-time need is granted, and where the fact comes from', async (t) => {
  const db = await sampleDb();
  const CASES: { args: string[]; granted: boolean; reason: RegExp }[] = [
    {
      args: ['orders-api', 'logs:PutLogEvents'],
      granted: true,
      reason:
        /^granted as a run-time need \(runtime, rule lambda-logs\) .*\/aws\/lambda\/orders-api:\*: Lambda writes .* Source: https:\/\/docs\.aws\.amazon\.com\/lambda\//,
    },
    {
      args: ['orders-api', 'xray:PutTraceSegments'],
      granted: true,
      reason: /run-time need \(runtime, rule lambda-xray\)/,
    },
    {
      args: ['orders-api', 'logs:PutLogEvents', '--runtime', 'none'],
      granted: false,
      reason: /^not granted/,
    },
    {
      args: ['orders-api', 'dynamodb:GetItem'],
      granted: true,
      reason: /^granted because \d+ selected calls/,
    },
  ];
  for (const c of CASES) {
    const e = JSON.parse((await cli(['--db', db, 'explain', ...c.args, '--json'])).out) as {
      granted: boolean;
      reasons: string[];
    };
    t.is(e.granted, c.granted, c.args.join(' '));
    t.regex(e.reasons[0] ?? '', c.reason, c.args.join(' '));
  }
});

test('policy and report read the permissions on a second thread (XRAY_LP_READ_THREAD=always) with the same output as on one', async (t) => {
  const db = await sampleDb();
  const dir = tempDir();
  for (const args of [
    ['policy', '--json'],
    ['policy', '--format', 'terraform', '--since', '2026-11-18T09:30:00Z'],
  ]) {
    const one = await cli(['--db', db, ...args], { env: { XRAY_LP_READ_THREAD: 'never' } });
    const two = await cli(['--db', db, ...args], { env: { XRAY_LP_READ_THREAD: 'always' } });
    t.is(one.code, 0, one.err);
    t.is(two.code, 0, two.err);
    t.true(one.out.length > 1000);
    t.is(two.out, one.out, args.join(' '));
  }
  const html = (mode: string): string => {
    const s = fs.readFileSync(path.join(dir, `${mode}.html`), 'utf8');
    // The time it was made is the one line that may differ.
    t.regex(s, /<dt>Made<\/dt><dd>/);
    return s.replace(/<dt>Made<\/dt><dd>[^<]*/g, '');
  };
  for (const mode of ['never', 'always'])
    t.is(
      (
        await cli(['--db', db, 'report', '--out', path.join(dir, `${mode}.html`)], {
          env: { XRAY_LP_READ_THREAD: mode },
        })
      ).code,
      0,
    );
  t.is(html('always'), html('never'));
});

test('XRAY_LP_READ_THREAD takes auto, always or never, and says so otherwise', async (t) => {
  const db = await sampleDb();
  const r = await cli(['--db', db, 'policy', '--json'], { env: { XRAY_LP_READ_THREAD: 'sometimes' } });
  t.is(r.code, 2);
  t.is(r.out, '');
  t.regex(r.err, /XRAY_LP_READ_THREAD="sometimes": write auto \(the default\), always or never/);
});
