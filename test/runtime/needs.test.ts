/**
 * The run-time rules (src/runtime), table by table: each workload kind, each trace format, each
 * kind of event source and each configuration field gives exactly the needs its source lists,
 * scoped to the workload's own resources. The independent evaluator (iam-simulate, the test
 * oracle) allows each need and denies its neighbours: another function's log group, another
 * queue or stream, another account or region, and destructive actions.
 */
import test from 'ava';
import { actionInfo } from '../../src/iam/catalogue.js';
import { templateGlob } from '../../src/iam/evaluate.js';
import { globsOverlap } from '../../src/iam/glob.js';
import { buildStatements } from '../../src/policy/statements.js';
import {
  EVENT_SOURCE_RULES,
  eventSourceKind,
  runtimeNeeds,
  SOURCES,
  unionNeeds,
  type WorkloadFacts,
} from '../../src/runtime/needs.js';
import { oracleAllows } from '../support/oracle.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const fn = (over: Partial<WorkloadFacts> = {}): WorkloadFacts => ({
  kind: 'lambda',
  name: 'fn',
  arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:fn`,
  account: ACCOUNT,
  region: REGION,
  formats: [],
  triggers: [],
  ...over,
});
const pairs = (w: WorkloadFacts): string[] => runtimeNeeds(w).needs.map((n) => `${n.action} ${n.resource}`);
const GROUP = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/fn`;
const LOGS = [
  `logs:CreateLogGroup ${GROUP}`,
  `logs:CreateLogGroup ${GROUP}:*`,
  `logs:CreateLogStream ${GROUP}:*`,
  `logs:PutLogEvents ${GROUP}:*`,
];
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:jobs`;
const STREAM = `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/clicks`;
const TABLE_STREAM = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders/stream/2026-11-01T00:00:00.000`;
const CLUSTER = `arn:aws:kafka:${REGION}:${ACCOUNT}:cluster/events/0b5c6a1e-1111-2222-3333-444455556666-1`;
const BROKER = `arn:aws:mq:${REGION}:${ACCOUNT}:broker:orders:b-0b5c6a1e-1111-2222-3333-444455556666`;
const NETWORK = [
  'ec2:CreateNetworkInterface *',
  'ec2:DeleteNetworkInterface *',
  'ec2:DescribeNetworkInterfaces *',
  'ec2:DescribeSecurityGroups *',
  'ec2:DescribeSubnets *',
  'ec2:DescribeVpcs *',
];

/** An X-Ray daemon's needs (AWSXRayDaemonWriteAccess). */
const DAEMON = [
  'xray:GetSamplingRules *',
  'xray:GetSamplingStatisticSummaries *',
  'xray:GetSamplingTargets *',
  'xray:PutTelemetryRecords *',
  'xray:PutTraceSegments *',
];

/** Workload kind × trace format → the needs granted (sorted `action resource`). */
const KINDS: { name: string; w: WorkloadFacts; want: string[]; possible?: string[]; note?: RegExp }[] = [
  { name: 'Lambda, no trace format known: its logging only', w: fn(), want: LOGS },
  {
    name: 'Lambda traced by X-Ray (active tracing): logging and the two X-Ray writes',
    w: fn({ formats: ['x-ray'] }),
    want: [...LOGS, 'xray:PutTelemetryRecords *', 'xray:PutTraceSegments *'],
    possible: ['xray:GetSamplingRules', 'xray:GetSamplingStatisticSummaries', 'xray:GetSamplingTargets'],
  },
  {
    name: 'Lambda traced with OpenTelemetry: logging; the upload path is not knowable, said in a note',
    w: fn({ formats: ['opentelemetry'] }),
    want: LOGS,
    possible: [
      'xray:GetSamplingRules',
      'xray:GetSamplingStatisticSummaries',
      'xray:GetSamplingTargets',
      'xray:PutSpans',
      'xray:PutSpansForIndexing',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ],
    note: /spans do not say how they were uploaded/,
  },
  {
    name: 'Lambda whose configuration says TracingConfig Active: the X-Ray writes',
    w: fn({ config: { tracing: 'Active' } }),
    want: [...LOGS, 'xray:PutTelemetryRecords *', 'xray:PutTraceSegments *'],
    possible: ['xray:GetSamplingRules', 'xray:GetSamplingStatisticSummaries', 'xray:GetSamplingTargets'],
  },
  {
    name: 'ECS task traced by X-Ray (daemon beside it): the writes and the sampling reads; a note on the execution role',
    w: { ...fn(), kind: 'ecs', name: 'worker', arn: null, formats: ['x-ray'] },
    want: DAEMON,
    note: /ECS task role .* execution role/,
  },
  {
    name: 'EC2 traced by X-Ray: the daemon on the instance uploads and samples with its role',
    w: { ...fn(), kind: 'ec2', name: 'web', arn: null, formats: ['x-ray'] },
    want: DAEMON,
  },
  {
    name: "EKS traced by X-Ray: the daemon's needs; a note on the pod's role",
    w: { ...fn(), kind: 'eks', name: 'api', arn: null, formats: ['x-ray'] },
    want: DAEMON,
    note: /pod's role/,
  },
  {
    name: 'Step Functions traced by X-Ray: writes and the two sampling reads the state machine role needs',
    w: {
      ...fn(),
      kind: 'stepfunctions',
      name: 'flow',
      arn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:flow`,
      formats: ['x-ray'],
    },
    want: [
      'xray:GetSamplingRules *',
      'xray:GetSamplingTargets *',
      'xray:PutTelemetryRecords *',
      'xray:PutTraceSegments *',
    ],
  },
  {
    name: 'API Gateway: traced by the service itself, nothing for a role',
    w: { ...fn(), kind: 'apigateway', name: 'stage', arn: null, formats: ['x-ray'] },
    want: [],
  },
  {
    name: 'Lambda with no account recorded: * in its place, and a note',
    w: fn({ account: null, arn: null }),
    want: LOGS.map((l) => l.replace(ACCOUNT, '*')),
    note: /did not record the function's account/,
  },
];

for (const k of KINDS)
  test(`kind: ${k.name}`, (t) => {
    const r = runtimeNeeds(k.w);
    t.deepEqual(pairs(k.w), [...k.want].sort());
    t.deepEqual([...new Set(r.possible.map((n) => n.action))].sort(), k.possible ?? []);
    if (k.note)
      t.true(
        r.notes.some((n) => k.note!.test(n.message)),
        JSON.stringify(r.notes),
      );
    for (const n of r.needs) t.true(Object.values(SOURCES).includes(n.source as never), n.source);
  });

/** Event source kind → its needs, from a trigger in the traces or a mapping in the configuration. */
const SOURCES_TABLE: { kind: string; arn: string; want: string[] }[] = [
  {
    kind: 'sqs',
    arn: QUEUE,
    want: [`sqs:DeleteMessage ${QUEUE}`, `sqs:GetQueueAttributes ${QUEUE}`, `sqs:ReceiveMessage ${QUEUE}`],
  },
  {
    kind: 'kinesis',
    arn: STREAM,
    want: [
      `kinesis:DescribeStream ${STREAM}`,
      `kinesis:DescribeStreamSummary ${STREAM}`,
      `kinesis:GetRecords ${STREAM}`,
      `kinesis:GetShardIterator ${STREAM}`,
      `kinesis:ListShards ${STREAM}`,
      'kinesis:ListStreams *',
      `kinesis:SubscribeToShard ${STREAM}/consumer/*`,
    ],
  },
  {
    kind: 'dynamodb-streams',
    arn: TABLE_STREAM,
    want: [
      `dynamodb:DescribeStream ${TABLE_STREAM}`,
      `dynamodb:GetRecords ${TABLE_STREAM}`,
      `dynamodb:GetShardIterator ${TABLE_STREAM}`,
      'dynamodb:ListStreams *',
    ],
  },
  {
    kind: 'msk',
    arn: CLUSTER,
    want: [
      `kafka:DescribeCluster ${CLUSTER}`,
      `kafka:DescribeClusterV2 ${CLUSTER}`,
      'kafka:GetBootstrapBrokers *',
      ...NETWORK,
    ],
  },
  { kind: 'mq', arn: BROKER, want: [`mq:DescribeBroker ${BROKER}`, ...NETWORK] },
];

for (const s of SOURCES_TABLE) {
  test(`event source ${s.kind}: a trigger seen in the traces gets its poller's actions on that source`, (t) => {
    t.is(eventSourceKind(s.arn), s.kind as never);
    const w = fn({ triggers: [s.arn] });
    const extra = runtimeNeeds(w).needs.filter((n) => !n.action.startsWith('logs:'));
    t.deepEqual(extra.map((n) => `${n.action} ${n.resource}`).sort(), [...s.want].sort());
    t.true(extra.every((n) => n.origin === 'runtime' && n.rule === `${s.kind}-trigger`));
    t.true(
      extra.every((n) => n.source === EVENT_SOURCE_RULES[s.kind as keyof typeof EVENT_SOURCE_RULES].source),
    );
  });
  test(`event source ${s.kind}: a mapping in the configuration gives the same actions, origin config`, (t) => {
    const w = fn({ config: { eventSources: [s.arn] } });
    const extra = runtimeNeeds(w).needs.filter((n) => !n.action.startsWith('logs:'));
    t.deepEqual(extra.map((n) => `${n.action} ${n.resource}`).sort(), [...s.want].sort());
    t.true(extra.every((n) => n.origin === 'config'));
  });
}

test('not event sources: an SNS topic, a table (not its stream), a bucket', (t) => {
  for (const arn of [
    `arn:aws:sns:${REGION}:${ACCOUNT}:t`,
    `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`,
    'arn:aws:s3:::bucket',
    'not an arn',
  ])
    t.is(eventSourceKind(arn), undefined, arn);
});

/** Configuration field → the needs it adds. */
const CONFIG: { field: string; w: WorkloadFacts; want: string[]; note?: RegExp }[] = [
  {
    field: 'LoggingConfig.LogGroup replaces the default group',
    w: fn({ config: { logGroup: 'shared/app-logs' } }),
    want: LOGS.map((l) => l.replace('/aws/lambda/fn', 'shared/app-logs')),
  },
  {
    field: 'VpcConfig: the network-interface actions',
    w: fn({ config: { vpc: true } }),
    want: [
      ...LOGS,
      'ec2:AssignPrivateIpAddresses *',
      'ec2:CreateNetworkInterface *',
      'ec2:DeleteNetworkInterface *',
      'ec2:DescribeNetworkInterfaces *',
      'ec2:DescribeSubnets *',
      'ec2:UnassignPrivateIpAddresses *',
    ],
  },
  {
    field: 'DeadLetterConfig to a queue: sqs:SendMessage on it',
    w: fn({ config: { deadLetter: `${QUEUE}-dlq` } }),
    want: [...LOGS, `sqs:SendMessage ${QUEUE}-dlq`],
  },
  {
    field: 'DeadLetterConfig to a topic: sns:Publish on it',
    w: fn({ config: { deadLetter: `arn:aws:sns:${REGION}:${ACCOUNT}:failures` } }),
    want: [...LOGS, `sns:Publish arn:aws:sns:${REGION}:${ACCOUNT}:failures`],
  },
  {
    field: 'DeadLetterConfig to something else: nothing, and a note',
    w: fn({ config: { deadLetter: 'arn:aws:s3:::bucket' } }),
    want: LOGS,
    note: /neither an SQS queue nor an SNS topic/,
  },
  {
    field: 'an Amazon MQ mapping: a note on the credentials secret',
    w: fn({ config: { eventSources: [BROKER] } }),
    want: [...LOGS, `mq:DescribeBroker ${BROKER}`, ...NETWORK],
    note: /secretsmanager:GetSecretValue/,
  },
];

for (const c of CONFIG)
  test(`config: ${c.field}`, (t) => {
    const r = runtimeNeeds(c.w);
    t.deepEqual(pairs(c.w), [...c.want].sort());
    if (c.note) t.true(r.notes.some((n) => c.note!.test(n.message)));
  });

/**
 * The customer managed keys a configuration names (`KMSKeyArn`): the Lambda developer guide says
 * the role needs no KMS permission for either (a grant Lambda creates for the environment
 * variables; the key policy's regional Lambda service principal for filter criteria), so each
 * adds no need, only a note naming the key, the field and the source.
 */
const ENV_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const FILTER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0987dcba-09fe-87dc-65ba-ab0987654321`;
const KEYS: { field: string; w: WorkloadFacts; notes: [string, string, RegExp][] }[] = [
  {
    field: "the function's KMSKeyArn (environment variables): Lambda's grant, nothing for the role",
    w: fn({ config: { envKey: ENV_KEY } }),
    notes: [
      [
        'lambda-env-key',
        SOURCES.lambdaEnvKey,
        new RegExp(`environment variables are encrypted with the customer managed key ${ENV_KEY} .*grant`),
      ],
    ],
  },
  {
    field: "a mapping's KMSKeyArn (filter criteria): the key policy's Lambda principal in the key's region",
    w: fn({ config: { eventSources: [QUEUE], filterKeys: [{ key: FILTER_KEY, eventSource: QUEUE }] } }),
    notes: [
      [
        'mapping-filter-key',
        SOURCES.lambdaFilterKey,
        new RegExp(
          `mapping of ${QUEUE} encrypts its filter criteria with the customer managed key ${FILTER_KEY} .*lambda\\.${REGION}\\.amazonaws\\.com`,
        ),
      ],
    ],
  },
  {
    field: 'a self-managed Kafka mapping (no EventSourceArn) with a key in another region',
    w: fn({ config: { filterKeys: [{ key: FILTER_KEY.replace(REGION, 'us-east-1') }] } }),
    notes: [
      [
        'mapping-filter-key',
        SOURCES.lambdaFilterKey,
        /the event-source mapping encrypts .*lambda\.us-east-1\.amazonaws\.com/,
      ],
    ],
  },
  {
    field: 'both keys; the union of a role keeps each note once',
    w: fn({ config: { envKey: ENV_KEY, filterKeys: [{ key: FILTER_KEY, eventSource: QUEUE }] } }),
    notes: [
      ['lambda-env-key', SOURCES.lambdaEnvKey, new RegExp(ENV_KEY)],
      ['mapping-filter-key', SOURCES.lambdaFilterKey, new RegExp(FILTER_KEY)],
    ],
  },
];

for (const k of KEYS)
  test(`config key: ${k.field}`, (t) => {
    const without = runtimeNeeds(fn({ config: { ...k.w.config, envKey: undefined, filterKeys: undefined } }));
    const r = unionNeeds([runtimeNeeds(k.w), runtimeNeeds(k.w)]);
    t.deepEqual(r.needs, without.needs, 'the key adds no need');
    t.deepEqual(r.possible, without.possible, 'nor a possible one');
    t.false([...r.needs, ...r.possible].some((n) => n.action.startsWith('kms:')));
    const mine = r.notes.filter((n) => n.rule === 'lambda-env-key' || n.rule === 'mapping-filter-key');
    t.is(mine.length, k.notes.length);
    for (const [rule, source, message] of k.notes)
      t.true(
        mine.some((n) => n.rule === rule && n.source === source && message.test(n.message)),
        `${rule}: ${message}`,
      );
  });

test('every action of every rule exists in the Service Authorization Reference, on a resource its type allows', (t) => {
  const all = [
    ...KINDS.flatMap((k) => [...runtimeNeeds(k.w).needs, ...runtimeNeeds(k.w).possible]),
    ...SOURCES_TABLE.flatMap((s) => runtimeNeeds(fn({ triggers: [s.arn] })).needs),
    ...CONFIG.flatMap((c) => runtimeNeeds(c.w).needs),
  ];
  t.true(all.length > 50);
  for (const n of all) {
    const info = actionInfo(n.action);
    t.truthy(info, `${n.action} is in the reference`);
    if (!info) continue;
    t.is(info.action, n.action, 'spelled as the reference spells it');
    if (info.resourceTypes.length === 0) t.is(n.resource, '*', `${n.action} takes no resource type`);
    else
      t.true(
        n.resource === '*' || info.resourceTypes.some((r) => globsOverlap(templateGlob(r.arn), n.resource)),
        `${n.action} on ${n.resource} fits a resource type of the action`,
      );
  }
});

test('a role shared by two functions: the union of their needs, each note once', (t) => {
  const u = unionNeeds([runtimeNeeds(fn()), runtimeNeeds(fn({ name: 'other', arn: null, account: null }))]);
  t.true(u.needs.some((n) => n.resource === `${GROUP}:*`));
  t.true(u.needs.some((n) => n.resource.endsWith('/aws/lambda/other:*')));
  t.is(u.notes.length, 1);
});

/** The needs as a policy document, as `policy` packs them. */
const docOf = (w: WorkloadFacts): unknown => ({
  Version: '2012-10-17',
  Statement: buildStatements(runtimeNeeds(w).needs, 'Runtime'),
});

const OTHER = '210987654321';
/** Requests the oracle must allow (the needs themselves, on real resources) and deny (neighbours). */
const PROBES: { name: string; w: WorkloadFacts; allow: [string, string][]; deny: [string, string][] }[] = [
  {
    name: 'Lambda logging',
    w: fn(),
    allow: [
      ['logs:CreateLogGroup', GROUP],
      ['logs:CreateLogStream', `${GROUP}:log-stream:2026/11/20/[$LATEST]abc`],
      ['logs:PutLogEvents', `${GROUP}:log-stream:2026/11/20/[$LATEST]abc`],
    ],
    deny: [
      ['logs:PutLogEvents', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/other:log-stream:x`],
      ['logs:PutLogEvents', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/fn-2:log-stream:x`],
      ['logs:PutLogEvents', `arn:aws:logs:${REGION}:${OTHER}:log-group:/aws/lambda/fn:log-stream:x`],
      ['logs:PutLogEvents', `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/fn:log-stream:x`],
      ['logs:DeleteLogGroup', GROUP],
      ['logs:DeleteLogStream', `${GROUP}:log-stream:x`],
      ['logs:PutRetentionPolicy', GROUP],
    ],
  },
  {
    name: 'SQS trigger',
    w: fn({ triggers: [QUEUE] }),
    allow: [
      ['sqs:ReceiveMessage', QUEUE],
      ['sqs:DeleteMessage', QUEUE],
      ['sqs:GetQueueAttributes', QUEUE],
    ],
    deny: [
      ['sqs:ReceiveMessage', `arn:aws:sqs:${REGION}:${ACCOUNT}:other`],
      ['sqs:ReceiveMessage', `arn:aws:sqs:${REGION}:${OTHER}:jobs`],
      ['sqs:ReceiveMessage', `arn:aws:sqs:us-east-1:${ACCOUNT}:jobs`],
      ['sqs:DeleteQueue', QUEUE],
      ['sqs:PurgeQueue', QUEUE],
      ['sqs:SendMessage', QUEUE],
    ],
  },
  {
    name: 'Kinesis trigger',
    w: fn({ triggers: [STREAM] }),
    allow: [
      ['kinesis:GetRecords', STREAM],
      ['kinesis:GetShardIterator', STREAM],
      ['kinesis:ListStreams', '*'],
      ['kinesis:SubscribeToShard', `${STREAM}/consumer/lambda:1700000000`],
    ],
    deny: [
      ['kinesis:GetRecords', `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/other`],
      ['kinesis:GetRecords', `arn:aws:kinesis:${REGION}:${OTHER}:stream/clicks`],
      ['kinesis:DeleteStream', STREAM],
      ['kinesis:PutRecord', STREAM],
    ],
  },
  {
    name: 'DynamoDB Streams trigger',
    w: fn({ triggers: [TABLE_STREAM] }),
    allow: [
      ['dynamodb:GetRecords', TABLE_STREAM],
      ['dynamodb:DescribeStream', TABLE_STREAM],
    ],
    deny: [
      [
        'dynamodb:GetRecords',
        `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/other/stream/2026-11-01T00:00:00.000`,
      ],
      ['dynamodb:GetItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`],
      ['dynamodb:DeleteTable', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`],
    ],
  },
  {
    name: 'dead-letter queue',
    w: fn({ config: { deadLetter: `${QUEUE}-dlq` } }),
    allow: [['sqs:SendMessage', `${QUEUE}-dlq`]],
    deny: [
      ['sqs:SendMessage', QUEUE],
      ['sqs:ReceiveMessage', `${QUEUE}-dlq`],
    ],
  },
];

for (const p of PROBES)
  test(`oracle: ${p.name} is allowed, its neighbours are not`, async (t) => {
    const doc = docOf(p.w);
    for (const [action, resource] of p.allow)
      t.true(await oracleAllows(doc, action, resource, ACCOUNT), `allows ${action} on ${resource}`);
    for (const [action, resource] of p.deny)
      t.false(
        await oracleAllows(doc, action, resource, resource.includes(OTHER) ? OTHER : ACCOUNT),
        `denies ${action} on ${resource}`,
      );
  });
