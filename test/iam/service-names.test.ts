import test from 'ava';
import {
  isAccountId,
  isRegion,
  parseArn,
  partitionOf,
  resolveService,
  serviceFromHost,
} from '../../src/iam/index.js';

const aliases: [string, string, string][] = [
  ['DynamoDB', 'dynamodb', 'DynamoDB'],
  ['dynamodb', 'dynamodb', 'DynamoDB'],
  ['DynamoDBv2', 'dynamodb', 'DynamoDB'],
  ['AmazonDynamoDBv2', 'dynamodb', 'DynamoDB'],
  ['DynamoDb', 'dynamodb', 'DynamoDB'],
  ['AWS::DynamoDB::Table', 'dynamodb', 'DynamoDB'],
  ['AWS.SDK.DynamoDB', 'dynamodb', 'DynamoDB'],
  ['Amazon S3', 's3', 'S3'],
  ['S3Control', 's3', 'S3Control'],
  ['AmazonSQS', 'sqs', 'SQS'],
  ['Sqs', 'sqs', 'SQS'],
  ['SimpleNotificationService', 'sns', 'SNS'],
  ['AWSLambda', 'lambda', 'Lambda'],
  ['SFN', 'states', 'SFN'],
  ['Sfn', 'states', 'SFN'],
  ['StepFunctions', 'states', 'SFN'],
  ['states', 'states', 'SFN'],
  ['EventBridge', 'events', 'EventBridge'],
  ['Events', 'events', 'EventBridge'],
  ['CloudWatchLogs', 'logs', 'CloudWatchLogs'],
  ['CloudWatch Logs', 'logs', 'CloudWatchLogs'],
  ['SageMakerRuntime', 'sagemaker', 'SageMakerRuntime'],
  ['runtime.sagemaker', 'sagemaker', 'SageMakerRuntime'],
  ['SecretsManager', 'secretsmanager', 'SecretsManager'],
  ['SESv2', 'ses', 'SES'],
  ['AWSSecurityTokenService', 'sts', 'STS'],
];

for (const [name, prefix, display] of aliases) {
  test(`services: resolveService(${name})`, (t) => {
    t.deepEqual(resolveService(name), { prefix, display });
  });
}

test('services: unknown and empty names', (t) => {
  t.is(resolveService('NotAService'), undefined);
  t.is(resolveService(''), undefined);
  t.is(resolveService(null), undefined);
});

const hosts: [string, string | undefined, string | undefined][] = [
  ['dynamodb.eu-west-1.amazonaws.com', 'dynamodb', 'eu-west-1'],
  ['my-bucket.s3.us-east-1.amazonaws.com', 's3', 'us-east-1'],
  ['my.dotted.bucket.s3.amazonaws.com', 's3', undefined],
  ['bkt.s3.dualstack.eu-west-1.amazonaws.com', 's3', 'eu-west-1'],
  ['s3-us-west-2.amazonaws.com', 's3', 'us-west-2'],
  ['s3-external-1.amazonaws.com', 's3', undefined],
  ['dynamodb-fips.us-east-1.amazonaws.com', 'dynamodb', 'us-east-1'],
  ['sqs.cn-north-1.amazonaws.com.cn', 'sqs', 'cn-north-1'],
  ['queue.amazonaws.com', 'sqs', 'us-east-1'],
  ['ap-south-1.queue.amazonaws.com', 'sqs', 'ap-south-1'],
  ['runtime.sagemaker.eu-west-1.amazonaws.com:443', 'sagemaker', 'eu-west-1'],
  ['states.us-east-2.amazonaws.com', 'states', 'us-east-2'],
];

for (const [host, prefix, region] of hosts) {
  test(`services: serviceFromHost(${host})`, (t) => {
    const info = serviceFromHost(host);
    t.is(info?.service?.prefix, prefix);
    t.is(info?.region, region);
  });
}

test('services: non-AWS hosts', (t) => {
  t.is(serviceFromHost('example.com'), undefined);
  t.is(serviceFromHost(undefined), undefined);
  t.is(serviceFromHost('foo.bar.amazonaws.com')?.service, undefined);
});

test('arn: parseArn keeps colons in the resource', (t) => {
  t.deepEqual(parseArn('arn:aws:lambda:us-east-1:123456789012:function:f:live'), {
    partition: 'aws',
    service: 'lambda',
    region: 'us-east-1',
    account: '123456789012',
    resource: 'function:f:live',
  });
  t.is(parseArn('arn:aws:s3'), undefined);
  t.is(parseArn('nope'), undefined);
});

test('arn: partitions, regions, accounts', (t) => {
  t.is(partitionOf('cn-north-1'), 'aws-cn');
  t.is(partitionOf('us-gov-west-1'), 'aws-us-gov');
  t.is(partitionOf('eu-west-1'), 'aws');
  t.is(partitionOf(null), 'aws');
  t.true(isRegion('ap-southeast-2'));
  t.false(isRegion('mars-1'));
  t.true(isAccountId('123456789012'));
  t.false(isAccountId('12345678901'));
});
