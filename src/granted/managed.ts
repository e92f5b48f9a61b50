/**
 * The AWS managed policies this tool bundles, by ARN: the default versions of the two policies a
 * traced Lambda function is usually given, as AWS publishes them (the same documents as
 * samples/granted). Any other AWS managed policy a template attaches is read from a
 * `get-account-authorization-details` export passed with `--granted`, or named as unknown.
 *
 * Sources: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
 * and https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXRayDaemonWriteAccess.html
 */

/** Managed policy ARN (partition `aws`) → its default policy document. */
export const BUNDLED_MANAGED_POLICIES: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  [
    'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: '*',
        },
      ],
    },
  ],
  [
    'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess',
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'xray:PutTraceSegments',
            'xray:PutTelemetryRecords',
            'xray:GetSamplingRules',
            'xray:GetSamplingTargets',
            'xray:GetSamplingStatisticSummaries',
          ],
          Resource: ['*'],
        },
      ],
    },
  ],
]);
