/**
 * Attribute spellings, one case per instrumentation and operation (src/ingest/attributes.ts,
 * extract-span.ts): each fixture in test/fixtures/otel/instrumentations is a span shaped like the
 * instrumentation's own tests or source (its README says which), written here as an `aws/spans`
 * record of a Lambda function in 111122223333 / eu-west-1 (unless the fixture brings its own
 * resource), ingested, and turned into a policy. Expected: every (action, resource) the policy
 * grants, and the warnings it carries. Also: the same attributes where X-Ray rendered OTel spans as
 * segments (the `aws` block without its `aws.` prefix, annotations, `metadata.default`).
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies } from '../../src/policy/build.js';
import type { Store } from '../../src/store/db.js';
import { fixturesDir, tempStore, writeFile } from '../support/helpers.js';

const dir = path.join(fixturesDir, 'otel/instrumentations');

interface Fixture {
  span?: {
    name: string;
    kind: string;
    attributes: Record<string, unknown>;
    status?: { code: string; message?: string };
    events?: { name: string; attributes: Record<string, unknown> }[];
  };
  resource?: Record<string, unknown>;
  record?: Record<string, unknown>;
  segment?: Record<string, unknown>;
}

const read = (name: string): Fixture =>
  JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Fixture;

/**
 * What the policies grant, as `action resource` lines, and their warning codes. Denied
 * permissions are included (`--include-denied`): what each call needed is the subject here.
 */
function granted(store: Store): { permissions: string[]; warnings: string[] } {
  // Observed permissions only: run-time needs are test/runtime's subject.
  const { policies } = buildPolicies(store, { filter: {}, includeDenied: true, runtime: 'none' });
  return {
    permissions: policies
      .flatMap((p) =>
        p.documents.flatMap((d) =>
          d.Statement.flatMap((s) => s.Action.flatMap((a) => s.Resource.map((r) => `${a} ${r}`))),
        ),
      )
      .sort(),
    // One span is always too little data (test/policy/completeness.test.ts): not this test's subject.
    warnings: [...new Set(policies.flatMap((p) => p.warnings.map((w) => w.code)))]
      .filter((c) => c !== 'incomplete')
      .sort(),
  };
}

let n = 0;
/** The fixture's span as one `aws/spans` record. */
function record(f: Fixture): string {
  n++;
  const span = f.span!;
  return JSON.stringify({
    resource: {
      attributes: {
        'cloud.provider': 'aws',
        'cloud.platform': 'aws_lambda',
        'faas.name': 'probe',
        'cloud.region': 'eu-west-1',
        'cloud.account.id': '111122223333',
        ...f.resource,
      },
    },
    traceId: `6b08616af1cd5e17a43ffe0260${n.toString(16).padStart(6, '0')}`,
    spanId: 'a1b2c3d4e5f60718',
    parentSpanId: 'a1b2c3d4e5f60719',
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: 1795000000000000000,
    endTimeUnixNano: 1795000000100000000,
    attributes: span.attributes,
    status: span.status ?? { code: 'UNSET' },
    events: (span.events ?? []).map((e) => ({ ...e, timeUnixNano: 1795000000050000000 })),
  });
}

/** [fixture, granted `action resource` lines, warning codes]. */
const CASES: [string, string[], string[]][] = [
  // A data source is authorised on its knowledge base (aws.bedrock.knowledge_base.id).
  [
    'adotjs-bedrockagent-datasource',
    ['bedrock:GetDataSource arn:aws:bedrock:eu-west-1:111122223333:knowledge-base/test_kb_id'],
    [],
  ],
  [
    'adotjs-dynamodb-batchwrite-two-tables',
    [
      'dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:111122223333:table/aws_table_name1',
      'dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:111122223333:table/aws_table_name2',
    ],
    [],
  ],
  // `my|test^table` is no valid table name: the narrowest wildcard, flagged.
  [
    'adotjs-dynamodb-escaping',
    ['dynamodb:GetItem arn:aws:dynamodb:eu-west-1:111122223333:table/*'],
    ['resource-unknown'],
  ],
  ['adotjs-dynamodb-putitem', ['dynamodb:PutItem arn:aws:dynamodb:us-east-1:123456789012:table/Orders'], []],
  [
    'adotjs-kinesis-putrecord-streamarn',
    ['kinesis:PutRecord arn:aws:kinesis:us-west-2:123456789012:stream/aws_stream_name'],
    [],
  ],
  [
    'adotjs-lambda-getfunction',
    ['lambda:GetFunction arn:aws:lambda:us-east-1:123456789012:function:aws_lambda_function_name'],
    [],
  ],
  [
    'adotjs-lambda-invoke',
    ['lambda:InvokeFunction arn:aws:lambda:us-east-1:123456789012:function:billing'],
    [],
  ],
  ['adotjs-lambda-server-local-root', [], []],
  // No instrumentation records S3 object keys: every object of the bucket, flagged.
  ['adotjs-s3-getobject', ['s3:GetObject arn:aws:s3:::aws_s3_bucket_name/*'], ['resource-unknown']],
  [
    'adotjs-secretsmanager-getsecretvalue',
    ['secretsmanager:GetSecretValue arn:aws:secretsmanager:us-east-1:123456789012:secret:db-creds-AbCdEf'],
    [],
  ],
  // The account comes from the ARN the call named, not from the caller.
  [
    'adotjs-sfn-startexecution',
    ['states:StartExecution arn:aws:states:us-east-1:123456789123:stateMachine:testStateMachine'],
    [],
  ],
  ['adotjs-sns-publish', ['sns:Publish arn:aws:sns:us-east-1:123456789012:testTopic'], []],
  ['adotjs-sqs-sendmessage', ['sqs:SendMessage arn:aws:sqs:us-east-2:123456789012:MyQueue'], []],
  [
    'adotpy-dynamodb-accessdenied',
    ['dynamodb:PutItem arn:aws:dynamodb:us-east-1:123456789012:table/Orders'],
    ['denied'],
  ],
  [
    'adotpy-kinesis-putrecord',
    ['kinesis:PutRecord arn:aws:kinesis:us-east-1:111122223333:stream/clicks'],
    [],
  ],
  ['adotpy-lambda-layer-server-span', [], []],
  // Lite mode records the remote service and operation only.
  [
    'adotpy-lite-lambda-client',
    ['dynamodb:GetItem arn:aws:dynamodb:eu-west-1:111122223333:table/*'],
    ['resource-unknown'],
  ],
  ['adotpy-s3-getobject', ['s3:GetObject arn:aws:s3:::my-bucket/*'], ['resource-unknown']],
  [
    'adotpy-secretsmanager-getsecretvalue',
    ['secretsmanager:GetSecretValue arn:aws:secretsmanager:us-east-1:123456789012:secret:db-creds-AbCdEf'],
    [],
  ],
  ['adotpy-sqs-sendmessage', ['sqs:SendMessage arn:aws:sqs:us-east-1:123456789012:orders'], []],
  // Java records no region attribute: the endpoint host has it.
  [
    'java-sdk1-lambda-invoke',
    ['lambda:InvokeFunction arn:aws:lambda:us-east-1:111122223333:function:billing'],
    [],
  ],
  ['java-sdk1-s3-getobject-error', ['s3:GetObject arn:aws:s3:::someBucket/*'], ['resource-unknown']],
  // Java agents before 2.22: aws.queue.name.
  ['java-sdk1-sqs-createqueue', ['sqs:CreateQueue arn:aws:sqs:eu-west-1:111122223333:testSdkSqs'], []],
  [
    'java-sdk2-dynamodb-putitem',
    ['dynamodb:PutItem arn:aws:dynamodb:eu-west-1:111122223333:table/sometable'],
    [],
  ],
  [
    'java-sdk2-lambda-getfunction-experimental',
    ['lambda:GetFunction arn:aws:lambda:us-west-2:123456789012:function:lambda-function-name-foo'],
    [],
  ],
  ['java-sdk2-s3-clienterror', ['s3:GetObject arn:aws:s3:::somebucket/*'], ['resource-unknown']],
  ['java-sdk2-s3-putobject', ['s3:PutObject arn:aws:s3:::somebucket/*'], ['resource-unknown']],
  [
    'java-sdk2-secretsmanager',
    [
      'secretsmanager:DescribeSecret arn:aws:secretsmanager:us-east-1:123456789012:secret:MySecretFromCLI-sNkBwD',
    ],
    [],
  ],
  // The agent's unit test records a placeholder, not an ARN, as the destination.
  ['java-sdk2-sns-publish', ['sns:Publish arn:aws:sns:eu-west-1:111122223333:*'], ['resource-unknown']],
  ['java-sdk2-sqs-sendmessage', ['sqs:SendMessage arn:aws:sqs:eu-west-1:111122223333:somequeue'], []],
  ['js-awslambda-0.71-server-span', [], []],
  ['js-awslambda-0.75-server-span', [], []],
  // Processing an SQS event is not an AWS API call of the function.
  ['js-awslambda-sqs-process-span', [], []],
  [
    'js074-dynamodb-putitem-default-semconv',
    ['dynamodb:PutItem arn:aws:dynamodb:us-east-1:111122223333:table/test-table'],
    [],
  ],
  [
    'js078-bedrockruntime-converse',
    ['bedrock:InvokeModel arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-lite-v1'],
    [],
  ],
  [
    'js078-dynamodb-batchwriteitem',
    [
      'dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:111122223333:table/OrderItems',
      'dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:111122223333:table/Orders',
    ],
    [],
  ],
  [
    'js078-dynamodb-getitem',
    ['dynamodb:GetItem arn:aws:dynamodb:us-east-1:111122223333:table/test-table'],
    [],
  ],
  // A query of an index is authorised on the index (aws.dynamodb.index_name).
  [
    'js078-dynamodb-query-index',
    ['dynamodb:Query arn:aws:dynamodb:eu-west-1:111122223333:table/orders/index/by-customer'],
    [],
  ],
  [
    'js078-dynamodb-putitem-accessdenied',
    ['dynamodb:PutItem arn:aws:dynamodb:us-east-1:123456789012:table/Orders'],
    ['denied'],
  ],
  [
    'js078-kinesis-describestream',
    ['kinesis:DescribeStream arn:aws:kinesis:us-east-1:111122223333:stream/dummy-stream-name'],
    [],
  ],
  // No KMS extension in the JS instrumentation: no key recorded.
  [
    'js078-kms-decrypt-no-extension',
    ['kms:Decrypt arn:aws:kms:us-east-1:111122223333:key/*'],
    ['resource-unknown'],
  ],
  [
    'js078-lambda-invoke',
    ['lambda:InvokeFunction arn:aws:lambda:us-east-2:111122223333:function:ot-test-function-name'],
    [],
  ],
  [
    'js078-s3-putobject-accessdenied',
    ['s3:PutObject arn:aws:s3:::invalid-bucket-name/*'],
    ['denied', 'resource-unknown'],
  ],
  ['js078-s3-putobject', ['s3:PutObject arn:aws:s3:::ot-demo-test/*'], ['resource-unknown']],
  [
    'js078-secretsmanager-getsecretvalue',
    ['secretsmanager:GetSecretValue arn:aws:secretsmanager:us-east-1:123456789123:secret:testId123456'],
    [],
  ],
  [
    'js078-sfn-describestatemachine',
    ['states:DescribeStateMachine arn:aws:states:us-east-1:123456789123:stateMachine:testStateMachine'],
    [],
  ],
  ['js078-sns-createtopic', ['sns:CreateTopic arn:aws:sns:us-east-1:123456789012:sns-topic-foo'], []],
  // The instrumentation's own test uses a nine-digit account: kept as the ARN says.
  ['js078-sns-publish', ['sns:Publish arn:aws:sns:us-east-1:000000000:dummy-sns-v3-topic'], []],
  ['js078-sqs-deletemessage', ['sqs:DeleteMessage arn:aws:sqs:us-east-1:123456789012:orders'], []],
  [
    'js078-sqs-receivemessage',
    ['sqs:ReceiveMessage arn:aws:sqs:us-east-1:731241200085:otel-demo-aws-sdk'],
    [],
  ],
  ['js078-sqs-sendmessage', ['sqs:SendMessage arn:aws:sqs:us-east-1:731241200085:otel-demo-aws-sdk'], []],
  [
    'pycontrib-dynamodb-accessdenied-head',
    ['dynamodb:PutItem arn:aws:dynamodb:us-west-2:123456789012:table/Orders'],
    ['denied'],
  ],
  [
    'pycontrib-dynamodb-putitem',
    ['dynamodb:PutItem arn:aws:dynamodb:us-west-2:111122223333:table/test_table'],
    [],
  ],
  [
    'pycontrib-lambda-invoke',
    ['lambda:InvokeFunction arn:aws:lambda:us-west-2:111122223333:function:billing'],
    [],
  ],
  ['pycontrib-lambda-server-span', [], []],
  // Upstream Python has no S3 extension, and S3's message names neither action nor key.
  [
    'pycontrib-s3-getobject-accessdenied-0.65b0',
    ['s3:GetObject arn:aws:s3:::*/*'],
    // Every object of every bucket: data exfiltration of risk medium (docs/risk.md).
    ['denied', 'resource-unknown', 'risky'],
  ],
  [
    'pycontrib-secretsmanager-getsecretvalue',
    ['secretsmanager:GetSecretValue arn:aws:secretsmanager:us-west-2:123456789012:secret:db-creds-AbCdEf'],
    [],
  ],
  [
    'pycontrib-sfn-startexecution',
    ['states:StartExecution arn:aws:states:us-west-2:123456789012:stateMachine:orders'],
    [],
  ],
  ['pycontrib-sns-publish', ['sns:Publish arn:aws:sns:us-west-2:123456789012:my-topic'], []],
  ['pycontrib-sqs-sendmessage', ['sqs:SendMessage arn:aws:sqs:us-west-2:123456789012:test_queue_name'], []],
];

test('every span fixture has a case, and every case a fixture', (t) => {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .filter((f) => read(f).span !== undefined)
    .sort();
  t.deepEqual(CASES.map(([name]) => name).sort(), files);
});

for (const [name, permissions, warnings] of CASES) {
  test(`${name}`, async (t) => {
    const { store, dir: tmp } = tempStore();
    const s = await ingest(store, { inputs: [writeFile(tmp, 'spans.jsonl', `${record(read(name))}\n`)] });
    t.is(s.rejected, 0, s.results[0]?.error?.message);
    t.deepEqual(granted(store), { permissions: [...permissions].sort(), warnings });
    store.close();
  });
}

test('the abridged aws/spans record of the AWS guide: a denied PutItem of a function whose account no span gives', async (t) => {
  const { store, dir: tmp } = tempStore();
  const s = await ingest(store, {
    inputs: [writeFile(tmp, 'r.jsonl', `${JSON.stringify(read('awsspans-record-shape').record)}\n`)],
  });
  t.is(s.rejected, 0);
  t.deepEqual(s.fallbacks.workloads, ['lambda::us-east-1:my-fn']);
  t.deepEqual(granted(store), {
    // The account no span gives is a wildcard, and never a silent one.
    permissions: ['dynamodb:PutItem arn:aws:dynamodb:us-east-1:*:table/Orders'],
    // A write on every account's table is infrastructure modification of risk medium.
    warnings: ['denied', 'risky', 'wildcard'],
  });
  store.close();
});

// ---- X-Ray renderings of OpenTelemetry spans -----------------------------------------------

const TRACE = '1-6b0aed6c-20386badf7a6e54abb6be09b';

/** A batch-get-traces dump of one ECS segment (account 111122223333) holding `subsegments`. */
function xrayDump(subsegments: Record<string, unknown>[]): string {
  const segment = {
    id: 'aaaaaaaaaaaaaaaa',
    trace_id: TRACE,
    name: 'billing-worker',
    origin: 'AWS::ECS::Container',
    start_time: 1795000000,
    end_time: 1795000001,
    aws: { account_id: '111122223333', ecs: { container: 'ip-10-0-0-1' } },
    subsegments: subsegments.map((s, i) => ({
      id: `b${i.toString(16).padStart(15, '0')}`,
      start_time: 1795000000.1,
      end_time: 1795000000.2,
      ...s,
    })),
  };
  return JSON.stringify({
    Traces: [{ Id: TRACE, Duration: 1, Segments: [{ Id: segment.id, Document: JSON.stringify(segment) }] }],
  });
}

const XRAY_CASES: {
  name: string;
  subsegment: Record<string, unknown>;
  permissions: string[];
  warnings?: string[];
}[] = [
  {
    name: 'the Collector X-Ray exporter: table_name in the aws block, the rest in metadata.default',
    subsegment: read('collector-xray-exporter-js-span').segment!,
    permissions: ['dynamodb:PutItem arn:aws:dynamodb:us-east-1:111122223333:table/Orders'],
  },
  {
    name: 'X-Ray: aws.* span attributes in the aws block without their prefix (s3.bucket)',
    subsegment: {
      name: 'S3',
      namespace: 'aws',
      aws: {
        operation: 'GetObject',
        region: 'eu-west-1',
        's3.bucket': 'uploads',
        'span.kind': 'CLIENT',
        'request.id': 'R',
      },
    },
    permissions: ['s3:GetObject arn:aws:s3:::uploads/*'],
    warnings: ['resource-unknown'],
  },
  {
    name: 'X-Ray: sqs.queue.url without its prefix (the queue URL gives account and region)',
    subsegment: {
      name: 'SQS',
      namespace: 'aws',
      aws: {
        operation: 'SendMessage',
        'sqs.queue.url': 'https://sqs.eu-west-1.amazonaws.com/444455556666/jobs',
      },
    },
    permissions: ['sqs:SendMessage arn:aws:sqs:eu-west-1:444455556666:jobs'],
  },
  {
    name: 'Application Signals attributes as annotations, with _ for . (the exporter without allowDot)',
    subsegment: {
      name: 'DynamoDB',
      namespace: 'aws',
      aws: { operation: 'UpdateItem' },
      annotations: {
        aws_remote_service: 'AWS::DynamoDB',
        aws_remote_resource_type: 'AWS::DynamoDB::Table',
        aws_remote_resource_identifier: 'invoices',
        aws_remote_resource_region: 'eu-central-1',
      },
    },
    permissions: ['dynamodb:UpdateItem arn:aws:dynamodb:eu-central-1:111122223333:table/invoices'],
  },
  {
    name: 'Application Signals annotations with dots, an escaped cfn identifier and the remote account',
    subsegment: {
      name: 'SNS',
      namespace: 'aws',
      aws: { operation: 'Publish' },
      annotations: {
        'aws.remote.resource.type': 'AWS::SNS::Topic',
        'aws.remote.resource.identifier': 'events',
        'aws.remote.resource.cfn.primary.identifier': 'arn:aws:sns:eu-west-1:444455556666:events',
        'aws.remote.resource.account.id': '444455556666',
      },
    },
    permissions: ['sns:Publish arn:aws:sns:eu-west-1:444455556666:events'],
  },
];

for (const c of XRAY_CASES) {
  test(c.name, async (t) => {
    const { store, dir: tmp } = tempStore();
    const s = await ingest(store, { inputs: [writeFile(tmp, 'dump.json', xrayDump([c.subsegment]))] });
    t.is(s.rejected, 0, s.results[0]?.error?.message);
    t.deepEqual(granted(store), { permissions: c.permissions, warnings: c.warnings ?? [] });
    store.close();
  });
}

test("Python's ClientError is stored as the AWS error its message names", async (t) => {
  for (const [name, type] of [
    ['pycontrib-dynamodb-accessdenied-head', 'AccessDeniedException'],
    ['js078-dynamodb-putitem-accessdenied', 'AccessDeniedException'],
  ] as const) {
    const { store, dir: tmp } = tempStore();
    await ingest(store, { inputs: [writeFile(tmp, 'spans.jsonl', `${record(read(name))}\n`)] });
    t.deepEqual(
      store.prepare('SELECT error_type, outcome FROM calls').all(),
      [{ error_type: type, outcome: 'denied' }],
      name,
    );
    store.close();
  }
});
