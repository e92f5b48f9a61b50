/**
 * CloudTrail events → the IAM permissions they needed, through the same mapping core as traces
 * (`map.ts`), so one operation gives one answer whichever source recorded it.
 *
 * CloudTrail names a call by `eventSource` (`s3.amazonaws.com`) and `eventName` (`ListObjects`,
 * `GetFunction20150331v2`). Both are turned into the core's (service, operation); where
 * CloudTrail's spelling differs from every SDK's, or the event needs no permission, the one
 * table below says so, each row with its source. Resources come from `resources[].ARN` and from
 * the per-service `requestParameters` table, partition, account and region from the record.
 * Pure: no I/O.
 */
import { isAccountId, isRegion, parseArn, partitionOf } from './arn.js';
import { serviceExists } from './catalogue.js';
import { mapCall } from './map.js';
import { resolveService } from './service-names.js';
import type { IamCall, MappingResult } from './types.js';

/** How one CloudTrail (eventSource, eventName) is mapped, when not by the default rule. */
export type EventRule =
  /** The core's operation to map (an SDK spelling); `expect` is what the core must answer. */
  | { readonly kind: 'operation'; readonly operation: string; readonly expect: readonly string[] }
  /** No IAM permission authorises the event (anyone with credentials may make it). */
  | { readonly kind: 'no-permission'; readonly reason: string };

/** One row of the CloudTrail name table: the mismatch and where the fact comes from. */
export interface EventRow {
  readonly eventSource: string;
  readonly eventName: string;
  readonly rule: EventRule;
  /** The public document that states the mapping. */
  readonly source: string;
}

const S3_API = 'https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html (Permissions)';
const S3_CT =
  'https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html (S3 CloudTrail event names)';
const S3_PERMS =
  'https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html (operations to permissions)';
const LAMBDA_CT =
  'https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html (versioned event names)';
const STS_GCI = 'https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html';
const STS_FED =
  'https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html (no AWS credentials needed)';
const SIGNIN =
  'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html';
const CW_CT =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/logging_cw_api_calls.html (eventSource monitoring.amazonaws.com)';

const op = (operation: string, ...expect: string[]): EventRule => ({ kind: 'operation', operation, expect });
const none = (reason: string): EventRule => ({ kind: 'no-permission', reason });

/**
 * Every known mismatch between CloudTrail's event names and IAM actions. Rows whose rule is an
 * operation go through the mapping core; the test proves that the core answers `expect` and that
 * every action exists in the Service Authorization Reference.
 */
export const EVENT_TABLE: readonly EventRow[] = [
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'ListObjects',
    rule: op('ListObjects', 's3:ListBucket'),
    source: S3_API,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'ListObjectsV2',
    rule: op('ListObjectsV2', 's3:ListBucket'),
    source: S3_API,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'ListObjectVersions',
    rule: op('ListObjectVersions', 's3:ListBucketVersions'),
    source: S3_PERMS,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'ListBuckets',
    rule: op('ListBuckets', 's3:ListAllMyBuckets'),
    source: S3_PERMS,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'HeadObject',
    rule: op('HeadObject', 's3:GetObject'),
    source: S3_PERMS,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'HeadBucket',
    rule: op('HeadBucket', 's3:ListBucket'),
    source: S3_PERMS,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'CreateMultipartUpload',
    rule: op('CreateMultipartUpload', 's3:PutObject'),
    source: S3_PERMS,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'UploadPart',
    rule: op('UploadPart', 's3:PutObject'),
    source: S3_PERMS,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'CompleteMultipartUpload',
    rule: op('CompleteMultipartUpload', 's3:PutObject'),
    source: S3_PERMS,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'GetBucketEncryption',
    rule: op('GetEncryptionConfiguration', 's3:GetEncryptionConfiguration'),
    source: S3_CT,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'PutBucketEncryption',
    rule: op('PutEncryptionConfiguration', 's3:PutEncryptionConfiguration'),
    source: S3_CT,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'GetBucketLifecycle',
    rule: op('GetLifecycleConfiguration', 's3:GetLifecycleConfiguration'),
    source: S3_CT,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'PutBucketLifecycle',
    rule: op('PutLifecycleConfiguration', 's3:PutLifecycleConfiguration'),
    source: S3_CT,
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'GetBucketReplication',
    rule: op('GetReplicationConfiguration', 's3:GetReplicationConfiguration'),
    source: S3_CT,
  },
  {
    eventSource: 'lambda.amazonaws.com',
    eventName: 'Invoke',
    rule: op('Invoke', 'lambda:InvokeFunction'),
    source: LAMBDA_CT,
  },
  {
    eventSource: 'lambda.amazonaws.com',
    eventName: 'GetFunction20150331v2',
    rule: op('GetFunction', 'lambda:GetFunction'),
    source: LAMBDA_CT,
  },
  {
    eventSource: 'lambda.amazonaws.com',
    eventName: 'ListFunctions20150331',
    rule: op('ListFunctions', 'lambda:ListFunctions'),
    source: LAMBDA_CT,
  },
  {
    eventSource: 'lambda.amazonaws.com',
    eventName: 'UpdateFunctionConfiguration20150331v2',
    rule: op('UpdateFunctionConfiguration', 'lambda:UpdateFunctionConfiguration'),
    source: LAMBDA_CT,
  },
  {
    eventSource: 'lambda.amazonaws.com',
    eventName: 'UpdateFunctionCode20150331v2',
    rule: op('UpdateFunctionCode', 'lambda:UpdateFunctionCode'),
    source: LAMBDA_CT,
  },
  {
    eventSource: 'monitoring.amazonaws.com',
    eventName: 'PutMetricData',
    rule: op('PutMetricData', 'cloudwatch:PutMetricData'),
    source: CW_CT,
  },
  {
    eventSource: 'streams.dynamodb.amazonaws.com',
    eventName: 'GetRecords',
    rule: op('GetRecords', 'dynamodb:GetRecords'),
    source:
      'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/logging-using-cloudtrail.html (DynamoDB Streams data events)',
  },
  {
    eventSource: 'streams.dynamodb.amazonaws.com',
    eventName: 'GetShardIterator',
    rule: op('GetShardIterator', 'dynamodb:GetShardIterator'),
    source:
      'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/logging-using-cloudtrail.html (DynamoDB Streams data events)',
  },
  {
    eventSource: 'sts.amazonaws.com',
    eventName: 'GetCallerIdentity',
    rule: none('sts:GetCallerIdentity needs no permission and cannot be denied'),
    source: STS_GCI,
  },
  {
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRoleWithWebIdentity',
    rule: none('AssumeRoleWithWebIdentity is authorised by the role trust policy, not by the caller'),
    source: STS_FED,
  },
  {
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRoleWithSAML',
    rule: none('AssumeRoleWithSAML is authorised by the role trust policy, not by the caller'),
    source: STS_FED,
  },
  {
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    rule: none('a console sign-in is not an IAM action'),
    source: SIGNIN,
  },
  {
    eventSource: 'signin.amazonaws.com',
    eventName: 'SwitchRole',
    rule: none('a console role switch is not an IAM action'),
    source: SIGNIN,
  },
  {
    eventSource: 'signin.amazonaws.com',
    eventName: 'ExitRole',
    rule: none('a console role switch is not an IAM action'),
    source: SIGNIN,
  },
];

/**
 * eventSource hosts whose first label is not the IAM prefix nor an SDK spelling the core knows
 * (the rest are read as `<prefix>.amazonaws.com`).
 */
export const EVENT_SOURCES: Readonly<Record<string, { service: string; source: string }>> = {
  'monitoring.amazonaws.com': { service: 'cloudwatch', source: CW_CT },
  'streams.dynamodb.amazonaws.com': { service: 'dynamodb', source: 'DynamoDB Streams eventSource' },
  'rdsdata.amazonaws.com': {
    service: 'rds-data',
    source:
      'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/logging-using-cloudtrail-data-api.html',
  },
  'email.amazonaws.com': {
    service: 'ses',
    source: 'https://docs.aws.amazon.com/ses/latest/dg/logging-using-cloudtrail.html',
  },
  'api.ecr.amazonaws.com': { service: 'ecr', source: 'ECR endpoint host' },
};

const BY_NAME = new Map<string, EventRow>();
for (const row of EVENT_TABLE) BY_NAME.set(`${row.eventSource}\u0000${row.eventName}`, row);

/**
 * The operation under a versioned event name: Lambda's `GetFunction20150331v2`,
 * CloudFront's `GetDistribution2020_05_31`. Undefined when the name carries no version.
 */
export function unversioned(eventName: string): string | undefined {
  const m = /^([A-Za-z]+?)(?:\d{8}(?:v\d+)?|\d{4}_\d{2}_\d{2})$/.exec(eventName);
  return m ? m[1] : undefined;
}

/** The service spelling (for the core) and the IAM prefix of an eventSource, if it is an AWS host. */
export function serviceOfSource(eventSource: string): { service: string; prefix: string } | undefined {
  const host = eventSource.trim().toLowerCase();
  const known = EVENT_SOURCES[host];
  if (known)
    return { service: known.service, prefix: resolveService(known.service)?.prefix ?? known.service };
  const m = /^([a-z0-9.-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host);
  if (!m) return undefined;
  const label = m[1] as string;
  const info = resolveService(label);
  if (info) return { service: label, prefix: info.prefix };
  return serviceExists(label) ? { service: label, prefix: label } : undefined;
}

/** What a CloudTrail record says of one call, as the mapper reads it. */
export interface TrailCall {
  eventSource: string;
  eventName: string;
  region: string | null;
  /** The account whose resources the call used (`recipientAccountId`, else the caller's). */
  account: string | null;
  requestParameters: Record<string, unknown> | null;
  /** `resources[].ARN` of the record. */
  resourceArns: readonly string[];
}

/**
 * The core's (service, operation) for an event, or why there is none. `prefix` is the IAM
 * prefix, given to the core for services it has no spelling table for (CloudFront, ECR…).
 */
export function operationOf(
  eventSource: string,
  eventName: string,
):
  | { kind: 'call'; service: string; prefix: string; operation: string }
  | { kind: 'no-permission'; reason: string }
  | { kind: 'unmapped'; reason: string } {
  const row = BY_NAME.get(`${eventSource}\u0000${eventName}`);
  if (row?.rule.kind === 'no-permission') return { kind: 'no-permission', reason: row.rule.reason };
  const svc = serviceOfSource(eventSource);
  if (!svc) return { kind: 'unmapped', reason: `unknown event source "${eventSource}"` };
  const operation =
    row?.rule.kind === 'operation' ? row.rule.operation : (unversioned(eventName) ?? eventName);
  return { kind: 'call', service: svc.service, prefix: svc.prefix, operation };
}

/** The IAM permissions one CloudTrail event needed, through the trace mapping core. */
export function mapTrailCall(c: TrailCall): MappingResult {
  const o = operationOf(c.eventSource, c.eventName);
  if (o.kind === 'no-permission') return { status: 'no-permission', reason: o.reason };
  if (o.kind === 'unmapped') return { status: 'unmapped', reason: o.reason };
  const call: IamCall = {
    service: o.service,
    prefix: o.prefix,
    operation: o.operation,
    region: c.region,
    account: c.account,
    params: trailParams(o.prefix, c),
  };
  return mapCall(call);
}

type Params = Record<string, unknown>;

const isObj = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;

/**
 * requestParameters → the core's parameter names, per IAM prefix. Services with a handler in
 * `services/` read their own keys (`bucket_name`, `table_name`…); the others get ARNs under keys
 * ending in `arn`, which the core matches against the action's resource types.
 */
const REQUEST_PARAMETERS: Readonly<Record<string, (rp: Params, arn: ArnOf) => Params>> = {
  s3: (rp) => ({ bucket_name: text(rp.bucketName), key: text(rp.key), version_id: text(rp.versionId) }),
  dynamodb: (rp) => ({
    table_name: text(rp.tableName),
    index_name: text(rp.indexName),
    table_names: isObj(rp.requestItems) ? Object.keys(rp.requestItems) : undefined,
  }),
  sqs: (rp) => ({ queue_url: text(rp.queueUrl), queue_name: text(rp.queueName) }),
  sns: (rp) => ({ topic_arn: text(rp.topicArn), target_arn: text(rp.targetArn) }),
  lambda: (rp) => ({ function_name: text(rp.functionName), qualifier: text(rp.qualifier) }),
  kinesis: (rp) => ({ stream_name: text(rp.streamName), 'aws.kinesis.stream.arn': text(rp.streamARN) }),
  secretsmanager: (rp, arn) => {
    const id = text(rp.secretId);
    if (id === undefined) return {};
    // A secret's ARN ends in six random characters: a name matches it as `name-??????` (IAM docs).
    return { 'secret.arn': id.startsWith('arn:') ? id : arn('secretsmanager', `secret:${id}-??????`) };
  },
  ssm: (rp, arn) => {
    const names = [text(rp.name), ...(Array.isArray(rp.names) ? rp.names.map(text) : []), text(rp.path)];
    const out: Params = {};
    names.forEach((n, i) => {
      if (n !== undefined)
        out[`parameter.${i}.arn`] = n.startsWith('arn:')
          ? n
          : arn('ssm', `parameter/${n.replace(/^\//, '')}`);
    });
    return out;
  },
  kms: (rp, arn) => {
    const id = text(rp.keyId);
    if (id === undefined) return {};
    if (id.startsWith('arn:')) return { 'key.arn': id };
    return { 'key.arn': arn('kms', id.startsWith('alias/') ? id : `key/${id}`) };
  },
  logs: (rp, arn) => {
    const group = text(rp.logGroupName);
    if (group === undefined) return {};
    const stream = text(rp.logStreamName);
    return {
      'group.arn': arn('logs', `log-group:${group}`),
      ...(stream !== undefined
        ? { 'stream.arn': arn('logs', `log-group:${group}:log-stream:${stream}`) }
        : {}),
    };
  },
  ecr: (rp, arn) => {
    const repo = text(rp.repositoryName);
    return repo === undefined ? {} : { 'repository.arn': arn('ecr', `repository/${repo}`) };
  },
  ec2: (rp, arn) => {
    const ids = [text(rp.instanceId)];
    const items = isObj(rp.instancesSet) && Array.isArray(rp.instancesSet.items) ? rp.instancesSet.items : [];
    for (const it of items) if (isObj(it)) ids.push(text(it.instanceId));
    const out: Params = {};
    ids.forEach((id, i) => {
      if (id !== undefined) out[`instance.${i}.arn`] = arn('ec2', `instance/${id}`);
    });
    return out;
  },
  states: (rp) => ({
    'state_machine.arn': text(rp.stateMachineArn),
    'execution.arn': text(rp.executionArn),
  }),
};

type ArnOf = (service: string, resource: string) => string;

/** The core's parameters of one event: its requestParameters by the table, and `resources[].ARN`. */
function trailParams(prefix: string, c: TrailCall): Params {
  const region = c.region !== null && isRegion(c.region) ? c.region : '*';
  const account = c.account !== null && isAccountId(c.account) ? c.account : '*';
  const arn: ArnOf = (service, resource) =>
    `arn:${partitionOf(region === '*' ? null : region)}:${service}:${region}:${account}:${resource}`;
  const out: Params = {};
  c.resourceArns.forEach((a, i) => {
    if (parseArn(a)) out[`resource.${i}.arn`] = a;
  });
  const rp = c.requestParameters;
  const read = REQUEST_PARAMETERS[prefix];
  if (rp && read) for (const [k, v] of Object.entries(read(rp, arn))) if (v !== undefined) out[k] = v;
  return out;
}

/** The services whose requestParameters are read (for the docs and the tests). */
export const PARAMETER_SERVICES: readonly string[] = Object.keys(REQUEST_PARAMETERS).sort();
