/**
 * Conditions on policy statements (issue 22, dependent actions): a denied `iam:PassRole` or `kms:`
 * permission that a call of the workload explains is granted on the role or key it names, with
 * its condition; statements with different conditions are never merged; every format renders the
 * condition; the replay evaluates it with the context it names.
 */
import test from 'ava';
import { parse as parseYaml } from 'yaml';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies, type PolicyDocument, type WorkloadPolicy } from '../../src/policy/build.js';
import { renderAll, renderPolicy, POLICY_FORMATS, type PolicyFormat } from '../../src/policy/formats.js';
import { replayEvidence, replayFormats } from '../../src/policy/replay.js';
import { readBack } from '../../src/policy/reread.js';
import { buildStatements, packDocuments } from '../../src/policy/statements.js';
import type { NeedCondition } from '../../src/runtime/types.js';
import { oracleAllows } from '../support/oracle.js';
import { awsCall, batch, lambdaSegment, tempDir, tempStore, traceId, writeFile } from '../support/helpers.js';

const ACCOUNT = '123456789012';
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app-task`;
const VIA_S3: NeedCondition = {
  test: 'StringEquals',
  variable: 'kms:ViaService',
  values: ['s3.eu-west-1.amazonaws.com'],
};
const VIA_SQS: NeedCondition = { ...VIA_S3, values: ['sqs.eu-west-1.amazonaws.com'] };

const denied = (action: string, resource: string): Record<string, unknown> => ({
  http: { response: { status: 403 } },
  cause: {
    exceptions: [
      {
        type: 'AccessDenied',
        message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/app/fn is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
      },
    ],
  },
});

test('statements: grants with different conditions are never merged; Sids depend on the condition', (t) => {
  const st = buildStatements(
    [
      { action: 'kms:Decrypt', resource: KEY, condition: VIA_S3 },
      { action: 'kms:Decrypt', resource: `${KEY}-2`, condition: VIA_SQS },
      { action: 'kms:Decrypt', resource: `${KEY}-3` },
    ],
    'Runtime',
  );
  t.is(st.length, 3);
  t.deepEqual(
    st.map((s) => s.Condition?.StringEquals?.['kms:ViaService'] ?? null),
    [['s3.eu-west-1.amazonaws.com'], ['sqs.eu-west-1.amazonaws.com'], null],
  );
  t.is(new Set(st.map((s) => s.Sid)).size, 3);
  // Same content, same Sid; only the condition differs, another Sid.
  const again = buildStatements([{ action: 'kms:Decrypt', resource: KEY, condition: VIA_S3 }], 'Runtime');
  const other = buildStatements([{ action: 'kms:Decrypt', resource: KEY, condition: VIA_SQS }], 'Runtime');
  t.is(
    again[0]!.Sid,
    buildStatements([{ action: 'kms:Decrypt', resource: KEY, condition: VIA_S3 }], 'Runtime')[0]!.Sid,
  );
  t.not(again[0]!.Sid, other[0]!.Sid);
  // Splitting keeps each part's condition, and the size counts it.
  const parts = packDocuments(
    buildStatements(
      Array.from({ length: 40 }, (_, i) => ({
        action: 'kms:Decrypt',
        resource: `${KEY}-${i}`,
        condition: VIA_S3,
      })),
      'Runtime',
    ),
    1000,
  );
  t.true(parts.length > 1);
  for (const d of parts) {
    t.true(JSON.stringify(d).length <= 1000);
    t.true(
      d.Statement.every(
        (s) => s.Condition?.StringEquals?.['kms:ViaService']?.[0] === 's3.eu-west-1.amazonaws.com',
      ),
    );
  }
});

const REPLAY: { name: string; doc: PolicyDocument; fails?: RegExp }[] = [
  {
    name: 'the condition as granted',
    doc: {
      Version: '2012-10-17',
      Statement: buildStatements([{ action: 'kms:Decrypt', resource: KEY, condition: VIA_S3 }], 'Runtime'),
    },
  },
  {
    name: 'the condition lost',
    doc: {
      Version: '2012-10-17',
      Statement: buildStatements([{ action: 'kms:Decrypt', resource: KEY }], 'Runtime'),
    },
    fails: /grants kms:Decrypt on .* without its condition kms:ViaService/,
  },
  {
    name: 'another service in the condition',
    doc: {
      Version: '2012-10-17',
      Statement: buildStatements([{ action: 'kms:Decrypt', resource: KEY, condition: VIA_SQS }], 'Runtime'),
    },
    fails:
      /does not allow its own evidence, kms:Decrypt on .* with kms:ViaService = s3\.eu-west-1\.amazonaws\.com \(not-allowed\)/,
  },
];

for (const c of REPLAY)
  test(`replay with conditions: ${c.name}`, (t) => {
    const run = (): unknown =>
      replayEvidence([c.doc], [], [{ action: 'kms:Decrypt', resource: KEY, condition: VIA_S3 }], {});
    if (c.fails) t.throws(run, { message: c.fails });
    else t.deepEqual(run(), { permissions: 1, allowed: 1 });
  });

async function dependentStore(): Promise<ReturnType<typeof tempStore>['store']> {
  const { store } = tempStore();
  const file = writeFile(
    tempDir(),
    'denied.json',
    batch([
      {
        id: traceId(901),
        segments: [
          lambdaSegment(traceId(901), 'deployer', [
            awsCall('S3', 'GetObject', { bucket_name: 'docs', key: 'a.txt' }, denied('kms:Decrypt', KEY)),
            awsCall('ECS', 'RunTask', { cluster: 'main' }, denied('iam:PassRole', ROLE)),
            awsCall('DynamoDB', 'GetItem', { table_name: 'orders' }),
          ]),
        ],
      },
    ]),
  );
  const s = await ingest(store, { inputs: [file] });
  if (s.rejected > 0) throw new Error('did not ingest');
  return store;
}

test('policy: the key and role an AccessDenied names are granted with their conditions, origin dependent, in every format', async (t) => {
  const store = await dependentStore();
  const p = buildPolicies(store, { filter: {} }).policies[0]!;
  const kms = p.document.Statement.find((s) => s.Action.includes('kms:Decrypt'))!;
  t.deepEqual(kms.Resource, [KEY]);
  t.deepEqual(kms.Condition, { StringEquals: { 'kms:ViaService': ['s3.eu-west-1.amazonaws.com'] } });
  const pass = p.document.Statement.find((s) => s.Action.includes('iam:PassRole'))!;
  t.deepEqual(pass.Resource, [ROLE]);
  t.deepEqual(pass.Condition, { StringEquals: { 'iam:PassedToService': ['ecs-tasks.amazonaws.com'] } });
  t.regex(kms.Sid, /^Runtime/);
  const ev = p.evidence.flatMap((e) => e.actions).find((a) => a.action === 'kms:Decrypt')!;
  t.is(ev.origin, 'dependent');
  t.regex(ev.runtime?.[0]?.why ?? '', /AccessDenied named kms:Decrypt on this key behind s3:GetObject/);
  t.regex(ev.runtime?.[0]?.source ?? '', /UsingKMSEncryption/);
  t.true(
    p.warnings.some(
      (w) =>
        w.code === 'dependent' &&
        w.message.startsWith(`kms:Decrypt on ${KEY} granted with the condition kms:ViaService`),
    ),
  );
  // The calls whose key and role are named are no longer said as unknown.
  t.false(p.warnings.some((w) => w.code === 'dependent' && /^ecs:RunTask passes a role/.test(w.message)));
  t.false(
    p.warnings.some(
      (w) => w.code === 'denied' && (w.action === 'kms:Decrypt' || w.action === 'iam:PassRole'),
    ),
  );
  t.true(p.replay.permissions >= 2);
  // The oracle: allowed through the right service only.
  t.true(
    await oracleAllows(p.document, 'kms:Decrypt', KEY, ACCOUNT, {
      'kms:ViaService': 's3.eu-west-1.amazonaws.com',
    }),
  );
  t.false(
    await oracleAllows(p.document, 'kms:Decrypt', KEY, ACCOUNT, {
      'kms:ViaService': 'sqs.eu-west-1.amazonaws.com',
    }),
  );
  t.true(
    await oracleAllows(p.document, 'iam:PassRole', ROLE, ACCOUNT, {
      'iam:PassedToService': 'ecs-tasks.amazonaws.com',
    }),
  );
  t.false(
    await oracleAllows(p.document, 'iam:PassRole', ROLE, ACCOUNT, {
      'iam:PassedToService': 'lambda.amazonaws.com',
    }),
  );
  // Every format carries the condition.
  for (const f of POLICY_FORMATS) {
    const text = renderPolicy(p, f);
    if (f === 'terraform') {
      t.regex(
        text,
        /condition \{\n {6}test {5}= "StringEquals"\n {6}variable = "kms:ViaService"\n {6}values {3}= \["s3\.eu-west-1\.amazonaws\.com"\]\n {4}\}/,
      );
      t.regex(text, /variable = "iam:PassedToService"\n {6}values {3}= \["ecs-tasks\.amazonaws\.com"\]/);
      continue;
    }
    const parsed =
      f === 'iam'
        ? JSON.parse(text)
        : parseYaml(text, { customTags: [{ tag: '!Sub', resolve: (s: string) => s }] });
    const st = collect(parsed).find((s) => s.Action.includes('kms:Decrypt'));
    t.deepEqual(st?.Condition, kms.Condition, f);
  }
});

/** Every object with an Action list anywhere in a parsed document. */
function collect(v: unknown): { Action: string[]; Condition?: unknown }[] {
  if (Array.isArray(v)) return v.flatMap(collect);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return [
      ...(Array.isArray(o.Action) ? [o as { Action: string[] }] : []),
      ...Object.values(o).flatMap(collect),
    ];
  }
  return [];
}

test('policy: with no call that explains it, a denied kms: permission stays denied (left out)', async (t) => {
  const { store } = tempStore();
  const file = writeFile(
    tempDir(),
    'direct.json',
    batch([
      {
        id: traceId(902),
        segments: [
          lambdaSegment(traceId(902), 'direct', [
            awsCall('KMS', 'Decrypt', { key_id: KEY }, denied('kms:Decrypt', KEY)),
            awsCall('DynamoDB', 'GetItem', { table_name: 'orders' }),
          ]),
        ],
      },
    ]),
  );
  await ingest(store, { inputs: [file] });
  const p = buildPolicies(store, { filter: {} }).policies[0]!;
  t.false(p.document.Statement.some((s) => s.Action.includes('kms:Decrypt')));
  t.true(p.warnings.some((w) => w.code === 'denied' && w.action === 'kms:Decrypt'));
});

/* ------------------------------------------------ the replay after every output format */

/** Breaks one format's text in a way a buggy transformation could. */
const BREAKS: Record<PolicyFormat, { how: string; breaks: (text: string) => string; names: RegExp }> = {
  iam: {
    how: 'a resource lost',
    breaks: (s) =>
      s.replace(
        `"arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/orders"`,
        '"arn:aws:dynamodb:eu-west-1:1:table/x"',
      ),
    names: /^IAM JSON output: .*dynamodb:GetItem on arn:aws:dynamodb:eu-west-1:123456789012:table\/orders/,
  },
  cloudformation: {
    how: 'a condition dropped',
    breaks: (s) => s.replace(/\n\s+Condition:\n\s+'StringEquals':\n\s+'kms:ViaService':\n\s+- '[^']*'/, ''),
    names: /^CloudFormation output: .*kms:Decrypt on .* without its condition kms:ViaService/,
  },
  sam: {
    how: 'an action misspelt',
    breaks: (s) => s.replace("- 'iam:PassRole'", "- 'iam:PasRole'"),
    names: /^SAM output: .*iam:PassRole on arn:aws:iam::123456789012:role\/app-task/,
  },
  serverless: {
    how: 'a condition value changed',
    breaks: (s) => s.replace("'ecs-tasks.amazonaws.com'", "'lambda.amazonaws.com'"),
    names:
      /^Serverless Framework output: .*iam:PassRole on .* with iam:PassedToService = ecs-tasks\.amazonaws\.com/,
  },
  terraform: {
    how: 'a resource truncated',
    breaks: (s) => s.replace('table/orders"', () => 'table/order"'),
    names: /^Terraform output: .*dynamodb:GetItem on arn:aws:dynamodb:eu-west-1:123456789012:table\/orders/,
  },
};

test('replay after every format: what each format writes of the policy allows its evidence', async (t) => {
  const store = await dependentStore();
  const p = buildPolicies(store, { filter: {} }).policies[0]!;
  const observed = [
    { action: 'dynamodb:GetItem', resource: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/orders` },
  ];
  const needs = [
    { action: 'kms:Decrypt', resource: KEY, condition: VIA_S3 },
    {
      action: 'iam:PassRole',
      resource: ROLE,
      condition: {
        test: 'StringEquals',
        variable: 'iam:PassedToService',
        values: ['ecs-tasks.amazonaws.com'],
      } as NeedCondition,
    },
  ];
  t.deepEqual(replayFormats(p, observed, needs, {}), [...POLICY_FORMATS]);
  for (const f of POLICY_FORMATS) {
    const b = BREAKS[f];
    const render = (q: WorkloadPolicy, g: PolicyFormat): string => {
      const text = renderAll([q], g);
      return g === f ? b.breaks(text) : text;
    };
    t.not(b.breaks(renderAll([p], f)), renderAll([p], f), `${f}: the break applies`);
    t.throws(
      () => replayFormats(p, observed, needs, {}, undefined, render),
      { message: b.names },
      `${f}: ${b.how}`,
    );
  }
});

test('replay after every format: placeholders survive each format', async (t) => {
  const store = await dependentStore();
  const p = buildPolicies(store, { filter: {}, placeholders: true }).policies[0]!;
  t.true(JSON.stringify(p.documents).includes('${AWS::AccountId}'));
  const observed = [
    { action: 'dynamodb:GetItem', resource: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/orders` },
  ];
  t.deepEqual(
    replayFormats(p, observed, [], { placeholders: true }, { account: ACCOUNT, region: 'eu-west-1' }),
    [...POLICY_FORMATS],
  );
  // Terraform with its data sources replaced by a literal account: caught.
  const render = (q: WorkloadPolicy, g: PolicyFormat): string =>
    g === 'terraform'
      ? renderAll([q], g).replaceAll('${data.aws_caller_identity.current.account_id}', '999999999999')
      : renderAll([q], g);
  t.throws(
    () =>
      replayFormats(
        p,
        observed,
        [],
        { placeholders: true },
        { account: ACCOUNT, region: 'eu-west-1' },
        render,
      ),
    { message: /^Terraform output: .*dynamodb:GetItem/ },
  );
});

test('every format reads back to the documents it was given, whatever a resource holds (U+2028 was indented into values)', (t) => {
  const resources = [
    'arn:aws:s3:::b/a\u0001b\u007f\u2028c\u2029\rx \ud800d"e\'f\\g${h}%{i}$${j}\tk\nl\u00e9 #m: n',
    'arn:aws:s3:::b/${AWS::AccountId}x',
    'arn:aws:s3:::b/- [x]: {y}',
    'arn:aws:s3:::b/trail  ',
  ];
  const doc: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'A',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: resources,
        Condition: { StringEquals: { 'kms:ViaService': ['s3.x'] } },
      },
    ],
  };
  const p = {
    principal: 'p',
    kind: 'lambda',
    name: 'n\u0001"x',
    account: null,
    region: null,
    document: doc,
    documents: [doc],
    size: 0,
    warnings: [{ code: 'runtime' as const, message: 'w\u0001\n#' }],
    evidence: [],
    completeness: {} as WorkloadPolicy['completeness'],
    replay: { permissions: 0, allowed: 0 },
  };
  for (const f of POLICY_FORMATS) {
    const back = readBack(renderAll([p], f), f);
    t.deepEqual(back[0]!.Statement[0]!.Resource, resources, f);
    t.deepEqual(back[0]!.Statement[0]!.Condition, doc.Statement[0]!.Condition, f);
  }
});
