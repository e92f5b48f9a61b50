/**
 * Amazon SNS. `PublishBatch` is authorised by `sns:Publish`. Topics are recorded as full ARNs
 * and used as recorded: we never rebuild an ARN from an ARN.
 */
import { parseArn } from '../arn.js';
import { str } from '../params.js';
import { needs } from './rules.js';
import type { Candidate, IamCall, OperationRule, ServiceHandler, Step } from '../types.js';

const OPERATIONS: Record<string, OperationRule> = {
  PublishBatch: needs('sns:Publish'),
};

/** SNS handler: see the file comment. */
export const sns: ServiceHandler = {
  prefix: 'sns',
  operations: OPERATIONS,
  resources(call: IamCall, _step: Step, types: readonly string[]): Candidate[] {
    if (!types.includes('topic')) return [];
    const arn = str(call.params, 'topic_arn', 'aws.sns.topic.arn', 'target_arn');
    const parsed = arn !== undefined ? parseArn(arn) : undefined;
    // Only a topic ARN (`arn:aws:sns:r:a:name`); a platform endpoint target is not a topic.
    if (!arn || !parsed || parsed.service !== 'sns' || parsed.resource.includes('/')) return [];
    return [{ type: 'topic', arn, unknown: false }];
  },
};
