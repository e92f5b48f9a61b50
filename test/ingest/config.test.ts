/**
 * Configuration exports through `ingest` (src/ingest/config.ts, schema v4 `configs`): detected by
 * content, stored with their input, read by the run-time rules. A configuration adds no workload
 * of its own; a malformed export is refused whole with its position and a hint.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { configFacts, configShape } from '../../src/ingest/config.js';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies } from '../../src/policy/build.js';
import { compareGranted } from '../../src/compare/compare.js';
import { mergeGranted, parseGrantedFile } from '../../src/grants/granted.js';
import { loadFunctionConfigs } from '../../src/store/configs.js';
import type { Store } from '../../src/store/db.js';
import { cli, repoRoot, tempDir, tempStore, writeFile } from '../support/helpers.js';
import { oracleAllows } from '../support/oracle.js';
import { sqsInvocation } from '../support/shards.js';

const fixture = (name: string): string => path.join(repoRoot, 'test/fixtures/config', name);
const json = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(fixture(name), 'utf8')) as Record<string, unknown>;
const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:sqs-consumer';
/** The customer managed keys the fixtures name (`KMSKeyArn`). */
const ENV_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const FILTER_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321';
const GET_FILTER_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/5555eeee-66ff-77aa-88bb-99cc00dd11ee';

/** Export → shape and the facts kept. */
const SHAPES: {
  file: string;
  shape: string;
  facts: [string, string, string | null, Record<string, unknown>][];
}[] = [
  {
    file: 'get-function-configuration.json',
    shape: 'lambda-configuration',
    facts: [
      [
        'function',
        FN,
        FN,
        {
          role: 'arn:aws:iam::123456789012:role/service-role/sqs-consumer-role',
          logGroup: '/shop/consumers',
          vpc: true,
          tracing: 'Active',
          deadLetter: 'arn:aws:sqs:eu-west-1:123456789012:sqs-consumer-dlq',
          kmsKey: ENV_KEY,
        },
      ],
    ],
  },
  {
    file: 'get-function.json',
    shape: 'lambda-configuration',
    facts: [
      [
        'function',
        'arn:aws:lambda:eu-west-1:123456789012:function:never-traced',
        'arn:aws:lambda:eu-west-1:123456789012:function:never-traced',
        { role: 'arn:aws:iam::123456789012:role/never-traced-role', tracing: 'PassThrough' },
      ],
    ],
  },
  {
    file: 'list-event-source-mappings.json',
    shape: 'lambda-event-source-mappings',
    facts: [
      [
        'mapping',
        'a1b2c3d4-5678-90ab-cdef-11111EXAMPLE',
        FN,
        {
          eventSource: 'arn:aws:sqs:eu-west-1:123456789012:orders-in',
          state: 'Enabled',
          kmsKey: FILTER_KEY,
        },
      ],
      // The mapping of an alias belongs to the function.
      [
        'mapping',
        'a1b2c3d4-5678-90ab-cdef-22222EXAMPLE',
        FN,
        { eventSource: 'arn:aws:kinesis:eu-west-1:123456789012:stream/clicks', state: 'Enabled' },
      ],
    ],
  },
  {
    file: 'get-event-source-mapping.json',
    shape: 'lambda-event-source-mappings',
    facts: [
      [
        'mapping',
        'a1b2c3d4-5678-90ab-cdef-33333EXAMPLE',
        FN,
        {
          eventSource: 'arn:aws:sqs:eu-west-1:123456789012:returns-in',
          state: 'Enabled',
          kmsKey: GET_FILTER_KEY,
        },
      ],
    ],
  },
  {
    file: 'describe-task-definition.json',
    shape: 'ecs-task-definition',
    facts: [
      [
        'task-definition',
        'arn:aws:ecs:eu-west-1:123456789012:task-definition/billing-worker:7',
        null,
        {
          family: 'billing-worker',
          taskRole: 'arn:aws:iam::123456789012:role/billing-worker-task-role',
          executionRole: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
        },
      ],
    ],
  },
  {
    file: '../granted/list-functions.json',
    shape: 'lambda-configuration',
    facts: [],
  },
];

for (const s of SHAPES)
  test(`config shape: ${s.file}`, (t) => {
    const v = json(s.file);
    t.is(configShape(v), s.shape as never);
    const facts = configFacts(v, 0).map((f) => [f.kind, f.key, f.function, f.data]);
    if (s.facts.length > 0) t.deepEqual(facts, s.facts);
    else t.true(facts.length > 0 && facts.every((f) => f[0] === 'function'));
  });

test('not configuration: a segment document, a span record, a policy', (t) => {
  for (const v of [
    { name: 'x', id: 'a', trace_id: '1-5759e988-bd862e3fe1be46a994272793', start_time: 1 },
    { Version: '2012-10-17', Statement: [] },
    { FunctionName: 'only-a-name' },
  ])
    t.is(configShape(v), undefined, JSON.stringify(v));
});

async function ingested(files: string[]): Promise<{ store: Store; rejected: number; message: string }> {
  const { store } = tempStore();
  const r = await ingest(store, { inputs: files });
  return { store, rejected: r.rejected, message: r.results.find((x) => x.error)?.error?.message ?? '' };
}

test('a malformed export is refused whole, with its position and a hint; nothing of it is stored', async (t) => {
  const { store, rejected, message } = await ingested([fixture('malformed-mappings.json')]);
  t.is(rejected, 1);
  t.regex(message, /EventSourceMappings\[0\] has no UUID or no Lambda FunctionArn/);
  t.deepEqual(store.prepare('SELECT count(*) AS n FROM configs').get(), { n: 0 });
});

test('a configuration for a function never traced adds no workload; it is stored with its input', async (t) => {
  const { store, rejected } = await ingested([fixture('get-function.json')]);
  t.is(rejected, 0);
  t.deepEqual(store.prepare('SELECT count(*) AS n FROM workloads').get(), { n: 0 });
  const row = store
    .prepare('SELECT c.kind, c.key, s.path FROM configs c JOIN sources s ON s.id = c.source_id')
    .get() as { kind: string; key: string; path: string };
  t.is(row.kind, 'function');
  t.true(row.path.endsWith('get-function.json'));
  t.deepEqual(buildPolicies(store, { filter: {} }).policies, []);
});

/** The traced function, with its configuration and mappings in either order. */
for (const order of ['configuration first', 'traces first'])
  test(`config fields become run-time needs (${order}): log group, VPC, dead letter, tracing, mappings`, async (t) => {
    const { store, dir } = tempStore();
    const spans = writeFile(dir, 'spans.jsonl', sqsInvocation({ trace: 3, queue: 'orders-in' }));
    const configs = [fixture('get-function-configuration.json'), fixture('list-event-source-mappings.json')];
    const r = await ingest(store, {
      inputs: order === 'traces first' ? [spans, ...configs] : [...configs, spans],
    });
    t.is(r.rejected, 0);
    const [p] = buildPolicies(store, { filter: {} }).policies;
    const runtime = new Map<string, string>();
    for (const e of p!.evidence)
      for (const a of e.actions)
        for (const x of a.runtime ?? []) runtime.set(`${a.action} ${x.resource}`, `${a.origin} ${x.rule}`);
    const G = 'arn:aws:logs:eu-west-1:123456789012:log-group:/shop/consumers';
    t.is(runtime.get(`logs:PutLogEvents ${G}:*`), 'config lambda-logs');
    t.false(
      [...runtime.keys()].some((k) => k.includes('/aws/lambda/sqs-consumer')),
      'the configured group replaces the default',
    );
    t.is(runtime.get('ec2:CreateNetworkInterface *'), 'config lambda-vpc');
    t.is(
      runtime.get('sqs:SendMessage arn:aws:sqs:eu-west-1:123456789012:sqs-consumer-dlq'),
      'config lambda-dead-letter',
    );
    t.is(runtime.get('xray:PutTraceSegments *'), 'runtime lambda-xray');
    // The SQS queue is both seen in the traces and mapped: one need, from the trace.
    t.is(
      runtime.get('sqs:ReceiveMessage arn:aws:sqs:eu-west-1:123456789012:orders-in'),
      'runtime sqs-trigger',
    );
    t.is(
      runtime.get('kinesis:GetRecords arn:aws:kinesis:eu-west-1:123456789012:stream/clicks'),
      'config kinesis-trigger',
    );
  });

/**
 * `KMSKeyArn` of a function (its environment variables) and of its mappings (their filter
 * criteria): stored, read back, and granted nothing, as the Lambda developer guide says (see
 * src/runtime/lambda.ts): a warning names each key, its field and the source, and the policy
 * document allows no KMS action on either key, whatever the service or region it comes through.
 */
test('KMSKeyArn of a function and of its mappings: kept, said in warnings, never granted to the role', async (t) => {
  const { store, dir } = tempStore();
  const spans = writeFile(dir, 'spans.jsonl', sqsInvocation({ trace: 6, queue: 'orders-in' }));
  const r = await ingest(store, {
    inputs: [
      spans,
      fixture('get-function-configuration.json'),
      fixture('list-event-source-mappings.json'),
      fixture('get-event-source-mapping.json'),
    ],
  });
  t.is(r.rejected, 0);
  const config = loadFunctionConfigs(store).get(FN);
  t.is(config?.envKey, ENV_KEY);
  t.deepEqual(config?.filterKeys, [
    { key: FILTER_KEY, eventSource: 'arn:aws:sqs:eu-west-1:123456789012:orders-in' },
    { key: GET_FILTER_KEY, eventSource: 'arn:aws:sqs:eu-west-1:123456789012:returns-in' },
  ]);
  const [p] = buildPolicies(store, { filter: {} }).policies;
  const actions = p!.document.Statement.flatMap((st) => st.Action);
  t.true(actions.includes('sqs:ReceiveMessage'), 'the mappings still give their needs');
  t.false(
    actions.some((a) => a.toLowerCase().startsWith('kms:')),
    'nothing of KMS is granted',
  );
  const runtime = p!.warnings.filter((w) => w.code === 'runtime').map((w) => w.message);
  for (const [key, field] of [
    [ENV_KEY, /environment variables are encrypted/],
    [FILTER_KEY, /mapping of arn:aws:sqs:eu-west-1:123456789012:orders-in encrypts its filter criteria/],
    [GET_FILTER_KEY, /mapping of arn:aws:sqs:eu-west-1:123456789012:returns-in encrypts its filter criteria/],
  ] as const)
    t.true(
      runtime.some(
        (m) => m.includes(key) && field.test(m) && m.includes('https://docs.aws.amazon.com/lambda/'),
      ),
      `a warning names ${key} and its source`,
    );
  // The independent evaluator: no KMS action on any of the keys, through Lambda or directly.
  for (const key of [ENV_KEY, FILTER_KEY, GET_FILTER_KEY])
    for (const [action, context] of [
      ['kms:Decrypt', { 'kms:ViaService': 'lambda.eu-west-1.amazonaws.com' }],
      ['kms:Decrypt', { 'kms:ViaService': 'lambda.us-east-1.amazonaws.com' }],
      ['kms:Decrypt', {}],
      ['kms:GenerateDataKey', { 'kms:ViaService': 'lambda.eu-west-1.amazonaws.com' }],
      ['kms:Encrypt', {}],
      ['kms:ScheduleKeyDeletion', {}],
    ] as const)
      t.false(
        await oracleAllows(p!.document, action, key, '123456789012', context),
        `denies ${action} on ${key} ${JSON.stringify(context)}`,
      );
  // ...while the same evaluator allows what the configuration does need (its log group).
  t.true(
    await oracleAllows(
      p!.document,
      'logs:PutLogEvents',
      'arn:aws:logs:eu-west-1:123456789012:log-group:/shop/consumers:log-stream:x',
      '123456789012',
    ),
  );
});

test('Role links a function to its role: compare needs no functions file, --by role no roles file', async (t) => {
  const { store, dir } = tempStore();
  const spans = writeFile(dir, 'spans.jsonl', sqsInvocation({ trace: 4, queue: 'orders-in' }));
  t.is((await ingest(store, { inputs: [spans, fixture('get-function-configuration.json')] })).rejected, 0);
  const details = {
    RoleDetailList: [
      {
        RoleName: 'sqs-consumer-role',
        Arn: 'arn:aws:iam::123456789012:role/service-role/sqs-consumer-role',
        Path: '/service-role/',
        RolePolicyList: [
          {
            PolicyName: 'all',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
            },
          },
        ],
        AttachedManagedPolicies: [],
      },
    ],
    Policies: [],
  };
  const r = compareGranted(store, {
    filter: {},
    granted: mergeGranted([parseGrantedFile(JSON.stringify(details), 'details.json')]),
  });
  t.deepEqual(
    r.workloads.map((w) => [w.name, w.role.name, w.role.matchedBy]),
    [['sqs-consumer', 'sqs-consumer-role', 'functions']],
  );
});

test('policy --by role needs no roles file when the configuration was ingested, and says how without it', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'r.db');
  const spans = writeFile(dir, 'spans.jsonl', sqsInvocation({ trace: 5, queue: 'orders-in' }));
  t.is((await cli(['--db', db, 'ingest', '--quiet', spans])).code, 0);
  const without = await cli(['--db', db, 'policy', '--by', 'role']);
  t.is(without.code, 2);
  t.regex(without.err, /--by role needs --roles FILE .*or the functions' configuration ingested/);
  t.is((await cli(['--db', db, 'ingest', '--quiet', fixture('get-function-configuration.json')])).code, 0);
  const r = await cli(['--db', db, 'policy', '--by', 'role', '--json']);
  t.is(r.code, 0, r.err);
  const [p] = JSON.parse(r.out) as { principal: string; kind: string; members: string[] }[];
  t.deepEqual(
    [p?.principal, p?.kind, p?.members],
    ['arn:aws:iam::123456789012:role/service-role/sqs-consumer-role', 'role', [FN]],
  );
});
