/**
 * Amazon Kinesis Data Streams. Streams are named (`StreamName`) or given by ARN (`StreamARN`):
 * OpenTelemetry records `aws.kinesis.stream.name` (JS), `aws.kinesis.stream_name` (Python, Java)
 * or `aws.kinesis.stream.arn` (ADOT), the X-Ray SDKs nothing.
 */
import { parseArn } from '../arn.js';
import { str } from '../params.js';
import { buildArn } from '../resources.js';
import type { Candidate, IamCall, Scope, ServiceHandler, Step } from '../types.js';

const STREAM_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** Kinesis handler: see the file comment. */
export const kinesis: ServiceHandler = {
  prefix: 'kinesis',
  operations: {},
  preferredTypes: ['stream'],
  resources(call: IamCall, _step: Step, types: readonly string[], scope: Scope): Candidate[] {
    if (!types.includes('stream')) return [];
    const arn = str(call.params, 'aws.kinesis.stream.arn');
    const parsed = arn !== undefined ? parseArn(arn) : undefined;
    if (arn && parsed?.service === 'kinesis' && /^stream\/[^/]+$/.test(parsed.resource))
      return [{ type: 'stream', arn, unknown: false }];
    const name = str(
      call.params,
      'aws.kinesis.stream.name',
      'aws.kinesis.stream_name',
      'aws.stream.name',
      'stream_name',
    );
    if (name === undefined || !STREAM_NAME.test(name)) return [];
    const c = buildArn('kinesis', 'stream', { StreamName: name }, scope);
    return c ? [c] : [];
  },
};
