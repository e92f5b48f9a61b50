/**
 * Service identity: every spelling an SDK, X-Ray or an endpoint host uses for a service,
 * resolved to the IAM action prefix (`dynamodb`, `states`, `s3`…). Pure data, no I/O.
 */
import { isRegion, PARTITIONS } from './arn.js';

/** A service as the rest of the tool knows it. */
export interface ServiceInfo {
  /** IAM action prefix, e.g. `dynamodb`, `states`. */
  prefix: string;
  /** Display name as X-Ray canonicalises it, e.g. `DynamoDB`. */
  display: string;
}

/** Canonical display name → IAM prefix and the aliases that SDKs record (compared case-insensitively). */
const SERVICES: readonly { display: string; prefix: string; aliases: readonly string[] }[] = [
  {
    display: 'DynamoDB',
    prefix: 'dynamodb',
    aliases: ['dynamodb', 'DynamoDBv2', 'AmazonDynamoDBv2', 'AmazonDynamoDB', 'Amazon DynamoDB', 'DynamoDb'],
  },
  {
    display: 'DynamoDBStreams',
    prefix: 'dynamodb',
    aliases: ['streams.dynamodb', 'DynamoDBStreams', 'AmazonDynamoDBStreams'],
  },
  { display: 'S3', prefix: 's3', aliases: ['s3', 'Amazon S3', 'AmazonS3', 'Amazon Simple Storage Service'] },
  // Same IAM prefix as S3, but account-level operations: kept apart so the S3 object table does not apply.
  { display: 'S3Control', prefix: 's3', aliases: ['s3-control', 'S3Control', 'AWSS3Control'] },
  {
    display: 'SQS',
    prefix: 'sqs',
    aliases: ['sqs', 'AmazonSQS', 'Amazon SQS', 'Amazon Simple Queue Service'],
  },
  {
    display: 'SNS',
    prefix: 'sns',
    aliases: [
      'sns',
      'AmazonSNS',
      'SimpleNotificationService',
      'AmazonSimpleNotificationService',
      'Amazon SNS',
    ],
  },
  { display: 'Lambda', prefix: 'lambda', aliases: ['lambda', 'AWSLambda', 'AWS Lambda'] },
  {
    display: 'SFN',
    prefix: 'states',
    aliases: ['states', 'sfn', 'StepFunctions', 'AWSStepFunctions', 'SFN', 'Step Functions'],
  },
  {
    display: 'EventBridge',
    prefix: 'events',
    aliases: ['events', 'EventBridge', 'CloudWatchEvents', 'AmazonCloudWatchEvents'],
  },
  {
    display: 'CloudWatchLogs',
    prefix: 'logs',
    aliases: ['logs', 'CloudWatchLogs', 'AWSLogs', 'CloudWatch Logs'],
  },
  { display: 'CloudWatch', prefix: 'cloudwatch', aliases: ['monitoring', 'cloudwatch', 'AmazonCloudWatch'] },
  {
    display: 'SES',
    prefix: 'ses',
    aliases: ['email', 'ses', 'SESv2', 'sesv2', 'AmazonSimpleEmailService', 'SimpleEmail'],
  },
  { display: 'STS', prefix: 'sts', aliases: ['sts', 'AWSSecurityTokenService', 'SecurityTokenService'] },
  {
    display: 'SecretsManager',
    prefix: 'secretsmanager',
    aliases: ['secretsmanager', 'SecretsManager', 'AWSSecretsManager', 'Secrets Manager'],
  },
  {
    display: 'SSM',
    prefix: 'ssm',
    aliases: ['ssm', 'SSM', 'AWSSimpleSystemsManagement', 'SimpleSystemsManagement'],
  },
  { display: 'KMS', prefix: 'kms', aliases: ['kms', 'AWSKMS', 'KeyManagementService'] },
  { display: 'Kinesis', prefix: 'kinesis', aliases: ['kinesis', 'AmazonKinesis'] },
  {
    display: 'Firehose',
    prefix: 'firehose',
    aliases: ['firehose', 'AmazonKinesisFirehose', 'KinesisFirehose'],
  },
  {
    display: 'SageMakerRuntime',
    prefix: 'sagemaker',
    aliases: ['runtime.sagemaker', 'SageMakerRuntime', 'AmazonSageMakerRuntime', 'sagemaker-runtime'],
  },
  { display: 'SageMaker', prefix: 'sagemaker', aliases: ['sagemaker', 'AmazonSageMaker'] },
  { display: 'EC2', prefix: 'ec2', aliases: ['ec2', 'AmazonEC2'] },
  { display: 'ECS', prefix: 'ecs', aliases: ['ecs', 'AmazonECS'] },
  { display: 'IAM', prefix: 'iam', aliases: ['iam', 'AmazonIdentityManagement'] },
  {
    display: 'Cognito',
    prefix: 'cognito-idp',
    aliases: ['cognito-idp', 'CognitoIdentityProvider', 'AWSCognitoIdentityProvider'],
  },
  { display: 'AppSync', prefix: 'appsync', aliases: ['appsync'] },
  { display: 'Athena', prefix: 'athena', aliases: ['athena', 'AmazonAthena'] },
  { display: 'Glue', prefix: 'glue', aliases: ['glue', 'AWSGlue'] },
  { display: 'Rekognition', prefix: 'rekognition', aliases: ['rekognition', 'AmazonRekognition'] },
  { display: 'Textract', prefix: 'textract', aliases: ['textract', 'AmazonTextract'] },
  { display: 'Comprehend', prefix: 'comprehend', aliases: ['comprehend', 'AmazonComprehend'] },
  { display: 'Translate', prefix: 'translate', aliases: ['translate', 'AmazonTranslate'] },
  { display: 'Polly', prefix: 'polly', aliases: ['polly', 'AmazonPolly'] },
  { display: 'APIGateway', prefix: 'apigateway', aliases: ['apigateway', 'AmazonApiGateway', 'APIGateway'] },
  {
    display: 'ApiGatewayManagementApi',
    prefix: 'execute-api',
    aliases: ['execute-api', 'ApiGatewayManagementApi'],
  },
  {
    display: 'Bedrock',
    prefix: 'bedrock',
    aliases: ['bedrock', 'bedrock-runtime', 'BedrockRuntime', 'bedrock-agent-runtime'],
  },
  {
    display: 'CloudFormation',
    prefix: 'cloudformation',
    aliases: ['cloudformation', 'AmazonCloudFormation'],
  },
  { display: 'ECR', prefix: 'ecr', aliases: ['ecr', 'api.ecr', 'AmazonECR'] },
  { display: 'ElastiCache', prefix: 'elasticache', aliases: ['elasticache', 'AmazonElastiCache'] },
  { display: 'RDSData', prefix: 'rds-data', aliases: ['rds-data', 'RDSData', 'RdsData'] },
  { display: 'RDS', prefix: 'rds', aliases: ['rds', 'AmazonRDS'] },
  { display: 'AppConfig', prefix: 'appconfig', aliases: ['appconfig', 'appconfigdata', 'AppConfigData'] },
  { display: 'X-Ray', prefix: 'xray', aliases: ['xray', 'AWSXRay', 'XRay'] },
  { display: 'Scheduler', prefix: 'scheduler', aliases: ['scheduler'] },
  { display: 'Pipes', prefix: 'pipes', aliases: ['pipes'] },
  { display: 'IoTData', prefix: 'iot', aliases: ['data.iot', 'iot-data', 'IoTDataPlane', 'iot'] },
  { display: 'ACM', prefix: 'acm', aliases: ['acm', 'AWSCertificateManager'] },
  { display: 'Route53', prefix: 'route53', aliases: ['route53', 'AmazonRoute53'] },
  { display: 'CodeBuild', prefix: 'codebuild', aliases: ['codebuild', 'AWSCodeBuild'] },
  {
    display: 'OpenSearch',
    prefix: 'es',
    aliases: ['es', 'opensearch', 'OpenSearch', 'Elasticsearch', 'AWSElasticsearch'],
  },
  {
    display: 'Timestream',
    prefix: 'timestream',
    aliases: ['timestream', 'ingest.timestream', 'query.timestream', 'TimestreamWrite', 'TimestreamQuery'],
  },
];

const BY_ALIAS = new Map<string, ServiceInfo>();
for (const s of SERVICES) {
  const info: ServiceInfo = { prefix: s.prefix, display: s.display };
  BY_ALIAS.set(s.display.toLowerCase(), info);
  for (const a of s.aliases) BY_ALIAS.set(normalise(a), info);
}

function normalise(name: string): string {
  // "Amazon S3", "AWS.SDK.DynamoDB", "AWS::DynamoDB::Table" → comparable key.
  let n = name.trim().toLowerCase();
  if (n.startsWith('aws.sdk.')) n = n.slice(8);
  if (n.startsWith('aws::')) n = n.slice(5).split('::')[0] ?? n;
  return n;
}

/**
 * Resolves a recorded service name (subsegment `name`, OTel `rpc.service`, inferred-segment
 * `origin` like `AWS::DynamoDB::Table`) to the service. Case-insensitive; undefined when unknown.
 */
export function resolveService(name: string | null | undefined): ServiceInfo | undefined {
  if (!name) return undefined;
  return BY_ALIAS.get(normalise(name)) ?? BY_ALIAS.get(name.trim().toLowerCase().replace(/\s+/g, ''));
}

/** What an AWS endpoint host tells: the service and, where the host carries one, the region. */
export interface HostInfo {
  service: ServiceInfo | undefined;
  /** The endpoint prefix as written in the host (`dynamodb`, `runtime.sagemaker`). */
  endpointPrefix: string;
  region: string | undefined;
}

/** Endpoint DNS suffixes of every partition, longest first (`amazonaws.com.cn` before `amazonaws.com`). */
const ENDPOINT_SUFFIXES = [...new Set(PARTITIONS.map((p) => p.dnsSuffix))].sort(
  (a, b) => b.length - a.length,
);

/**
 * Reads an AWS endpoint host (`dynamodb.eu-west-1.amazonaws.com`,
 * `bucket.s3.us-east-1.amazonaws.com`, `sqs.us-east-1.amazonaws.com.cn`). Undefined for hosts
 * that are not AWS endpoints.
 */
export function serviceFromHost(host: string | null | undefined): HostInfo | undefined {
  if (!host) return undefined;
  const h = host.toLowerCase().replace(/:\d+$/, '');
  const suffix = ENDPOINT_SUFFIXES.find((s) => h.endsWith(`.${s}`));
  if (suffix === undefined) return undefined;
  // FIPS and dual-stack labels (`s3.dualstack.…`, `dynamodb-fips.…`) say nothing about the service.
  const labels = h
    .slice(0, h.length - suffix.length - 1)
    .split('.')
    .filter((l) => l !== 'dualstack' && l !== 'fips')
    .map((l) => l.replace(/-fips$/, ''));
  // Legacy SQS hosts: `queue.amazonaws.com` (us-east-1) and `<region>.queue.amazonaws.com`.
  if (labels[labels.length - 1] === 'queue' && labels.length <= 2) {
    const r = labels.length === 2 ? labels[0] : 'us-east-1';
    if (r === undefined || !isRegion(r))
      return { service: undefined, endpointPrefix: 'queue', region: undefined };
    return { service: resolveService('sqs'), endpointPrefix: 'queue', region: r };
  }
  // Find the region label, if any; the service label sits just before it.
  let region: string | undefined;
  let serviceLabels = labels;
  const ri = labels.findIndex((l) => isRegion(l));
  if (ri >= 0) {
    region = labels[ri];
    serviceLabels = labels.slice(0, ri);
  }
  // Virtual-hosted S3 (`bucket.s3.…`, `bucket.s3-us-west-2.…`): the service is the last label.
  for (let take = Math.min(2, serviceLabels.length); take >= 1; take--) {
    const prefix = serviceLabels.slice(serviceLabels.length - take).join('.');
    const svc = resolveService(prefix);
    if (svc) return { service: svc, endpointPrefix: prefix, region };
  }
  const last = serviceLabels[serviceLabels.length - 1] ?? '';
  const legacyS3 = /^s3-(.+)$/.exec(last);
  if (legacyS3) {
    // `s3-us-west-2` carries a region; `s3-external-1` does not.
    const legacyRegion = legacyS3[1] !== undefined && isRegion(legacyS3[1]) ? legacyS3[1] : undefined;
    return { service: resolveService('s3'), endpointPrefix: 's3', region: region ?? legacyRegion };
  }
  return { service: undefined, endpointPrefix: last, region };
}
