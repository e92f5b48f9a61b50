/**
 * Event-source mappings: Lambda's pollers read the source with the function's execution role, so
 * the role needs the reading actions on the source. One row per kind of source, as the Lambda
 * developer guide lists them and the matching AWS managed policy grants them.
 */
import { parseArn } from '../iam/arn.js';
import { SOURCES } from './sources.js';
import type { NeedOrigin, RuntimeNeed } from './types.js';

/** The kinds of event source Lambda polls with the function's role. */
export type EventSourceKind = 'sqs' | 'kinesis' | 'dynamodb-streams' | 'msk' | 'mq';

/** Where an action of a rule is granted: the source's ARN, a pattern under it, or `*`. */
type Target = 'source' | 'consumers' | 'any';

/** One kind of event source: the actions its poller needs and where AWS says so. */
export interface EventSourceRule {
  kind: EventSourceKind;
  /** What a reviewer reads in the reason. */
  label: string;
  actions: readonly { action: string; on: Target }[];
  source: string;
}

/** The network-interface actions of a poller that reaches into a VPC (MSK, Amazon MQ). */
const POLLER_NETWORK = [
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
].map((action) => ({ action, on: 'any' as const }));

/** The table: per kind, the actions on the source (and the few that only take `*`). */
export const EVENT_SOURCE_RULES: Readonly<Record<EventSourceKind, EventSourceRule>> = {
  // with-sqs.html, "Execution role permissions"; AWSLambdaSQSQueueExecutionRole.
  sqs: {
    kind: 'sqs',
    label: 'SQS queue',
    actions: [
      { action: 'sqs:DeleteMessage', on: 'source' },
      { action: 'sqs:GetQueueAttributes', on: 'source' },
      { action: 'sqs:ReceiveMessage', on: 'source' },
    ],
    source: SOURCES.sqsTrigger,
  },
  // with-kinesis.html; AWSLambdaKinesisExecutionRole. SubscribeToShard is authorised on the
  // stream's consumers (enhanced fan-out); ListStreams has no resource type.
  kinesis: {
    kind: 'kinesis',
    label: 'Kinesis stream',
    actions: [
      { action: 'kinesis:DescribeStream', on: 'source' },
      { action: 'kinesis:DescribeStreamSummary', on: 'source' },
      { action: 'kinesis:GetRecords', on: 'source' },
      { action: 'kinesis:GetShardIterator', on: 'source' },
      { action: 'kinesis:ListShards', on: 'source' },
      { action: 'kinesis:ListStreams', on: 'any' },
      { action: 'kinesis:SubscribeToShard', on: 'consumers' },
    ],
    source: SOURCES.kinesisTrigger,
  },
  // with-ddb.html; AWSLambdaDynamoDBExecutionRole. ListStreams has no resource type.
  'dynamodb-streams': {
    kind: 'dynamodb-streams',
    label: 'DynamoDB stream',
    actions: [
      { action: 'dynamodb:DescribeStream', on: 'source' },
      { action: 'dynamodb:GetRecords', on: 'source' },
      { action: 'dynamodb:GetShardIterator', on: 'source' },
      { action: 'dynamodb:ListStreams', on: 'any' },
    ],
    source: SOURCES.dynamodbTrigger,
  },
  // with-msk.html; AWSLambdaMSKExecutionRole. GetBootstrapBrokers has no resource type.
  msk: {
    kind: 'msk',
    label: 'Amazon MSK cluster',
    actions: [
      { action: 'kafka:DescribeCluster', on: 'source' },
      { action: 'kafka:DescribeClusterV2', on: 'source' },
      { action: 'kafka:GetBootstrapBrokers', on: 'any' },
      ...POLLER_NETWORK,
    ],
    source: SOURCES.mskTrigger,
  },
  // with-mq.html, "Execution role permissions" (the broker's credentials secret is named only in
  // the mapping's SourceAccessConfigurations: see the note in needs.ts).
  mq: {
    kind: 'mq',
    label: 'Amazon MQ broker',
    actions: [{ action: 'mq:DescribeBroker', on: 'source' }, ...POLLER_NETWORK],
    source: SOURCES.mqTrigger,
  },
};

/** The kind of event source an ARN names, or undefined when Lambda does not poll it. */
export function eventSourceKind(arn: string): EventSourceKind | undefined {
  const a = parseArn(arn);
  if (!a) return undefined;
  if (a.service === 'sqs') return 'sqs';
  if (a.service === 'kinesis' && a.resource.startsWith('stream/')) return 'kinesis';
  if (a.service === 'dynamodb' && /^table\/[^/]+\/stream\//.test(a.resource)) return 'dynamodb-streams';
  if (a.service === 'kafka' && a.resource.startsWith('cluster/')) return 'msk';
  if (a.service === 'mq' && a.resource.startsWith('broker:')) return 'mq';
  return undefined;
}

/**
 * The needs of one event source: every action of its kind's rule, on the source ARN (or the
 * pattern the action is authorised on). Undefined for an ARN that is no event source.
 */
export function eventSourceNeeds(arn: string, origin: NeedOrigin, seen: string): RuntimeNeed[] | undefined {
  const kind = eventSourceKind(arn);
  if (!kind) return undefined;
  const rule = EVENT_SOURCE_RULES[kind];
  return rule.actions.map(({ action, on }) => ({
    action,
    resource: on === 'source' ? arn : on === 'consumers' ? `${arn}/consumer/*` : '*',
    origin,
    rule: `${kind}-trigger`,
    why: `Lambda polls the ${rule.label} ${arn} with the function's role (${seen})`,
    source: rule.source,
  }));
}
