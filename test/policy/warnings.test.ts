import test from 'ava';
import { generaliseArn } from '../../src/policy/to-grant.js';
import type { PolicyWarning } from '../../src/policy/types.js';
import { permissionWarning, warningLines, wildcardSpans } from '../../src/policy/warnings.js';

const spans: [string, string | null, string[]][] = [
  ['arn:aws:dynamodb:us-east-1:*:table/orders', 'table', ['account']],
  ['arn:aws:dynamodb:*:123456789012:table/orders', 'table', ['region']],
  ['arn:aws:dynamodb:eu-west-1:123456789012:table/*', 'table', ['resource']],
  ['arn:aws:s3:::*/*', 'object', ['resource']],
  ['arn:aws:s3:::bucket/*', 'object', []],
  ['arn:aws:s3:::bucket/prefix/*', 'object', []],
  ['arn:aws:states:eu-west-1:123456789012:stateMachine:*', 'stateMachine', ['resource']],
  ['arn:aws:sqs:eu-west-1:123456789012:jobs-*', 'queue', []],
  ['arn:aws:dynamodb:eu-west-1:123456789012:table/orders', 'table', []],
  ['*', 'table', ['resource']],
  // An action with no resource types: `*` is the only resource IAM accepts.
  ['*', null, []],
  ['arn:aws:lambda:*:*:function:*', 'function', ['account', 'region', 'resource']],
];
for (const [resource, type, expected] of spans)
  test(`wildcardSpans(${resource}) is ${JSON.stringify(expected)}`, (t) => {
    t.deepEqual(wildcardSpans(resource, type), expected);
  });

test('warningLines: one line per kind and explanation, every permission named, long lists bounded', (t) => {
  const ws: PolicyWarning[] = [
    ...Array.from({ length: 12 }, (_, i) =>
      permissionWarning(
        'resource-unknown',
        `s3:GetObject`,
        `arn:aws:s3:::b${i}/*`,
        'the trace did not record it',
      ),
    ),
    permissionWarning(
      'denied',
      'sqs:SendMessage',
      'arn:aws:sqs:eu-west-1:1:q',
      'LEFT OUT',
      'denied 1 of 1 call',
    ),
    { code: 'incomplete', message: 'too little data' },
  ];
  const lines = warningLines(ws);
  t.is(lines.length, 3);
  t.regex(
    lines[0]!,
    /^\[resource-unknown\] 12 permissions: s3:GetObject on arn:aws:s3:::b0\/\*; .*; and 2 more \(--json lists all\)\. the trace did not record it$/,
  );
  t.is(lines[1], '[denied] sqs:SendMessage on arn:aws:sqs:eu-west-1:1:q (denied 1 of 1 call). LEFT OUT');
  t.is(lines[2], '[incomplete] too little data');
});

const own = { account: '111111111111', region: 'eu-west-1' };
const placeholders: [string, string][] = [
  ['arn:aws:sqs:eu-west-1:111111111111:q', 'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:q'],
  // Another account's queue is that account's: a placeholder would grant the deploying account's.
  ['arn:aws:sqs:eu-west-1:222222222222:q', 'arn:aws:sqs:eu-west-1:222222222222:q'],
  // Another region of the own account stays literal: the template may deploy elsewhere.
  ['arn:aws:sqs:us-east-1:111111111111:q', 'arn:aws:sqs:us-east-1:${AWS::AccountId}:q'],
  ['arn:aws:s3:::bucket/key', 'arn:aws:s3:::bucket/key'],
];
for (const [arn, expected] of placeholders)
  test(`--placeholders writes ${arn} as ${expected}`, (t) => {
    t.is(generaliseArn(arn, { placeholders: true }, own), expected);
  });
