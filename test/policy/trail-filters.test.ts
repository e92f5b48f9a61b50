/**
 * Every filter applies to CloudTrail evidence with the meaning it has for traces (src/policy/trail.ts,
 * store/trail.ts, store/filter.ts): on a store holding both, each filter keeps the same kind of
 * call from either source.
 */
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies } from '../../src/policy/build.js';
import type { CallFilter } from '../../src/store/filter.js';
import { tempStore, writeFile } from '../support/helpers.js';
import { ordersTraces, roleRecord, type RoleCall } from '../support/cloudtrail.js';

const ROLE = 'arn:aws:iam::123456789012:role/ct-role';

/** A call made by the role's own code (the Lambda token), with the fields a filter reads. */
const record = (
  n: number,
  eventSource: string,
  eventName: string,
  more: Omit<RoleCall, 'n' | 'role' | 'eventSource' | 'eventName'>,
): Record<string, unknown> => roleRecord({ n, role: ROLE, eventSource, eventName, id: 'filter', ...more });

const RECORDS = [
  record(1, 'dynamodb.amazonaws.com', 'GetItem', { params: { tableName: 'orders' } }),
  record(2, 's3.amazonaws.com', 'GetObject', { region: 'us-east-1', params: { bucketName: 'b', key: 'k' } }),
  record(3, 'sqs.amazonaws.com', 'SendMessage', {
    account: '210987654321',
    errorCode: 'AccessDenied',
    params: { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/210987654321/jobs' },
  }),
  record(4, 'kms.amazonaws.com', 'Decrypt', {
    errorCode: 'ThrottlingException',
    arns: ['arn:aws:kms:eu-west-1:123456789012:key/k1'],
  }),
];

const FN = 'orders-fn';
const CT = 'ct-role';

/** Filter → the `subject action` pairs of the recorded evidence (denied calls included; needs left out). */
const CASES: [string, CallFilter, string[]][] = [
  [
    'no filter',
    {},
    [
      `${CT} dynamodb:GetItem`,
      `${CT} kms:Decrypt`,
      `${CT} s3:GetObject`,
      `${CT} sqs:SendMessage`,
      `${FN} dynamodb:GetItem`,
      `${FN} sqs:SendMessage`,
    ],
  ],
  ['--region us-east-1', { regions: ['us-east-1'] }, [`${CT} s3:GetObject`]],
  [
    '--region eu-*',
    { regions: ['eu-*'] },
    [
      `${CT} dynamodb:GetItem`,
      `${CT} kms:Decrypt`,
      `${CT} sqs:SendMessage`,
      `${FN} dynamodb:GetItem`,
      `${FN} sqs:SendMessage`,
    ],
  ],
  ['--account 2109*', { accounts: ['2109*'] }, [`${CT} sqs:SendMessage`]],
  [
    '--service DynamoDB (an alias)',
    { services: ['DynamoDB'] },
    [`${CT} dynamodb:GetItem`, `${FN} dynamodb:GetItem`],
  ],
  ['--service s?s (a pattern)', { services: ['s?s'] }, [`${CT} sqs:SendMessage`, `${FN} sqs:SendMessage`]],
  ['--action S3:get* (case-insensitive)', { actions: ['S3:get*'] }, [`${CT} s3:GetObject`]],
  [
    '--resource *:table/orders',
    { resources: ['arn:aws:dynamodb:*:table/orders'] },
    [`${CT} dynamodb:GetItem`, `${FN} dynamodb:GetItem`],
  ],
  ['--resource (case-sensitive)', { resources: ['arn:aws:dynamodb:*:table/ORDERS'] }, []],
  ['--outcome throttle', { outcomes: ['throttle'] }, [`${CT} kms:Decrypt`]],
  ['--outcome denied', { outcomes: ['denied'] }, [`${CT} sqs:SendMessage`]],
  ['--outcome ok --service sqs', { outcomes: ['ok'], services: ['sqs'] }, [`${FN} sqs:SendMessage`]],
  ['--since after every call', { since: Date.parse('2026-12-01T00:00:00Z') / 1000 }, []],
];

for (const [name, filter, expected] of CASES)
  test(`each filter applies to traces and CloudTrail alike: ${name}`, async (t) => {
    const { store, dir } = tempStore();
    await ingest(store, {
      inputs: [ordersTraces(dir), writeFile(dir, 'ct.json', JSON.stringify({ Records: RECORDS }))],
    });
    const { policies } = buildPolicies(store, { filter, includeDenied: true });
    const got = policies
      .flatMap((p) =>
        p.evidence.flatMap((s) =>
          s.actions
            .filter((a) => a.origin === 'observed')
            .map((a) => `${p.principal.includes('role/') ? CT : FN} ${a.action}`),
        ),
      )
      .sort();
    t.deepEqual([...new Set(got)], expected);
    store.close();
  });
