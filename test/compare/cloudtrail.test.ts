/**
 * `compare` reads a role's CloudTrail evidence (src/compare/compare.ts trailUsage): the role's own
 * calls and the services' calls on its behalf count as used; calls with its credentials from
 * outside the workload do not, and are named in the notes. A role no traced workload runs as is
 * compared as `role:ARN` with itself; a traced workload's role's calls count for that workload.
 */
import test from 'ava';
import { mergeGranted, parseGrantedFile, type GrantedInputs } from '../../src/granted/granted.js';
import { ingest } from '../../src/ingest/ingest.js';
import { compareGranted, type WorkloadComparison } from '../../src/compare/compare.js';
import type { CallFilter } from '../../src/store/filter.js';
import { tempStore, writeFile } from '../support/helpers.js';
import { ordersTraces, roleRecord } from '../support/cloudtrail.js';

const ROLE = 'arn:aws:iam::123456789012:role/service-role/orders-role';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:jobs';
const TABLE_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders';
const BUCKET = 'arn:aws:s3:::orders-bucket/*';
const LAPTOP = 'aws-cli/2.15.0 Python/3.11 Darwin/23 command/sqs.delete-message';

const sqs = (
  n: number,
  eventName: string,
  userAgent?: string,
  sourceIp = '198.51.100.7',
): Record<string, unknown> =>
  roleRecord({
    n,
    role: ROLE,
    eventName,
    params: { queueUrl: QUEUE },
    ...(userAgent ? { userAgent, sourceIp } : {}),
    id: 'cmp',
  });
const dynamo = (n: number, eventName: string): Record<string, unknown> =>
  roleRecord({
    n,
    role: ROLE,
    eventSource: 'dynamodb.amazonaws.com',
    eventName,
    params: { tableName: 'orders' },
    id: 'cmp',
  });
const s3 = (n: number): Record<string, unknown> =>
  roleRecord({
    n,
    role: ROLE,
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    params: { bucketName: 'orders-bucket', key: 'a.json' },
    arns: ['arn:aws:s3:::orders-bucket/a.json'],
    id: 'cmp',
  });

/** The Lambda service assuming the role for orders-fn (the session names the function). */
const assumed: Record<string, unknown> = {
  eventVersion: '1.09',
  userIdentity: { type: 'AWSService', invokedBy: 'lambda.amazonaws.com' },
  eventTime: '2026-11-30T11:00:00Z',
  eventSource: 'sts.amazonaws.com',
  eventName: 'AssumeRole',
  awsRegion: 'eu-west-1',
  sourceIPAddress: 'lambda.amazonaws.com',
  userAgent: 'lambda.amazonaws.com',
  requestParameters: { roleArn: ROLE, roleSessionName: 'orders-fn' },
  eventID: 'cmp-assume',
  eventType: 'AwsApiCall',
  managementEvent: true,
  eventCategory: 'Management',
  recipientAccountId: '123456789012',
};

/** The role's identity policy (an authorization-details export) and, for traces, which role orders-fn runs as. */
function grantedFor(grants: [string, string][], functions: boolean): GrantedInputs {
  const details = {
    RoleDetailList: [
      {
        Path: '/service-role/',
        RoleName: 'orders-role',
        Arn: ROLE,
        RolePolicyList: [
          {
            PolicyName: 'orders',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: grants.map(([Action, Resource]) => ({ Effect: 'Allow', Action, Resource })),
            },
          },
        ],
        AttachedManagedPolicies: [],
      },
    ],
    Policies: [],
  };
  const files = [parseGrantedFile(JSON.stringify(details), 'details.json')];
  if (functions)
    files.push(
      parseGrantedFile(
        JSON.stringify({
          Functions: [
            {
              FunctionName: 'orders-fn',
              FunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-fn',
              Role: ROLE,
            },
          ],
        }),
        'functions.json',
      ),
    );
  return mergeGranted(files);
}

interface Case {
  name: string;
  records: Record<string, unknown>[];
  traces: boolean;
  grants: [string, string][];
  filter?: CallFilter;
  /** Run-time needs recognised (default: none, so that every grant no call shows is unused). */
  runtime?: 'all';
  principal: string;
  matchedBy: WorkloadComparison['role']['matchedBy'];
  /** Concrete actions left unused (what to remove). */
  unused: string[];
  missing: string[];
  usedActions: number;
  /** Notes that must be there. */
  notes: RegExp[];
}

const CASES: Case[] = [
  {
    name: 'a CloudTrail-only role: its own calls are used, the rest of its grants unused, an ungranted call missing',
    records: [sqs(1, 'ReceiveMessage'), sqs(2, 'ReceiveMessage'), dynamo(3, 'PutItem')],
    traces: false,
    grants: [
      ['sqs:ReceiveMessage', QUEUE_ARN],
      ['sqs:DeleteMessage', QUEUE_ARN],
      ['dynamodb:GetItem', TABLE_ARN],
    ],
    principal: `role:${ROLE}`,
    matchedBy: 'cloudtrail',
    unused: ['dynamodb:GetItem', 'sqs:DeleteMessage'],
    missing: [`dynamodb:PutItem ${TABLE_ARN}`],
    usedActions: 2,
    notes: [/3 calls recorded by CloudTrail with .*orders-role counted as used/],
  },
  {
    name: 'outside calls (a laptop’s AWS CLI) are not used and are named',
    records: [sqs(1, 'ReceiveMessage'), sqs(2, 'DeleteMessage', LAPTOP), sqs(3, 'DeleteMessage', LAPTOP)],
    traces: false,
    grants: [
      ['sqs:ReceiveMessage', QUEUE_ARN],
      ['sqs:DeleteMessage', QUEUE_ARN],
    ],
    principal: `role:${ROLE}`,
    matchedBy: 'cloudtrail',
    unused: ['sqs:DeleteMessage'],
    missing: [],
    usedActions: 1,
    notes: [
      /credentials used outside the workload: 2 calls with .*orders-role from 198\.51\.100\.7, user agent aws-cli\/2\.15\.0 Python\/3\.11 Darwin\/23: sqs:DeleteMessage; not counted as used/,
    ],
  },
  {
    name: 'outside callers beyond the 10 named are summed into one note',
    records: [
      sqs(1, 'ReceiveMessage'),
      ...Array.from({ length: 12 }, (_, i) => sqs(10 + i, 'DeleteMessage', LAPTOP, `203.0.113.${10 + i}`)),
    ],
    traces: false,
    grants: [['sqs:ReceiveMessage', QUEUE_ARN]],
    principal: `role:${ROLE}`,
    matchedBy: 'cloudtrail',
    unused: [],
    missing: [],
    usedActions: 1,
    notes: [
      /from 203\.0\.113\.10, user agent/,
      /credentials used outside the workload: 2 calls with .*orders-role from other callers; not counted as used/,
    ],
  },
  {
    name: 'a mixed role: the traced function’s role’s CloudTrail calls count for the function, no role:ARN subject',
    records: [s3(1), sqs(2, 'ReceiveMessage')],
    traces: true,
    grants: [
      ['dynamodb:GetItem', TABLE_ARN],
      ['sqs:SendMessage', QUEUE_ARN],
      ['sqs:ReceiveMessage', QUEUE_ARN],
      ['s3:GetObject', BUCKET],
      ['s3:PutObject', BUCKET],
    ],
    principal: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-fn',
    matchedBy: 'functions',
    unused: ['s3:PutObject'],
    missing: [],
    usedActions: 4,
    notes: [/2 calls recorded by CloudTrail/],
  },
  {
    name: 'a CloudTrail-only role the Lambda service assumes for orders-fn: its log-group grant is a run-time need, not unused',
    records: [assumed, sqs(1, 'ReceiveMessage')],
    traces: false,
    grants: [
      ['sqs:ReceiveMessage', QUEUE_ARN],
      ['logs:CreateLogGroup', 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-fn:*'],
    ],
    runtime: 'all',
    principal: `role:${ROLE}`,
    matchedBy: 'cloudtrail',
    unused: [],
    missing: [],
    usedActions: 1,
    notes: [],
  },
  {
    name: 'filters apply to CloudTrail calls: --action keeps the role’s SQS calls only',
    records: [sqs(1, 'ReceiveMessage'), dynamo(2, 'GetItem')],
    traces: false,
    grants: [
      ['sqs:ReceiveMessage', QUEUE_ARN],
      ['dynamodb:GetItem', TABLE_ARN],
    ],
    filter: { actions: ['sqs:*'] },
    principal: `role:${ROLE}`,
    matchedBy: 'cloudtrail',
    unused: ['dynamodb:GetItem'],
    missing: [],
    usedActions: 1,
    notes: [/1 call recorded by CloudTrail/],
  },
];

for (const c of CASES)
  test(`compare with CloudTrail: ${c.name}`, async (t) => {
    const { store, dir } = tempStore();
    const inputs = [writeFile(dir, 'ct.json', JSON.stringify({ Records: c.records }))];
    if (c.traces) inputs.push(ordersTraces(dir));
    const r = await ingest(store, { inputs });
    t.is(r.rejected, 0);
    const result = compareGranted(store, {
      filter: c.filter ?? {},
      granted: grantedFor(c.grants, c.traces),
      runtime: c.runtime ?? 'none',
    });
    store.close();
    t.deepEqual(result.unmatchedWorkloads, []);
    t.deepEqual(
      result.workloads.map((w) => w.principal),
      [c.principal],
    );
    const w = result.workloads[0] as WorkloadComparison;
    t.is(w.role.matchedBy, c.matchedBy);
    t.is(w.role.arn, ROLE);
    t.deepEqual(w.unused.flatMap((u) => u.unused).sort(), c.unused);
    t.deepEqual(
      w.missing.map((m) => `${m.action} ${m.resource}`),
      c.missing,
    );
    t.is(w.used.actions, c.usedActions);
    for (const n of c.notes)
      t.true(
        w.notes.some((x) => n.test(x)),
        `${n} in ${w.notes.join(' | ')}`,
      );
  });
