/**
 * Amazon SQS. Batch operations are authorised by the single-message action, and the queue is
 * named by URL (`https://sqs.us-east-1.amazonaws.com/123456789012/name`, legacy
 * `https://queue.amazonaws.com/…` and `https://us-east-1.queue.amazonaws.com/…`), which carries
 * the queue's own account and region.
 */
import { isAccountId, isRegion } from '../arn.js';
import { buildArn, withOverrides } from '../resources.js';
import { str } from '../params.js';
import { needs } from './rules.js';
import type { Candidate, IamCall, OperationRule, Scope, ServiceHandler, Step } from '../types.js';

const OPERATIONS: Record<string, OperationRule> = {
  SendMessageBatch: needs('sqs:SendMessage'),
  DeleteMessageBatch: needs('sqs:DeleteMessage'),
  ChangeMessageVisibilityBatch: needs('sqs:ChangeMessageVisibility'),
};

/** A queue as a URL names it. */
export interface QueueRef {
  name: string;
  account?: string;
  region?: string;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/** Reads a queue URL. Undefined when it is not one. */
export function parseQueueUrl(url: string): QueueRef | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const segments = u.pathname.split('/').filter((s) => s.length > 0);
  if (segments.length !== 2) return undefined;
  const [account, name] = segments as [string, string];
  if (!QUEUE_NAME.test(name)) return undefined;
  const host = u.hostname.toLowerCase();
  let region: string | undefined;
  if (host === 'queue.amazonaws.com')
    region = 'us-east-1'; // the legacy global endpoint is us-east-1
  else {
    for (const label of host.split('.')) if (isRegion(label)) region = label;
  }
  return { name, ...(isAccountId(account) ? { account } : {}), ...(region ? { region } : {}) };
}

/** SQS handler: see the file comment. */
export const sqs: ServiceHandler = {
  prefix: 'sqs',
  operations: OPERATIONS,
  resources(call: IamCall, _step: Step, types: readonly string[], scope: Scope): Candidate[] {
    if (!types.includes('queue')) return [];
    const url = str(
      call.params,
      'queue_url',
      'aws.queue_url',
      'aws.queue.url',
      'aws.sqs.queue.url',
      'messaging.url',
    );
    const ref = url !== undefined ? parseQueueUrl(url) : undefined;
    if (ref) {
      const c = buildArn(
        'sqs',
        'queue',
        { QueueName: ref.name },
        withOverrides(scope, ref.region, ref.account),
      );
      return c ? [c] : [];
    }
    const name = str(call.params, 'queue_name', 'aws.sqs.queue.name', 'aws.queue.name');
    if (name === undefined || !QUEUE_NAME.test(name)) return [];
    const owner = str(call.params, 'queue_owner_aws_account_id');
    const c = buildArn('sqs', 'queue', { QueueName: name }, withOverrides(scope, undefined, owner));
    return c ? [c] : [];
  },
};
