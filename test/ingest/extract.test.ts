/** What a segment document contributes: calls at any depth, services, outcomes, parameters, problems (src/ingest/extract.ts, outcome.ts). */
import test from 'ava';
import { awsCall, batch, hexId, lambdaSegment, T0, traceId } from '../support/helpers.js';
import { calls, ingestText } from './support.js';

test('AWS calls at any depth are found; children of a call are not calls', async (t) => {
  const id = traceId(18);
  const goCall = awsCall(
    'dynamodb',
    'PutItem',
    { table_name: 't' },
    {
      subsegments: [
        { id: hexId(), name: 'marshal', start_time: T0, end_time: T0 },
        {
          id: hexId(),
          name: 'attempt',
          start_time: T0,
          end_time: T0,
          subsegments: [{ id: hexId(), name: 'connect', start_time: T0, end_time: T0 }],
        },
      ],
    },
  );
  const sfnTask = awsCall('Lambda', 'Invoke', { function_name: 'f' });
  const sm = {
    id: hexId(),
    name: 'flow',
    origin: 'AWS::StepFunctions::StateMachine',
    resource_arn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:flow',
    trace_id: id,
    start_time: T0,
    end_time: T0 + 5,
    subsegments: [
      {
        id: hexId(),
        name: 'Map',
        start_time: T0,
        subsegments: [
          {
            id: hexId(),
            name: 'Iteration 0',
            start_time: T0,
            subsegments: [{ id: hexId(), name: 'Invoke task', start_time: T0, subsegments: [sfnTask] }],
          },
        ],
      },
    ],
  };
  const seg = lambdaSegment(id, 'fn', [goCall]);
  const { store } = await ingestText(batch([{ id, segments: [seg, sm] }]));
  t.deepEqual(
    calls(store)
      .map((c) => `${c.service}:${c.operation}`)
      .sort(),
    ['dynamodb:PutItem', 'lambda:Invoke'],
  );
});

test('service names are normalised through the alias table; unknown ones fall back on the URL host', async (t) => {
  const names: [string, string][] = [
    ['dynamodb', 'dynamodb'],
    ['DynamoDb', 'dynamodb'],
    ['DynamoDBv2', 'dynamodb'],
    ['AmazonDynamoDBv2', 'dynamodb'],
    ['Amazon S3', 's3'],
    ['states', 'states'],
    ['SFN', 'states'],
    ['Sfn', 'states'],
    ['StepFunctions', 'states'],
    ['Events', 'events'],
    ['EventBridge', 'events'],
    ['SimpleNotificationService', 'sns'],
    ['CloudWatchLogs', 'logs'],
    ['runtime.sagemaker', 'sagemaker'],
    ['AWSLambda', 'lambda'],
  ];
  const id = traceId(19);
  const subs = names.map(([n]) => awsCall(n, 'Op'));
  subs.push(
    awsCall(
      'MysteryClient',
      'DescribeThing',
      {},
      { http: { request: { url: 'https://kinesis.us-east-2.amazonaws.com/' }, response: { status: 200 } } },
    ),
  );
  const { store } = await ingestText(batch([{ id, segments: [lambdaSegment(id, 'fn', subs)] }]));
  const byName = new Map(calls(store).map((c) => [c.service_name, c.service]));
  for (const [n, prefix] of names) t.is(byName.get(n), prefix, n);
  t.is(byName.get('MysteryClient'), 'kinesis');
});

test('outcomes: ok, error, fault, throttle, denied; denied messages give the exact action and ARN', async (t) => {
  const id = traceId(20);
  const denyMsg =
    'User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: dynamodb:DeleteItem on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/orders because no identity-based policy allows the dynamodb:DeleteItem action';
  const ex = (type: string, message = 'm'): Record<string, unknown> => ({
    cause: { exceptions: [{ id: 'e', type, message, remote: true }] },
  });
  const subs = [
    awsCall('DynamoDB', 'GetItem', { table_name: 'a' }),
    awsCall(
      'DynamoDB',
      'PutItem',
      { table_name: 'a' },
      {
        error: true,
        fault: true,
        http: { response: { status: 400 } },
        ...ex('ConditionalCheckFailedException'),
      },
    ),
    awsCall(
      'DynamoDB',
      'Query',
      { table_name: 'a' },
      { fault: true, http: { response: { status: 503 } }, ...ex('ServiceUnavailable') },
    ),
    awsCall(
      'DynamoDB',
      'Scan',
      { table_name: 'a' },
      {
        error: true,
        throttle: true,
        http: { response: { status: 400 } },
        ...ex('ProvisionedThroughputExceededException'),
      },
    ),
    awsCall(
      'DynamoDB',
      'DeleteItem',
      { table_name: 'orders' },
      {
        error: true,
        fault: true,
        http: { response: { status: 400 } },
        ...ex('AccessDeniedException', denyMsg),
      },
    ),
    awsCall(
      'S3',
      'PutObject',
      { bucket_name: 'b', key: 'k' },
      { error: true, http: { response: { status: 403 } } },
    ),
    awsCall(
      'DynamoDB',
      'UpdateItem',
      { table_name: 'a' },
      {
        error: true,
        http: { response: { status: 400 } },
        ...ex(
          'ClientError',
          `An error occurred (AccessDeniedException) when calling the UpdateItem operation: ${denyMsg.replace('DeleteItem', 'UpdateItem')}`,
        ),
      },
    ),
    awsCall(
      'EC2',
      'DescribeInstances',
      {},
      {
        error: true,
        http: { response: { status: 403 } },
        ...ex('UnauthorizedOperation', 'You are not authorized to perform this operation.'),
      },
    ),
    awsCall(
      'SNS',
      'Publish',
      {},
      {
        error: true,
        http: { response: { status: 403 } },
        ...ex(
          'AuthorizationError',
          'User: x is not authorized to perform: SNS:Publish on resource: arn:aws:sns:eu-west-1:123456789012:t',
        ),
      },
    ),
  ];
  subs.forEach((s, i) => (s.start_time = T0 + i));
  const { store } = await ingestText(batch([{ id, segments: [lambdaSegment(id, 'fn', subs)] }]));
  t.deepEqual(
    calls(store).map((c) => [c.operation, c.outcome, c.denied_action, c.denied_resource]),
    [
      ['GetItem', 'ok', null, null],
      ['PutItem', 'error', null, null],
      ['Query', 'fault', null, null],
      ['Scan', 'throttle', null, null],
      ['DeleteItem', 'denied', 'dynamodb:DeleteItem', 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders'],
      ['PutObject', 'denied', null, null],
      ['UpdateItem', 'denied', 'dynamodb:UpdateItem', 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders'],
      ['DescribeInstances', 'denied', null, null],
      ['Publish', 'denied', 'SNS:Publish', 'arn:aws:sns:eu-west-1:123456789012:t'],
    ],
  );
});

test('remote subsegments to AWS endpoints are calls with an unknown operation; other HTTP and local work is not', async (t) => {
  const id = traceId(21);
  const subs = [
    {
      id: hexId(),
      name: 'kms.eu-west-1.amazonaws.com',
      namespace: 'remote',
      start_time: T0,
      end_time: T0,
      http: {
        request: { url: 'https://kms.eu-west-1.amazonaws.com/', method: 'POST' },
        response: { status: 200 },
      },
    },
    {
      id: hexId(),
      name: 'api.stripe.com',
      namespace: 'remote',
      start_time: T0,
      end_time: T0,
      http: { request: { url: 'https://api.stripe.com/v1/charges' }, response: { status: 200 } },
    },
    { id: hexId(), name: 'work', namespace: 'local', start_time: T0, end_time: T0 },
  ];
  const { store } = await ingestText(batch([{ id, segments: [lambdaSegment(id, 'fn', subs)] }]));
  const rows = calls(store);
  t.is(rows.length, 1);
  t.like(rows[0]!, { service: 'kms', operation: null, region: 'eu-west-1', via: 'remote' });
});

test('recorded resource parameters are kept; region and account come from the call, the identifier, then the workload', async (t) => {
  const id = traceId(22);
  const subs = [
    awsCall('DynamoDB', 'BatchGetItem', { table_names: ['a', 'b'], region: undefined }),
    awsCall('S3', 'CopyObject', { bucket: 'dst', key: 'k2', copy_source: 'src/k1' }),
    awsCall('SQS', 'SendMessage', {
      queue_url: 'https://sqs.us-east-2.amazonaws.com/210987654321/q',
      region: undefined,
    }),
    awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k', region: 'not a region' }),
    awsCall('Lambda', 'Invoke', { function_name: 'f', qualifier: 'live', invocation_type: 'Event' }),
  ];
  const { store } = await ingestText(
    batch([
      { id, segments: [lambdaSegment(id, 'fn', subs, { account: '123456789012', region: 'eu-west-1' })] },
    ]),
  );
  const rows = calls(store);
  t.deepEqual(
    rows.map((r) => JSON.parse(r.params ?? 'null')),
    [
      { table_names: ['a', 'b'] },
      { bucket: 'dst', key: 'k2', copy_source: 'src/k1' },
      { queue_url: 'https://sqs.us-east-2.amazonaws.com/210987654321/q' },
      { bucket_name: 'b', key: 'k' },
      { function_name: 'f', qualifier: 'live' },
    ],
  );
  t.deepEqual(
    rows.map((r) => [r.region, r.account]),
    [
      ['eu-west-1', '123456789012'],
      ['eu-west-1', '123456789012'],
      ['us-east-2', '210987654321'],
      ['eu-west-1', '123456789012'],
      ['eu-west-1', '123456789012'],
    ],
  );
});

test('ids recorded by OpenTelemetry under metadata.default are kept', async (t) => {
  const id = traceId(23);
  const otelCall = awsCall(
    'S3',
    'PutObject',
    {},
    {
      metadata: {
        default: { 'aws.s3.bucket': 'otel-bucket', 'rpc.system': 'aws-api', 'aws.region': 'eu-west-1' },
      },
    },
  );
  const { store } = await ingestText(batch([{ id, segments: [lambdaSegment(id, 'fn', [otelCall])] }]));
  t.deepEqual(JSON.parse(calls(store)[0]!.params!), { 'aws.s3.bucket': 'otel-bucket' });
});

test('segments without an id are problems reported as data, not silently dropped', async (t) => {
  const id = traceId(24);
  const noId = { name: 'x', trace_id: id, start_time: T0, end_time: T0 + 1 };
  const text = JSON.stringify({
    Traces: [
      {
        Id: id,
        Segments: [
          { Id: 'a', Document: JSON.stringify(noId) },
          { Id: 'b', Document: JSON.stringify(lambdaSegment(id, 'fn', [])) },
        ],
      },
    ],
  });
  const { summary, store } = await ingestText(text);
  t.is(summary.ingested, 1);
  t.is(summary.problems, 1);
  t.regex(summary.results[0]!.problems[0]!.message, /no id/);
  t.is((store.prepare('SELECT count(*) AS n FROM problems').get() as { n: number }).n, 1);
});

test('resource parameters: allow-listed keys of the aws block in the allow-list order, whatever the block order', async (t) => {
  const { extractDoc } = await import('../../src/ingest/extract.js');
  const cases: { aws: Record<string, unknown>; params: [string, unknown][] | null }[] = [
    { aws: { operation: 'GetItem', region: 'eu-west-1' }, params: null },
    { aws: { operation: 'GetItem', table_name: 't' }, params: [['table_name', 't']] },
    {
      aws: { key: 'k', operation: 'GetObject', bucket_name: 'b', request_id: 'x', version_id: 'v' },
      params: [
        ['bucket_name', 'b'],
        ['key', 'k'],
        ['version_id', 'v'],
      ],
    },
    {
      aws: { table_names: ['b', 'a'], operation: 'BatchGetItem', index_name: 7, table_name: 't' },
      params: [
        ['table_name', 't'],
        ['table_names', ['b', 'a']],
        ['index_name', '7'],
      ],
    },
    // A dotted key is an OpenTelemetry attribute (its `aws.` prefix restored), kept beside the SDK's.
    {
      aws: { 'sqs.queue.url': 'https://sqs/q', queue_url: 'u', operation: 'SendMessage' },
      params: [
        ['aws.sqs.queue.url', 'https://sqs/q'],
        ['queue_url', 'u'],
      ],
    },
  ];
  for (const { aws, params } of cases) {
    const doc = {
      id: hexId(),
      trace_id: traceId(3),
      name: 'svc',
      start_time: T0,
      end_time: T0 + 1,
      subsegments: [{ id: hexId(), name: 'DynamoDB', namespace: 'aws', start_time: T0, end_time: T0, aws }],
    };
    const ex = extractDoc(doc, { where: 'test' }, []);
    const got = ex?.calls[0]?.params ?? null;
    t.deepEqual(got === null ? null : Object.entries(got), params, JSON.stringify(aws));
  }
});
