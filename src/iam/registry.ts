/**
 * The one table of per-service handlers. Services not listed here still map through the
 * default `prefix:Operation` lookup in `map.ts`; a handler is only needed where names differ or
 * resources need parsing. Nothing imports from this file except `map.ts`.
 */
import { bedrock } from './services/bedrock.js';
import { dynamodb } from './services/dynamodb.js';
import { kinesis } from './services/kinesis.js';
import { lambda } from './services/lambda.js';
import { s3 } from './services/s3.js';
import { sagemaker } from './services/sagemaker.js';
import { sns } from './services/sns.js';
import { sqs } from './services/sqs.js';
import { sts } from './services/sts.js';
import type { OperationRule, ServiceHandler } from './types.js';

/** Every handler, one per service that needs special handling. */
export const HANDLERS: readonly ServiceHandler[] = [
  s3,
  dynamodb,
  sqs,
  sns,
  lambda,
  sagemaker,
  sts,
  kinesis,
  bedrock,
];

/** Operation names compare without case, `_`, `-` or spaces: `list_objects_v2` = `ListObjectsV2`. */
export function operationKey(operation: string): string {
  return operation.replace(/[\s_-]/g, '').toLowerCase();
}

interface Entry {
  readonly handler: ServiceHandler;
  readonly operations: ReadonlyMap<string, OperationRule>;
}

const BY_PREFIX = new Map<string, Entry[]>();
for (const handler of HANDLERS) {
  const operations = new Map<string, OperationRule>();
  for (const [op, rule] of Object.entries(handler.operations)) {
    const key = operationKey(op);
    if (operations.has(key)) throw new Error(`duplicate operation ${handler.prefix}:${op}`);
    operations.set(key, rule);
  }
  const list = BY_PREFIX.get(handler.prefix) ?? [];
  list.push({ handler, operations });
  BY_PREFIX.set(handler.prefix, list);
}

/** The handler serving a resolved service (prefix + display name), if any. */
export function handlerFor(prefix: string, display: string): Entry | undefined {
  return BY_PREFIX.get(prefix)?.find((e) => !e.handler.displays || e.handler.displays.includes(display));
}
