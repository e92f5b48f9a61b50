/**
 * CloudTrail events → IAM actions and resources (src/iam/cloudtrail.ts), through the trace
 * mapping core: every row of the name table answers what it says, every action exists in the
 * Service Authorization Reference, versioned names lose their version, and each service's
 * requestParameters give the resource the trace mapping would.
 */
import test from 'ava';
import {
  EVENT_SOURCES,
  EVENT_TABLE,
  mapTrailCall,
  operationOf,
  PARAMETER_SERVICES,
  serviceOfSource,
  unversioned,
  type TrailCall,
} from '../../src/iam/cloudtrail.js';
import { actionInfo, actionsFor, mapCall } from '../../src/iam/index.js';

const ACC = '123456789012';
const R = 'eu-west-1';

test('every row of the CloudTrail name table maps through the core to the actions it states, each in the reference', (t) => {
  t.true(EVENT_TABLE.length >= 20);
  for (const row of EVENT_TABLE) {
    const o = operationOf(row.eventSource, row.eventName);
    t.truthy(row.source, `${row.eventName} has a source`);
    if (row.rule.kind === 'no-permission') {
      t.is(o.kind, 'no-permission', row.eventName);
      continue;
    }
    t.is(o.kind, 'call', row.eventName);
    if (o.kind !== 'call') continue;
    const actions = actionsFor(o.service, o.operation);
    t.deepEqual(actions, [...row.rule.expect], `${row.eventSource} ${row.eventName}`);
    for (const a of row.rule.expect) t.truthy(actionInfo(a), `${a} exists in the reference`);
  }
});

test('the table holds every mismatch the issue names', (t) => {
  const names = new Set(EVENT_TABLE.map((r) => `${r.eventSource.split('.')[0]}:${r.eventName}`));
  for (const n of [
    's3:ListObjects',
    's3:ListObjectsV2',
    's3:ListBuckets',
    's3:HeadObject',
    's3:HeadBucket',
    'sts:GetCallerIdentity',
    'monitoring:PutMetricData',
    'streams:GetRecords',
    'lambda:GetFunction20150331v2',
  ])
    t.true(names.has(n), n);
});

const SOURCES: [string, string | undefined][] = [
  ['s3.amazonaws.com', 's3'],
  ['monitoring.amazonaws.com', 'cloudwatch'],
  ['streams.dynamodb.amazonaws.com', 'dynamodb'],
  ['email.amazonaws.com', 'ses'],
  ['ecr.amazonaws.com', 'ecr'],
  ['cloudfront.amazonaws.com', 'cloudfront'],
  ['rdsdata.amazonaws.com', 'rds-data'],
  ['not-a-service.amazonaws.com', undefined],
  ['example.com', undefined],
];
for (const [source, prefix] of SOURCES)
  test(`eventSource ${source} → ${prefix ?? 'unknown'}`, (t) => {
    t.is(serviceOfSource(source)?.prefix, prefix);
  });

test('every eventSource row resolves to a prefix the reference has', (t) => {
  for (const host of Object.keys(EVENT_SOURCES)) t.truthy(serviceOfSource(host), host);
});

const VERSIONS: [string, string | undefined][] = [
  ['GetFunction20150331v2', 'GetFunction'],
  ['ListFunctions20150331', 'ListFunctions'],
  ['GetDistribution2020_05_31', 'GetDistribution'],
  ['GetObject', undefined],
  ['ListObjectsV2', undefined],
];
for (const [name, op] of VERSIONS)
  test(`versioned event name ${name}`, (t) => {
    t.is(unversioned(name), op);
  });

const call = (
  eventSource: string,
  eventName: string,
  requestParameters: Record<string, unknown> | null,
  resourceArns: string[] = [],
): TrailCall => ({ eventSource, eventName, region: R, account: ACC, requestParameters, resourceArns });

/** Event → (action, resource) pairs. */
const RESOURCES: [string, TrailCall, [string, string][]][] = [
  [
    's3 GetObject: bucket and key',
    call('s3.amazonaws.com', 'GetObject', { bucketName: 'orders-data', key: 'in/a.json' }),
    [['s3:GetObject', 'arn:aws:s3:::orders-data/in/a.json']],
  ],
  [
    's3 ListObjects: the bucket',
    call('s3.amazonaws.com', 'ListObjects', { bucketName: 'orders-data' }),
    [['s3:ListBucket', 'arn:aws:s3:::orders-data']],
  ],
  [
    's3 ListBuckets',
    call('s3.amazonaws.com', 'ListBuckets', { Host: 's3.eu-west-1.amazonaws.com' }),
    [['s3:ListAllMyBuckets', '*']],
  ],
  [
    'dynamodb GetItem: table',
    call('dynamodb.amazonaws.com', 'GetItem', { tableName: 'orders' }),
    [['dynamodb:GetItem', `arn:aws:dynamodb:${R}:${ACC}:table/orders`]],
  ],
  [
    'dynamodb BatchWriteItem: every table of requestItems',
    call('dynamodb.amazonaws.com', 'BatchWriteItem', { requestItems: { a: [], b: [] } }),
    [
      ['dynamodb:BatchWriteItem', `arn:aws:dynamodb:${R}:${ACC}:table/a`],
      ['dynamodb:BatchWriteItem', `arn:aws:dynamodb:${R}:${ACC}:table/b`],
    ],
  ],
  [
    'sqs SendMessage: queue URL',
    call('sqs.amazonaws.com', 'SendMessage', { queueUrl: `https://sqs.${R}.amazonaws.com/${ACC}/jobs` }),
    [['sqs:SendMessage', `arn:aws:sqs:${R}:${ACC}:jobs`]],
  ],
  [
    'sns Publish: topic',
    call('sns.amazonaws.com', 'Publish', { topicArn: `arn:aws:sns:${R}:${ACC}:alerts` }),
    [['sns:Publish', `arn:aws:sns:${R}:${ACC}:alerts`]],
  ],
  [
    'secretsmanager GetSecretValue: name → the ARN with its random suffix',
    call('secretsmanager.amazonaws.com', 'GetSecretValue', { secretId: 'orders/db' }),
    [['secretsmanager:GetSecretValue', `arn:aws:secretsmanager:${R}:${ACC}:secret:orders/db-??????`]],
  ],
  [
    'ssm GetParameter: parameter name',
    call('ssm.amazonaws.com', 'GetParameter', { name: '/orders/config' }),
    [['ssm:GetParameter', `arn:aws:ssm:${R}:${ACC}:parameter/orders/config`]],
  ],
  [
    'kms Decrypt: key id',
    call('kms.amazonaws.com', 'Decrypt', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }),
    [['kms:Decrypt', `arn:aws:kms:${R}:${ACC}:key/1234abcd-12ab-34cd-56ef-1234567890ab`]],
  ],
  [
    'kms Decrypt: resources[].ARN',
    call('kms.amazonaws.com', 'Decrypt', {}, [`arn:aws:kms:${R}:${ACC}:key/k1`]),
    [['kms:Decrypt', `arn:aws:kms:${R}:${ACC}:key/k1`]],
  ],
  [
    'lambda Invoke: function name',
    call('lambda.amazonaws.com', 'Invoke', { functionName: 'orders-fn' }),
    [['lambda:InvokeFunction', `arn:aws:lambda:${R}:${ACC}:function:orders-fn`]],
  ],
  [
    'lambda GetFunction20150331v2: function name',
    call('lambda.amazonaws.com', 'GetFunction20150331v2', { functionName: 'orders-fn' }),
    [['lambda:GetFunction', `arn:aws:lambda:${R}:${ACC}:function:orders-fn`]],
  ],
  [
    'ec2 StartInstances (AWS docs example): instance id',
    call('ec2.amazonaws.com', 'StartInstances', { instancesSet: { items: [{ instanceId: 'i-ebeaf9e2' }] } }),
    [['ec2:StartInstances', `arn:aws:ec2:${R}:${ACC}:instance/i-ebeaf9e2`]],
  ],
  [
    'logs CreateLogStream: log group',
    call('logs.amazonaws.com', 'CreateLogStream', {
      logGroupName: '/aws/lambda/orders-fn',
      logStreamName: 's1',
    }),
    [['logs:CreateLogStream', `arn:aws:logs:${R}:${ACC}:log-group:/aws/lambda/orders-fn:log-stream:s1`]],
  ],
  [
    'ecr DescribeRepositories without a name: the wildcard for its type',
    call('ecr.amazonaws.com', 'DescribeRepositories', null),
    [['ecr:DescribeRepositories', `arn:aws:ecr:${R}:${ACC}:repository/*`]],
  ],
  [
    'ecr DescribeImages: repository',
    call('ecr.amazonaws.com', 'DescribeImages', { repositoryName: 'app' }),
    [['ecr:DescribeImages', `arn:aws:ecr:${R}:${ACC}:repository/app`]],
  ],
  [
    'states StartExecution: state machine ARN',
    call('states.amazonaws.com', 'StartExecution', {
      stateMachineArn: `arn:aws:states:${R}:${ACC}:stateMachine:flow`,
    }),
    [['states:StartExecution', `arn:aws:states:${R}:${ACC}:stateMachine:flow`]],
  ],
  [
    'kinesis PutRecord: stream name',
    call('kinesis.amazonaws.com', 'PutRecord', { streamName: 'clicks' }),
    [['kinesis:PutRecord', `arn:aws:kinesis:${R}:${ACC}:stream/clicks`]],
  ],
  [
    'monitoring PutMetricData',
    call('monitoring.amazonaws.com', 'PutMetricData', { namespace: 'Orders' }),
    // The core's answer for the same call in a trace (the reference lists an optional `dataset` type).
    [['cloudwatch:PutMetricData', `arn:aws:cloudwatch:${R}:${ACC}:dataset/*`]],
  ],
];
for (const [name, c, expected] of RESOURCES)
  test(`resources: ${name}`, (t) => {
    const r = mapTrailCall(c);
    t.is(r.status, 'mapped', JSON.stringify(r));
    if (r.status !== 'mapped') return;
    t.deepEqual(
      r.permissions.map((p) => [p.action, p.resource]),
      expected,
    );
  });

test('every service with a requestParameters reader has a resource case', (t) => {
  const covered = new Set(RESOURCES.map(([, c]) => serviceOfSource(c.eventSource)?.prefix));
  for (const s of PARAMETER_SERVICES) t.true(covered.has(s), s);
});

test('one operation gives one answer whichever source recorded it', (t) => {
  const viaTrail = mapTrailCall(call('dynamodb.amazonaws.com', 'GetItem', { tableName: 'orders' }));
  const viaTrace = mapCall({
    service: 'DynamoDB',
    operation: 'GetItem',
    region: R,
    account: ACC,
    params: { table_name: 'orders' },
  });
  t.deepEqual(viaTrail, viaTrace);
});

const OTHER: [string, TrailCall, 'no-permission' | 'unmapped'][] = [
  [
    'GetCallerIdentity needs no permission',
    call('sts.amazonaws.com', 'GetCallerIdentity', null),
    'no-permission',
  ],
  ['ConsoleLogin is not an IAM action', call('signin.amazonaws.com', 'ConsoleLogin', null), 'no-permission'],
  [
    'API Gateway GetRestApis: no such action (apigateway:GET)',
    call('apigateway.amazonaws.com', 'GetRestApis', null),
    'unmapped',
  ],
  ['an unknown event source', call('nothing.amazonaws.com', 'Do', null), 'unmapped'],
];
for (const [name, c, status] of OTHER)
  test(`not mapped: ${name}`, (t) => {
    t.is(mapTrailCall(c).status, status);
  });
