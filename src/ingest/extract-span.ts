/**
 * From one OpenTelemetry span to the facts we store, in the same shape as an X-Ray document
 * (extract.ts): the workload, and the AWS call the span records. Pure: no I/O, no database.
 *
 * An AWS call is a span with `rpc.system` (or `rpc.system.name`) `aws-api`, or an Application
 * Signals `aws.remote.service` of `AWS::…`. Every instrumentation spells the service, the
 * operation and the resource its own way (docs/otel-format.md); they are brought here to the
 * parameters the IAM mapping reads (src/iam), so that nothing after this knows where a call came from.
 */
import { resolveService } from '../iam/service-names.js';
import type { Outcome } from '../shared/outcome.js';
import { str } from '../shared/values.js';
import { BoundedTable, type TableLimits } from '../shared/bounded.js';
import { partitionOf } from '../iam/arn.js';
import type { CallRow, ExtractedDoc } from './extract.js';
import { identifierFacts } from './extract.js';
import { otelAccount, otelParams, otelRegion } from './attributes.js';
import { classify, parseDenied, type ExceptionInfo } from './outcome.js';
import type { Span } from './spans.js';
import {
  RESOURCE_WORKLOAD_KEYS,
  SPAN_WORKLOAD_KEYS,
  seenIn,
  workloadOfResource,
  type Workload,
} from './workloads.js';

/** What one span contributes: a document in the X-Ray sense, and whether to keep it as a row. */
export interface ExtractedSpan extends ExtractedDoc {
  /**
   * For a Lambda function whose account the span does not carry: the workload it falls back to
   * when no parent span in the trace knows the function better.
   */
  fallback: Workload | undefined;
  /**
   * Kept as a row: a span of a Lambda function that waits for its workload, or may be the parent
   * of one that does (its children look it up). Other spans need no row: their resource says who
   * they are, and a call's span has no children that matter (the SDK's own HTTP request).
   */
  keep: boolean;
  /**
   * The event source that invoked the span's Lambda function, as an ARN (the SQS queue of a
   * CONSUMER `process` span): stored on the function's workload as a `triggers` entry.
   */
  trigger?: string;
}

/** True when the span records an AWS API call. */
export function isAwsCall(span: Span): boolean {
  if (span.kind === 'SERVER') return false;
  const a = span.attributes;
  if (a['rpc.system'] === 'aws-api' || a['rpc.system.name'] === 'aws-api') return true;
  const remote = a['aws.remote.service'];
  return typeof remote === 'string' && /^AWS::/i.test(remote);
}

/**
 * Workloads by the values of the attributes that decide them: flat records each bring their own
 * resource object, but a function's spans agree on those values. One object per workload, which
 * wire.ts then numbers once. Bounded: cleared past {@link MAX_CACHED} (entries or bytes of keys).
 */
export const MAX_CACHED: TableLimits = { entries: 10_000, bytes: 2 * 1024 * 1024 };
const cache = new BoundedTable<{ workload: Workload; complete: boolean }>(MAX_CACHED);

function workloadOf(span: Span): { workload: Workload; complete: boolean } {
  // The values present, each after its name and length: unambiguous whatever they hold, and
  // cheap (this runs for every span).
  let key = '';
  for (const k of RESOURCE_WORKLOAD_KEYS) key += part(k, span.resource[k]);
  key += '|';
  for (const k of SPAN_WORKLOAD_KEYS) key += part(k, span.attributes[k]);
  const known = cache.get(key);
  if (known) return known;
  const found = workloadOfResource(span.resource, span.attributes);
  const out = { workload: seenIn(found.workload, 'opentelemetry'), complete: found.complete };
  if (cache.full) cache.clear();
  cache.set(key, out);
  return out;
}

function part(k: string, v: unknown): string {
  if (v === undefined) return '';
  const text = typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
  return `${k}${typeof v === 'string' ? '=' : '~'}${text.length}:${text}`;
}

/**
 * The queue that triggered a Lambda function, from the CONSUMER span the Lambda instrumentation
 * starts for an SQS event (`faas.trigger` `pubsub`, `messaging.system` `aws_sqs`, the queue URL
 * it rebuilds from the event's `eventSourceARN`). No other trigger is recorded by it (its
 * `_startEventSourceSpans` handles SQS only): docs/runtime-needs.md.
 */
export function triggerOf(span: Span): string | undefined {
  const a = span.attributes;
  if (span.kind !== 'CONSUMER' || a['messaging.system'] !== 'aws_sqs' || a['faas.trigger'] !== 'pubsub')
    return undefined;
  const url = str(a['aws.sqs.queue.url']);
  const m = url
    ? /^https:\/\/sqs\.([a-z0-9-]+)\.[a-z0-9.-]+\/(\d{12})\/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/.exec(url)
    : null;
  if (!m) return undefined;
  const [, region, account, queue] = m as unknown as [string, string, string, string];
  return `arn:${partitionOf(region)}:sqs:${region}:${account}:${queue}`;
}

/** The workload with one more trigger among its attributes. */
function triggered(workload: Workload, trigger: string | undefined): Workload {
  return trigger ? { ...workload, attrs: { ...workload.attrs, trigger } } : workload;
}

/** The span with its workload's trigger recorded (a child span named it). */
export function withTrigger(ex: ExtractedSpan, trigger: string): ExtractedSpan {
  return ex.workload ? { ...ex, workload: triggered(ex.workload, trigger) } : ex;
}

/** Extracts one span. */
export function extractSpan(span: Span): ExtractedSpan {
  const { workload, complete } = workloadOf(span);
  const lambda = workload.kind === 'lambda';
  const call = isAwsCall(span) ? callOfSpan(span, workload) : undefined;
  const trigger = lambda ? triggerOf(span) : undefined;
  return {
    traceId: span.traceId,
    id: span.spanId,
    // A span whose workload is not known yet waits for its parents, as an independent X-Ray
    // subsegment does.
    type: complete ? 'segment' : 'subsegment',
    parentId: span.parentSpanId,
    name: span.name.slice(0, 2048),
    origin: null,
    startTime: span.start,
    endTime: span.end,
    inProgress: false,
    workload: complete ? triggered(workload, trigger) : undefined,
    calls: call ? [call] : [],
    nodeIds: [],
    fallback: complete ? undefined : workload,
    keep: lambda && (!complete || !call),
    ...(trigger ? { trigger } : {}),
  };
}

/** A string attribute. */
function attr(span: Span, key: string): string | null {
  return str(span.attributes[key]);
}

/** The service, as the SDK or Application Signals names it. */
function serviceOf(span: Span): { name: string; prefix: string } {
  const named =
    attr(span, 'rpc.service') ??
    (/^[^\s.]+\.[A-Za-z]/.test(span.name) ? span.name.slice(0, span.name.indexOf('.')) : null) ??
    attr(span, 'aws.remote.service') ??
    attr(span, 'aws.service') ??
    '';
  return {
    name: named,
    prefix: resolveService(named)?.prefix ?? resolveService(attr(span, 'aws.remote.service'))?.prefix ?? '',
  };
}

/** The operation: `rpc.method`, else the span name `Service.Operation`, else Application Signals'. */
function operationOf(span: Span): string | null {
  const method = attr(span, 'rpc.method');
  if (method) return method;
  const m = /^[^\s.]+\.([A-Za-z][A-Za-z0-9]*)$/.exec(span.name);
  if (m) return m[1] as string;
  return attr(span, 'aws.remote.operation') ?? attr(span, 'aws.operation');
}

/** The exception the span recorded: an `exception` event, else the status message and `error.type`. */
function exceptionOf(span: Span): ExceptionInfo | undefined {
  for (const e of span.events) {
    if (e.name !== 'exception') continue;
    const type = str(e.attributes['exception.type']);
    const message = str(e.attributes['exception.message']) ?? span.status.message;
    if (type || message) return awsError(type, message);
  }
  const type = attr(span, 'error.type');
  if (span.status.message || type) return awsError(type, span.status.message);
  return undefined;
}

/**
 * The error as AWS named it. Python's botocore raises one `ClientError` for every AWS error and
 * says which in its message: "An error occurred (ThrottlingException) when calling the …".
 */
function awsError(type: string | null, message: string | null): ExceptionInfo {
  const code =
    type && /ClientError$/.test(type) ? /An error occurred \(([A-Za-z0-9.]+)\)/.exec(message ?? '') : null;
  return { type: (code?.[1] ?? type)?.slice(0, 200) ?? null, message: message?.slice(0, 4000) ?? null };
}

function statusOf(span: Span): number | null {
  for (const k of ['http.response.status_code', 'http.status_code']) {
    const v = span.attributes[k];
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    if (Number.isInteger(n) && n >= 100 && n < 600) return n;
  }
  return null;
}

function callOfSpan(span: Span, workload: Workload): CallRow {
  const { name, prefix } = serviceOf(span);
  const params = otelParams(span.attributes, prefix);
  const ids = identifierFacts(params);
  const exception = exceptionOf(span);
  const denied = parseDenied(exception?.message ?? null) ?? parseDenied(span.status.message);
  const status = statusOf(span);
  const outcome: Outcome = classify({
    status,
    exception,
    denied: denied !== null,
    error: span.status.code === 'ERROR',
  });
  return {
    subId: span.spanId,
    startTime: span.start,
    endTime: span.end,
    service: prefix,
    serviceName: name,
    operation: operationOf(span),
    region: otelRegion(span.attributes) ?? ids.region ?? workload.region,
    account: otelAccount(span.attributes) ?? ids.account ?? workload.account,
    httpStatus: status,
    outcome,
    errorType: exception?.type ?? null,
    deniedAction: denied?.action ?? null,
    deniedResource: denied?.resource ?? null,
    params,
    via: 'sdk',
  };
}

/**
 * The span, once a parent span in its trace has named its workload (a Lambda function's SERVER
 * span, which carries the account): as if its own resource had. Its calls take the workload's
 * account and region where they recorded none, as calls of a known workload do (callOfSpan).
 */
export function withWorkload(ex: ExtractedSpan, workload: Workload): ExtractedSpan {
  return {
    ...ex,
    type: 'segment',
    workload: triggered(workload, ex.trigger),
    fallback: undefined,
    keep: ex.calls.length === 0,
    calls: ex.calls.map((c) => ({
      ...c,
      account: c.account ?? workload.account,
      region: c.region ?? workload.region,
    })),
  };
}
