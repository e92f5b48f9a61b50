/**
 * The bundled catalogue of AWS managed policies (issue 27): lookup by ARN in any partition, by
 * path and name, by name; an export given with --granted wins over it; an unknown one is named.
 */
import test from 'ava';
import { mergeGranted, parseGrantedFile } from '../../src/granted/granted.js';
import { lookupManagedPolicy, managedCatalogueInfo, managedPolicyArn } from '../../src/granted/managed.js';
import { evaluate, type Policy } from '../../src/iam/evaluate.js';

const SQS_ROLE = 'arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole';

const lookups: { ref: string; arn: string | undefined; version?: string; action?: string }[] = [
  { ref: SQS_ROLE, arn: SQS_ROLE, version: 'v1', action: 'sqs:ReceiveMessage' },
  { ref: 'arn:aws-cn:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole', arn: SQS_ROLE },
  { ref: 'arn:aws-us-gov:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole', arn: SQS_ROLE },
  { ref: 'AWSLambdaSQSQueueExecutionRole', arn: SQS_ROLE },
  { ref: 'service-role/AWSLambdaSQSQueueExecutionRole', arn: SQS_ROLE },
  { ref: '/service-role/AWSLambdaSQSQueueExecutionRole', arn: SQS_ROLE },
  {
    ref: 'AWSLambdaBasicExecutionRole',
    arn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    action: 'logs:PutLogEvents',
  },
  {
    ref: 'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess',
    arn: 'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess',
    action: 'xray:PutTraceSegments',
  },
  {
    ref: 'AWSLambdaKinesisExecutionRole',
    arn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole',
    action: 'kinesis:GetRecords',
  },
  {
    ref: 'AWSLambdaDynamoDBExecutionRole',
    arn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole',
    action: 'dynamodb:GetRecords',
  },
  {
    ref: 'AWSLambdaVPCAccessExecutionRole',
    arn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
    action: 'ec2:CreateNetworkInterface',
  },
  {
    ref: 'AmazonS3ReadOnlyAccess',
    arn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
    action: 's3:GetObject',
  },
  {
    ref: 'AmazonSSMReadOnlyAccess',
    arn: 'arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess',
    action: 'ssm:GetParameter',
  },
  { ref: 'ReadOnlyAccess', arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess', action: 'dynamodb:DescribeTable' },
  {
    ref: 'AdministratorAccess',
    arn: 'arn:aws:iam::aws:policy/AdministratorAccess',
    version: 'v1',
    action: 'iam:PassRole',
  },
  // The wrong path names no policy (the real one is under service-role/).
  { ref: 'arn:aws:iam::aws:policy/AWSLambdaSQSQueueExecutionRole', arn: undefined },
  { ref: 'arn:aws:iam::aws:policy/job-function/AWSLambdaSQSQueueExecutionRole', arn: undefined },
  // Not in the catalogue (too large for the dataset's repository), not AWS managed, or a placeholder.
  { ref: 'PowerUserAccess', arn: undefined },
  { ref: 'arn:aws:iam::aws:policy/NoSuchPolicyEver', arn: undefined },
  { ref: 'arn:aws:iam::123456789012:policy/AmazonS3ReadOnlyAccess', arn: undefined },
  { ref: 'arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/x', arn: undefined },
  { ref: '__proto__', arn: undefined },
  { ref: 'constructor', arn: undefined },
];

for (const c of lookups)
  test(`lookup ${c.ref}`, (t) => {
    const p = lookupManagedPolicy(c.ref);
    t.is(p?.arn, c.arn);
    if (c.version) t.is(p?.version, c.version);
    if (c.action) t.is(evaluate([parsed(p?.document)], c.action, '*'), 'allowed');
  });

test('a name alone maps to the ARN of its path; other ARNs stay as written', (t) => {
  t.is(managedPolicyArn('AWSLambdaSQSQueueExecutionRole'), SQS_ROLE);
  t.is(managedPolicyArn('NoSuchPolicyEver'), 'arn:aws:iam::aws:policy/NoSuchPolicyEver');
  t.is(managedPolicyArn('arn:aws:iam::123456789012:policy/p'), 'arn:aws:iam::123456789012:policy/p');
});

test('the catalogue says where it comes from and how old it is', (t) => {
  const info = managedCatalogueInfo();
  t.is(info.repository, 'https://github.com/iann0036/iam-dataset');
  t.regex(info.commit, /^[0-9a-f]{40}$/);
  t.regex(info.date, /^\d{4}-\d\d-\d\d$/);
  t.true(info.policies > 1000);
});

/** A template whose role attaches `arns`, as the tool reads it. */
function template(arns: string[]): string {
  return JSON.stringify({
    Resources: {
      R: {
        Type: 'AWS::IAM::Role',
        Properties: { RoleName: 'r', AssumeRolePolicyDocument: {}, ManagedPolicyArns: arns },
      },
    },
  });
}

function details(arn: string, action: string): string {
  return JSON.stringify({
    Policies: [
      {
        Arn: arn,
        DefaultVersionId: 'v9',
        PolicyVersionList: [
          { VersionId: 'v9', Document: { Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] } },
        ],
      },
    ],
  });
}

const merges: {
  what: string;
  arns: string[];
  details?: string;
  allowed: string[];
  notAllowed: string[];
  notes: RegExp[];
}[] = [
  {
    what: 'bundled: by ARN',
    arns: [SQS_ROLE],
    allowed: ['sqs:DeleteMessage'],
    notAllowed: ['sqs:SendMessage'],
    notes: [
      /^AWS managed policies from the bundled catalogue of .*: AWSLambdaSQSQueueExecutionRole v1 of 2018-06-14;/,
    ],
  },
  {
    what: 'the export wins over the bundled copy, in any partition',
    arns: ['arn:aws-cn:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole'],
    details: details(
      'arn:aws-cn:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole',
      'sqs:SendMessage',
    ),
    allowed: ['sqs:SendMessage'],
    notAllowed: ['sqs:DeleteMessage'],
    notes: [
      /^managed policies read from details\.json: arn:aws:iam::aws:policy\/service-role\/AWSLambdaSQSQueueExecutionRole$/,
    ],
  },
  {
    what: 'unknown: named, not counted',
    arns: ['arn:aws:iam::aws:policy/PowerUserAccess', 'arn:aws:iam::123456789012:policy/mine'],
    allowed: [],
    notAllowed: ['s3:GetObject'],
    notes: [
      /^managed policy arn:aws:iam::aws:policy\/PowerUserAccess \(attached at t\.json:1 R\) is unknown: its grants are not counted/,
      /^managed policy arn:aws:iam::123456789012:policy\/mine \(attached at t\.json:1 R\) is unknown/,
    ],
  },
];

for (const c of merges)
  test(`merge: ${c.what}`, (t) => {
    const files = [parseGrantedFile(template(c.arns), 't.json')];
    if (c.details) files.push(parseGrantedFile(c.details, 'details.json'));
    const role = mergeGranted(files).roles[0]!;
    for (const a of c.allowed) t.is(evaluate(role.policies, a, '*'), 'allowed', a);
    for (const a of c.notAllowed) t.is(evaluate(role.policies, a, '*'), 'not-allowed', a);
    t.is(role.notes.length, c.notes.length, role.notes.join('\n'));
    for (const [i, re] of c.notes.entries()) t.regex(role.notes[i] ?? '', re);
  });

function parsed(doc: unknown): Policy {
  const f = parseGrantedFile(JSON.stringify(doc), 'doc.json');
  if (f.kind !== 'policy') throw new Error(f.kind);
  return f.policy;
}
