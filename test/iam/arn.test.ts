/** ARNs, regions and partitions (src/iam/arn.ts), including the newer partitions. */
import test from 'ava';
import { arnParts, formatArn, isRegion, parseArn, partitionOf } from '../../src/iam/arn.js';
import { serviceFromHost } from '../../src/iam/service-names.js';
import { mapCall } from '../../src/iam/map.js';

const PARTITIONS: [string, string][] = [
  ['eu-west-1', 'aws'],
  ['ap-southeast-7', 'aws'],
  ['mx-central-1', 'aws'],
  ['cn-north-1', 'aws-cn'],
  ['us-gov-west-1', 'aws-us-gov'],
  ['us-iso-east-1', 'aws-iso'],
  ['us-isob-east-1', 'aws-iso-b'],
  ['us-isof-south-1', 'aws-iso-f'],
  ['us-isof-east-1', 'aws-iso-f'],
  ['eu-isoe-west-1', 'aws-iso-e'],
  ['eusc-de-east-1', 'aws-eusc'],
];
for (const [region, partition] of PARTITIONS) {
  test(`${region} is a region of ${partition}`, (t) => {
    t.true(isRegion(region));
    t.is(partitionOf(region), partition);
  });
}

for (const bad of ['mars-1', 'eu-west', 'EU-WEST-1', 'eu-west-1a', 'eusc-east-1', 'us-isox-east-1', '']) {
  test(`${JSON.stringify(bad)} is not a region`, (t) => t.false(isRegion(bad)));
}

test('ARNs parse into their six parts and back', (t) => {
  const text = 'arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:f:live';
  const arn = parseArn(text);
  t.deepEqual(arn, {
    partition: 'aws-eusc',
    service: 'lambda',
    region: 'eusc-de-east-1',
    account: '123456789012',
    resource: 'function:f:live',
  });
  t.is(formatArn(arn!), text);
  t.deepEqual(arnParts('ARN:aws:s3:::b/k:x'), ['ARN', 'aws', 's3', '', '', 'b/k:x']);
  t.is(parseArn('ARN:aws:s3:::b'), undefined, 'data must say arn in lower case');
  t.is(parseArn('arn:aws:s3'), undefined);
});

const HOSTS: [string, string, string][] = [
  ['dynamodb.eusc-de-east-1.amazonaws.eu', 'dynamodb', 'eusc-de-east-1'],
  ['sqs.us-isof-south-1.csp.hci.ic.gov', 'sqs', 'us-isof-south-1'],
  ['kms.eu-isoe-west-1.cloud.adc-e.uk', 'kms', 'eu-isoe-west-1'],
  ['s3.us-isob-east-1.sc2s.sgov.gov', 's3', 'us-isob-east-1'],
  ['lambda.cn-north-1.amazonaws.com.cn', 'lambda', 'cn-north-1'],
];
for (const [host, service, region] of HOSTS) {
  test(`endpoint ${host} is ${service} in ${region}`, (t) => {
    t.like(serviceFromHost(host), { service: { prefix: service }, region });
  });
}

test('a call in a newer partition gets ARNs of that partition', (t) => {
  const r = mapCall({
    service: 'DynamoDB',
    operation: 'GetItem',
    region: 'eusc-de-east-1',
    account: '123456789012',
    params: { table_name: 'orders' },
  });
  t.deepEqual(r, {
    status: 'mapped',
    permissions: [
      {
        action: 'dynamodb:GetItem',
        resource: 'arn:aws-eusc:dynamodb:eusc-de-east-1:123456789012:table/orders',
        resourceType: 'table',
        resourceUnknown: false,
      },
    ],
  });
  const iso = mapCall({
    service: 'SQS',
    operation: 'SendMessage',
    region: 'us-isof-south-1',
    account: '123456789012',
    params: {},
  });
  t.regex(JSON.stringify(iso), /arn:aws-iso-f:sqs:us-isof-south-1:123456789012:\*/);
});
