import test from 'ava';
import { mapCall, actionsFor } from '../../src/iam/index.js';
import type { IamCall, MappingResult } from '../../src/iam/index.js';
import { parseQueueUrl } from '../../src/iam/services/sqs.js';
import { parseFunctionName } from '../../src/iam/services/lambda.js';
import { CTX, call, mapped, noted, perm } from './helpers.js';

const T = (name: string) => `arn:aws:dynamodb:eu-west-1:123456789012:table/${name}`;
const TX = 'one of the item actions a transaction may need; the trace does not record which';
const PQ = 'one of the PartiQL actions; the statement is not recorded, so which one is unknown';
const IA = 'deprecated InvokeAsync: AWS documents both lambda:InvokeFunction and lambda:InvokeAsync';

const cases: [string, IamCall, MappingResult][] = [
  // DynamoDB
  [
    'dynamodb GetItem',
    call('DynamoDB', 'GetItem', { table_name: 'Orders' }),
    mapped(perm('dynamodb:GetItem', T('Orders'), 'table')),
  ],
  [
    'DynamoDBv2 PutItem (.NET)',
    call('DynamoDBv2', 'PutItem', { table_name: 'Orders' }),
    mapped(perm('dynamodb:PutItem', T('Orders'), 'table')),
  ],
  [
    'AmazonDynamoDBv2 UpdateItem (Java)',
    call('AmazonDynamoDBv2', 'UpdateItem', { table_name: 'Orders' }),
    mapped(perm('dynamodb:UpdateItem', T('Orders'), 'table')),
  ],
  [
    'DynamoDb DeleteItem (Java v2)',
    call('DynamoDb', 'DeleteItem', { table_name: 'Orders' }),
    mapped(perm('dynamodb:DeleteItem', T('Orders'), 'table')),
  ],
  [
    'Query on table',
    call('dynamodb', 'Query', { table_name: 'Orders' }),
    mapped(perm('dynamodb:Query', T('Orders'), 'table')),
  ],
  [
    'Query on index',
    call('dynamodb', 'Query', { table_name: 'Orders', index_name: 'byCustomer' }),
    mapped(perm('dynamodb:Query', T('Orders/index/byCustomer'), 'index')),
  ],
  [
    'Scan on index',
    call('dynamodb', 'Scan', { table_name: 'Orders', index_name: 'gsi1' }),
    mapped(perm('dynamodb:Scan', T('Orders/index/gsi1'), 'index')),
  ],
  [
    'GetItem ignores index_name',
    call('dynamodb', 'GetItem', { table_name: 'Orders', index_name: 'gsi1' }),
    mapped(perm('dynamodb:GetItem', T('Orders'), 'table')),
  ],
  [
    'BatchGetItem on each table',
    call('DynamoDB', 'BatchGetItem', { table_names: ['Orders', 'Customers'] }),
    mapped(
      perm('dynamodb:BatchGetItem', T('Orders'), 'table'),
      perm('dynamodb:BatchGetItem', T('Customers'), 'table'),
    ),
  ],
  [
    'BatchWriteItem drops garbage names',
    call('DynamoDB', 'BatchWriteItem', { table_names: ['Orders', 7, '', null, 'Orders'] }),
    mapped(perm('dynamodb:BatchWriteItem', T('Orders'), 'table')),
  ],
  ['no table recorded', call('DynamoDB', 'GetItem'), mapped(perm('dynamodb:GetItem', T('*'), 'table', true))],
  [
    'table ARN as TableName',
    call('DynamoDB', 'GetItem', { table_name: 'arn:aws:dynamodb:us-east-1:111122223333:table/X' }),
    mapped(perm('dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:111122223333:table/X', 'table')),
  ],
  [
    'ListTables',
    call('DynamoDB', 'ListTables', { table_count: 3 }),
    mapped(perm('dynamodb:ListTables', '*')),
  ],
  [
    'TransactGetItems',
    call('DynamoDB', 'TransactGetItems'),
    mapped(perm('dynamodb:GetItem', T('*'), 'table', true)),
  ],
  [
    'TransactWriteItems',
    call('DynamoDB', 'TransactWriteItems'),
    mapped(
      noted(perm('dynamodb:PutItem', T('*'), 'table', true), TX),
      noted(perm('dynamodb:UpdateItem', T('*'), 'table', true), TX),
      noted(perm('dynamodb:DeleteItem', T('*'), 'table', true), TX),
      noted(perm('dynamodb:ConditionCheckItem', T('*'), 'table', true), TX),
    ),
  ],
  [
    'ExecuteStatement',
    call('DynamoDB', 'ExecuteStatement'),
    mapped(
      noted(perm('dynamodb:PartiQLSelect', T('*'), 'table', true), PQ),
      noted(perm('dynamodb:PartiQLInsert', T('*'), 'table', true), PQ),
      noted(perm('dynamodb:PartiQLUpdate', T('*'), 'table', true), PQ),
      noted(perm('dynamodb:PartiQLDelete', T('*'), 'table', true), PQ),
    ),
  ],
  [
    'DescribeEndpoints',
    call('DynamoDB', 'DescribeEndpoints'),
    { status: 'no-permission', reason: 'DynamoDB DescribeEndpoints is not authorised by IAM' },
  ],
  [
    'DynamoDB Streams GetRecords',
    call('DynamoDBStreams', 'GetRecords'),
    mapped(
      perm('dynamodb:GetRecords', 'arn:aws:dynamodb:eu-west-1:123456789012:table/*/stream/*', 'stream', true),
    ),
  ],
  // SQS
  [
    'SendMessage',
    call('SQS', 'SendMessage', { queue_url: 'https://sqs.us-east-1.amazonaws.com/111122223333/jobs' }),
    mapped(perm('sqs:SendMessage', 'arn:aws:sqs:us-east-1:111122223333:jobs', 'queue')),
  ],
  [
    'SendMessageBatch',
    call('AmazonSQS', 'SendMessageBatch', {
      queue_url: 'https://sqs.us-east-1.amazonaws.com/111122223333/jobs.fifo',
    }),
    mapped(perm('sqs:SendMessage', 'arn:aws:sqs:us-east-1:111122223333:jobs.fifo', 'queue')),
  ],
  [
    'DeleteMessageBatch',
    call('sqs', 'DeleteMessageBatch', { queue_url: 'https://queue.amazonaws.com/111122223333/jobs' }),
    mapped(perm('sqs:DeleteMessage', 'arn:aws:sqs:us-east-1:111122223333:jobs', 'queue')),
  ],
  [
    'ChangeMessageVisibilityBatch',
    call('sqs', 'ChangeMessageVisibilityBatch', {
      queue_url: 'https://ap-south-1.queue.amazonaws.com/111122223333/jobs',
    }),
    mapped(perm('sqs:ChangeMessageVisibility', 'arn:aws:sqs:ap-south-1:111122223333:jobs', 'queue')),
  ],
  [
    'ReceiveMessage',
    call('SQS', 'ReceiveMessage', { queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/in' }),
    mapped(perm('sqs:ReceiveMessage', 'arn:aws:sqs:eu-west-1:123456789012:in', 'queue')),
  ],
  [
    'China queue URL',
    call('SQS', 'SendMessage', { queue_url: 'https://sqs.cn-north-1.amazonaws.com.cn/111122223333/q' }),
    mapped(perm('sqs:SendMessage', 'arn:aws-cn:sqs:cn-north-1:111122223333:q', 'queue')),
  ],
  [
    'localstack URL keeps account, region from context',
    call('SQS', 'SendMessage', { queue_url: 'http://localhost:4566/000000000000/q' }),
    mapped(perm('sqs:SendMessage', 'arn:aws:sqs:eu-west-1:000000000000:q', 'queue')),
  ],
  [
    'GetQueueUrl by name',
    call('SQS', 'GetQueueUrl', { queue_name: 'jobs' }),
    mapped(perm('sqs:GetQueueUrl', 'arn:aws:sqs:eu-west-1:123456789012:jobs', 'queue')),
  ],
  [
    'GetQueueUrl other owner',
    call('SQS', 'GetQueueUrl', { queue_name: 'jobs', queue_owner_aws_account_id: '111122223333' }),
    mapped(perm('sqs:GetQueueUrl', 'arn:aws:sqs:eu-west-1:111122223333:jobs', 'queue')),
  ],
  [
    'garbage queue URL',
    call('SQS', 'SendMessage', { queue_url: 'not a url' }),
    mapped(perm('sqs:SendMessage', 'arn:aws:sqs:eu-west-1:123456789012:*', 'queue', true)),
  ],
  ['ListQueues', call('SQS', 'ListQueues'), mapped(perm('sqs:ListQueues', '*'))],
  // SNS
  [
    'Publish',
    call('SNS', 'Publish', { topic_arn: 'arn:aws:sns:us-east-2:111122223333:alerts' }),
    mapped(perm('sns:Publish', 'arn:aws:sns:us-east-2:111122223333:alerts', 'topic')),
  ],
  [
    'PublishBatch (.NET name)',
    call('SimpleNotificationService', 'PublishBatch', {
      topic_arn: 'arn:aws:sns:us-east-2:111122223333:alerts',
    }),
    mapped(perm('sns:Publish', 'arn:aws:sns:us-east-2:111122223333:alerts', 'topic')),
  ],
  [
    'OTel aws.sns.topic.arn',
    call('sns', 'Publish', { 'aws.sns.topic.arn': 'arn:aws:sns:us-east-2:111122223333:t' }),
    mapped(perm('sns:Publish', 'arn:aws:sns:us-east-2:111122223333:t', 'topic')),
  ],
  [
    'Publish to a phone number',
    call('SNS', 'Publish'),
    mapped(perm('sns:Publish', 'arn:aws:sns:eu-west-1:123456789012:*', 'topic', true)),
  ],
  // Lambda
  [
    'Invoke by name',
    call('Lambda', 'Invoke', { function_name: 'resize' }),
    mapped(
      perm('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:resize', 'function'),
    ),
  ],
  [
    'Invoke name:alias',
    call('AWSLambda', 'Invoke', { function_name: 'resize:prod' }),
    mapped(
      perm('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:resize:prod', 'function'),
    ),
  ],
  [
    'Invoke with qualifier',
    call('lambda', 'Invoke', { function_name: 'resize', qualifier: '7' }),
    mapped(
      perm('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:resize:7', 'function'),
    ),
  ],
  [
    'Invoke partial ARN',
    call('Lambda', 'Invoke', { function_name: '111122223333:function:resize' }),
    mapped(
      perm('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:111122223333:function:resize', 'function'),
    ),
  ],
  [
    'Invoke full ARN',
    call('Lambda', 'Invoke', {
      function_name: 'arn:aws:lambda:us-west-2:111122223333:function:resize:$LATEST',
    }),
    mapped(
      perm(
        'lambda:InvokeFunction',
        'arn:aws:lambda:us-west-2:111122223333:function:resize:$LATEST',
        'function',
      ),
    ),
  ],
  [
    'InvokeWithResponseStream',
    call('Lambda', 'InvokeWithResponseStream', { function_name: 'chat' }),
    mapped(perm('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:chat', 'function')),
  ],
  [
    'InvokeAsync',
    call('Lambda', 'InvokeAsync', { function_name: 'old' }),
    mapped(
      noted(
        perm('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:old', 'function'),
        IA,
      ),
      noted(perm('lambda:InvokeAsync', 'arn:aws:lambda:eu-west-1:123456789012:function:old', 'function'), IA),
    ),
  ],
  [
    'OTel aws.lambda.function.name',
    call('lambda', 'Invoke', { 'aws.lambda.function.name': 'f1' }),
    mapped(perm('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:f1', 'function')),
  ],
  [
    'garbage function name',
    call('Lambda', 'Invoke', { function_name: 'a:b:c:d' }),
    mapped(
      perm('lambda:InvokeFunction', 'arn:aws:lambda:eu-west-1:123456789012:function:*', 'function', true),
    ),
  ],
  // SageMaker runtime: endpoint names are lower-cased in ARNs
  [
    'InvokeEndpoint',
    call('SageMakerRuntime', 'InvokeEndpoint', { endpoint_name: 'Fraud-Model' }),
    mapped(
      perm(
        'sagemaker:InvokeEndpoint',
        'arn:aws:sagemaker:eu-west-1:123456789012:endpoint/fraud-model',
        'endpoint',
      ),
    ),
  ],
  [
    'runtime.sagemaker InvokeEndpoint',
    call('runtime.sagemaker', 'InvokeEndpoint', { endpoint_name: 'ep' }),
    mapped(
      perm('sagemaker:InvokeEndpoint', 'arn:aws:sagemaker:eu-west-1:123456789012:endpoint/ep', 'endpoint'),
    ),
  ],
  // Step Functions, Secrets Manager, other services via the default rule
  [
    'SFN StartExecution (OTel arn)',
    call('SFN', 'StartExecution', {
      'aws.step_functions.state_machine.arn': 'arn:aws:states:eu-west-1:123456789012:stateMachine:flow',
    }),
    mapped(
      perm(
        'states:StartExecution',
        'arn:aws:states:eu-west-1:123456789012:stateMachine:flow',
        'statemachine',
      ),
    ),
  ],
  [
    'SFN StartExecution no arn',
    call('SFN', 'StartExecution'),
    mapped(
      perm(
        'states:StartExecution',
        'arn:aws:states:eu-west-1:123456789012:stateMachine:*',
        'statemachine',
        true,
      ),
    ),
  ],
  [
    'SFN SendTaskSuccess is *',
    call('states', 'SendTaskSuccess'),
    mapped(perm('states:SendTaskSuccess', '*')),
  ],
  [
    'Secrets Manager (OTel arn with slash)',
    call('SecretsManager', 'GetSecretValue', {
      'aws.secretsmanager.secret.arn': 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
    }),
    mapped(
      perm(
        'secretsmanager:GetSecretValue',
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
        'Secret',
      ),
    ),
  ],
  [
    'EventBridge PutEvents',
    call('EventBridge', 'PutEvents'),
    mapped(perm('events:PutEvents', 'arn:aws:events:eu-west-1:123456789012:event-bus/*', 'event-bus', true)),
  ],
  [
    'CloudWatchLogs lower-case op',
    call('CloudWatchLogs', 'putlogevents'),
    mapped(
      perm(
        'logs:PutLogEvents',
        'arn:aws:logs:eu-west-1:123456789012:log-group:*:log-stream:*',
        'log-stream',
        true,
      ),
    ),
  ],
  [
    'STS GetCallerIdentity',
    call('STS', 'GetCallerIdentity'),
    { status: 'no-permission', reason: 'sts:GetCallerIdentity needs no permission and cannot be denied' },
  ],
  [
    'STS AssumeRole',
    call('sts', 'AssumeRole'),
    mapped(perm('sts:AssumeRole', 'arn:aws:iam::123456789012:role/*', 'role', true)),
  ],
  [
    'unknown service',
    call('FooService', 'DoThing'),
    { status: 'unmapped', reason: 'unknown service "FooService"' },
  ],
  ['empty operation', call('S3', ''), { status: 'unmapped', reason: 'no operation recorded' }],
  // AccessDenied messages override the guess
  [
    'denied action and resource replace the guess',
    call('DynamoDB', 'Query', {
      table_name: 'Orders',
      denied_action: 'dynamodb:Query',
      denied_resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/index/gsi1',
    }),
    mapped(
      perm('dynamodb:Query', 'arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/index/gsi1', 'index'),
    ),
  ],
  [
    'denied KMS action is added, never inferred otherwise',
    call('S3', 'GetObject', {
      bucket_name: 'my-bucket',
      key: 'k',
      denied_action: 'kms:Decrypt',
      denied_resource: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd',
    }),
    mapped(
      perm('s3:GetObject', 'arn:aws:s3:::my-bucket/k', 'object'),
      perm('kms:Decrypt', 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd', 'key'),
    ),
  ],
  [
    'denied action on an unmapped operation',
    call('S3', 'FrobnicateBucket', {
      denied_action: 's3:ListBucket',
      denied_resource: 'arn:aws:s3:::my-bucket',
    }),
    mapped(perm('s3:ListBucket', 'arn:aws:s3:::my-bucket', 'bucket')),
  ],
  [
    'invented denied action is ignored',
    call('SQS', 'SendMessage', {
      queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
      denied_action: 'sqs:SendMessageBatch',
      denied_resource: 'arn:aws:sqs:eu-west-1:123456789012:q',
    }),
    mapped(perm('sqs:SendMessage', 'arn:aws:sqs:eu-west-1:123456789012:q', 'queue')),
  ],
  [
    'denied action spelled in another case is canonicalised',
    call('SNS', 'Publish', {
      denied_action: 'SNS:publish',
      denied_resource: 'arn:aws:sns:eu-west-1:123456789012:t',
    }),
    mapped(perm('sns:Publish', 'arn:aws:sns:eu-west-1:123456789012:t', 'topic')),
  ],
];

for (const [title, c, expected] of cases) {
  test(`map: ${title}`, (t) => {
    t.deepEqual(mapCall(c, CTX), expected);
  });
}

test('map: account and region come from the call, then the context, then *', (t) => {
  const base = { service: 'DynamoDB', operation: 'GetItem', params: { table_name: 'T1' } };
  t.deepEqual(
    mapCall({ ...base, region: 'us-gov-west-1', account: '111122223333' }, CTX),
    mapped(perm('dynamodb:GetItem', 'arn:aws-us-gov:dynamodb:us-gov-west-1:111122223333:table/T1', 'table')),
  );
  t.deepEqual(mapCall(base, CTX), mapped(perm('dynamodb:GetItem', T('T1'), 'table')));
  t.deepEqual(mapCall(base), mapped(perm('dynamodb:GetItem', 'arn:aws:dynamodb:*:*:table/T1', 'table')));
  // Garbage account/region on the call fall back to the context.
  t.deepEqual(
    mapCall({ ...base, region: 'mars-1', account: '12' }, CTX),
    mapped(perm('dynamodb:GetItem', T('T1'), 'table')),
  );
  t.deepEqual(
    mapCall({ ...base, region: null, account: null }, { region: 'cn-northwest-1', account: null }),
    mapped(perm('dynamodb:GetItem', 'arn:aws-cn:dynamodb:cn-northwest-1:*:table/T1', 'table')),
  );
});

test('map: survives garbage input', (t) => {
  const weird: unknown[] = [
    { service: 'S3', operation: 'GetObject', params: { bucket_name: {}, key: ['x'] } },
    { service: 'S3', operation: 'GetObject', params: null },
    { service: 42, operation: null, params: {} },
    { service: 'Lambda', operation: 'Invoke', params: { function_name: 'arn:aws:s3:::bucket' } },
    {
      service: 'SQS',
      operation: 'SendMessage',
      params: { queue_url: 'https://sqs.us-east-1.amazonaws.com/a/b/c' },
    },
  ];
  for (const w of weird) t.notThrows(() => mapCall(w as IamCall, CTX));
  t.deepEqual(mapCall({ service: 42, operation: null, params: {} } as unknown as IamCall), {
    status: 'unmapped',
    reason: 'service or operation missing',
  });
});

test('map: actionsFor', (t) => {
  t.deepEqual(actionsFor('SQS', 'SendMessageBatch'), ['sqs:SendMessage']);
  t.deepEqual(actionsFor('Amazon S3', 'CopyObject'), ['s3:GetObject', 's3:PutObject']);
  t.deepEqual(actionsFor('s3', 'get_object'), ['s3:GetObject']);
  t.deepEqual(actionsFor('SFN', 'StartSyncExecution'), ['states:StartSyncExecution']);
  t.deepEqual(actionsFor('kinesis', 'putrecords'), ['kinesis:PutRecords']);
  t.is(actionsFor('sts', 'GetCallerIdentity'), 'no-permission');
  t.is(actionsFor('S3', 'GeneratePresignedUrl'), undefined);
  t.is(actionsFor('nope', 'GetThing'), undefined);
});

test('map: parseQueueUrl', (t) => {
  t.deepEqual(parseQueueUrl('https://sqs.us-east-1.amazonaws.com/123456789012/q'), {
    name: 'q',
    account: '123456789012',
    region: 'us-east-1',
  });
  t.deepEqual(parseQueueUrl('https://queue.amazonaws.com/123456789012/q'), {
    name: 'q',
    account: '123456789012',
    region: 'us-east-1',
  });
  t.deepEqual(parseQueueUrl('https://eu-west-3.queue.amazonaws.com/123456789012/q'), {
    name: 'q',
    account: '123456789012',
    region: 'eu-west-3',
  });
  t.is(parseQueueUrl('https://sqs.us-east-1.amazonaws.com/123456789012'), undefined);
  t.is(parseQueueUrl('::'), undefined);
});

test('map: parseFunctionName', (t) => {
  t.deepEqual(parseFunctionName('f'), { name: 'f' });
  t.deepEqual(parseFunctionName('f:live'), { name: 'f', qualifier: 'live' });
  t.deepEqual(parseFunctionName('123456789012:function:f:3'), {
    name: 'f',
    qualifier: '3',
    account: '123456789012',
  });
  t.deepEqual(parseFunctionName('arn:aws-cn:lambda:cn-north-1:123456789012:function:f'), {
    name: 'f',
    account: '123456789012',
    region: 'cn-north-1',
    partition: 'aws-cn',
  });
  t.is(parseFunctionName('arn:aws:s3:::bucket'), undefined);
  t.is(parseFunctionName('bad name'), undefined);
});
