/**
 * The ARN parts a run-time need is scoped with: the workload's partition, region and account,
 * or `*` where the traces did not record them (said in a note).
 */
import { parseArn, partitionOf } from '../iam/arn.js';
import type { WorkloadFacts } from './types.js';

/** Partition, region and account of a workload's own resources. */
export interface Scope {
  partition: string;
  region: string;
  account: string;
}

/** The scope of `w`'s own resources (`*` for what is unknown). */
export function scopeOf(w: WorkloadFacts): Scope {
  const arn = w.arn ? parseArn(w.arn) : undefined;
  const region = w.region ?? (arn?.region || null);
  const account = w.account ?? (arn?.account || null);
  return {
    partition: arn?.partition ?? partitionOf(region),
    region: region ?? '*',
    account: account ?? '*',
  };
}

/** The IAM service of an ARN (`sqs`, `kinesis`…), or undefined when it is not one. */
export function arnService(arn: string): string | undefined {
  return parseArn(arn)?.service;
}
