/**
 * CloudTrail records and traces of our own for the tests of CloudTrail as evidence: one
 * role-session call with the fields filters and caller rules read, and the traces of orders-fn.
 */
import { awsCall, batch, lambdaSegment, traceId, writeFile } from './helpers.js';

/** The Node.js SDK's user agent inside the Lambda run time (the workload's own code). */
export const LAMBDA_NODE = 'aws-sdk-js/3.600.0 exec-env/AWS_Lambda_nodejs20.x';

/** What a role-session call says; everything left out takes a plain value (eu-west-1, 123456789012). */
export interface RoleCall {
  /** Second of 2026-11-30T12:00 it happened at, and the eventID's number. */
  n: number;
  role: string;
  eventSource?: string;
  eventName: string;
  userAgent?: string;
  sourceIp?: string;
  region?: string;
  account?: string;
  errorCode?: string;
  params?: unknown;
  arns?: string[];
  /** Prefix of the eventID (records of one file must not share one). */
  id?: string;
}

/** A call made with a role's credentials (an `AssumedRole` identity issued by `role`). */
export function roleRecord(c: RoleCall): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::123456789012:assumed-role/${c.role.split('/').pop()}/s`,
      accountId: '123456789012',
      sessionContext: { sessionIssuer: { type: 'Role', arn: c.role, accountId: '123456789012' } },
    },
    eventTime: `2026-11-30T12:00:${String(c.n).padStart(2, '0')}Z`,
    eventSource: c.eventSource ?? 'sqs.amazonaws.com',
    eventName: c.eventName,
    awsRegion: c.region ?? 'eu-west-1',
    sourceIPAddress: c.sourceIp ?? '3.250.1.1',
    userAgent: c.userAgent ?? LAMBDA_NODE,
    requestParameters: c.params ?? null,
    ...(c.errorCode ? { errorCode: c.errorCode, errorMessage: 'failed' } : {}),
    ...(c.arns ? { resources: c.arns.map((ARN) => ({ ARN })) } : {}),
    eventID: `${c.id ?? 'call'}-${c.n}`,
    eventType: 'AwsApiCall',
    managementEvent: false,
    eventCategory: 'Data',
    recipientAccountId: c.account ?? '123456789012',
  };
}

/** The traces of orders-fn (eu-west-1, 123456789012) in `dir`: a DynamoDB GetItem and an SQS SendMessage. */
export function ordersTraces(dir: string): string {
  const calls = [
    awsCall('DynamoDB', 'GetItem', { table_name: 'orders' }),
    awsCall('SQS', 'SendMessage', { queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs' }),
  ];
  return writeFile(
    dir,
    'traces.json',
    batch([{ id: traceId(1), segments: [lambdaSegment(traceId(1), 'orders-fn', calls)] }]),
  );
}

/** The role of the CloudTrail fixture (test/fixtures/cloudtrail/records.json). */
export const FIXTURE_ROLE = 'arn:aws:iam::123456789012:role/orders-fn-role';

/**
 * Writes `aws iam get-account-authorization-details` output in `dir` for {@link FIXTURE_ROLE},
 * with one inline policy allowing `actions` on `*`, and returns its path.
 */
export function fixtureRoleDetails(dir: string, actions: string[]): string {
  return writeFile(
    dir,
    'details.json',
    JSON.stringify({
      RoleDetailList: [
        {
          RoleName: 'orders-fn-role',
          Arn: FIXTURE_ROLE,
          AttachedManagedPolicies: [],
          RolePolicyList: [
            {
              PolicyName: 'p',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
              },
            },
          ],
        },
      ],
      Policies: [],
    }),
  );
}
