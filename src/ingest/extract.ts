/**
 * From one segment document to the facts we store: which workload it belongs to, and every AWS
 * call made inside it. Pure: no I/O, no database.
 *
 * Rules (see docs/xray-format.md): AWS calls are nodes with `namespace: "aws"` at
 * any depth; children of a call (Go SDK's marshal/attempt/…) are not calls; inferred segments
 * describe a call that the caller's subsegment already records; plain-HTTP (`remote`)
 * subsegments to an AWS endpoint are calls whose operation is unknown.
 */
import { isAccountId, isRegion, parseArn } from '../iam/arn.js';
import { resolveService, serviceFromHost, type ServiceInfo } from '../iam/service-names.js';
import type { CallVia, Outcome } from '../shared/outcome.js';
import { asObject as obj, num, str, strList } from '../shared/values.js';
import { classify, firstException, parseDenied } from './outcome.js';
import type { SegmentDoc } from './shapes.js';
import type { DocFields } from '../store/write/index.js';
import { seenIn, workloadOf, type Workload } from './workloads.js';
import { otelAccount, otelAttributesOfNode, otelParams, otelRegion } from './attributes.js';

export type { Workload } from './workloads.js';
export type { CallVia, Outcome } from '../shared/outcome.js';

/** Recorded resource parameters, snake_case as the X-Ray SDKs record them. */
export type CallParams = Record<string, string | string[]>;

/** One AWS call as stored. */
export interface CallRow {
  /** Id of the calling subsegment (for an inferred segment: its `parent_id`). */
  subId: string;
  startTime: number;
  endTime: number | null;
  /** IAM prefix, or '' when the service could not be identified. */
  service: string;
  /** The service name as recorded. */
  serviceName: string;
  operation: string | null;
  region: string | null;
  account: string | null;
  httpStatus: number | null;
  outcome: Outcome;
  errorType: string | null;
  deniedAction: string | null;
  deniedResource: string | null;
  params: CallParams | null;
  via: CallVia;
}

/** A problem found in the data: not fatal, counted and reported. */
export interface DataProblem {
  path: string;
  message: string;
}

/** What one document contributes: the fields the writer stores (DocFields), its workload and calls. */
export interface ExtractedDoc extends DocFields {
  /** The workload, for segments that are one (never for inferred segments or subsegments). */
  workload: Workload | undefined;
  calls: CallRow[];
}

/** Keys of `aws` we keep as resource parameters. */
const PARAM_KEYS = [
  'table_name',
  'table_names',
  'index_name',
  'bucket_name',
  'bucket',
  'key',
  'copy_source',
  'source_bucket_name',
  'source_key',
  'destination_bucket_name',
  'destination_key',
  'version_id',
  'prefix',
  'queue_url',
  'queue_name',
  'queue_owner_aws_account_id',
  'topic_arn',
  'target_arn',
  'function_name',
  'qualifier',
  'endpoint_name',
  'resource_names',
  'state_machine_arn',
  'secret_id',
  'stream_name',
] as const;

/** Options for {@link extractDoc}. */
export interface ExtractOptions {
  /** The trace the document came in, when it came inside a Trace object. */
  traceId?: string;
  /** Describes the document's position for problem reports. */
  where: string;
}

/**
 * Extracts one segment document. Returns undefined (and adds a problem) for a document that
 * lacks the identity needed to store it exactly once (`id`, `trace_id`).
 */
export function extractDoc(
  doc: SegmentDoc,
  options: ExtractOptions,
  problems: DataProblem[],
): ExtractedDoc | undefined {
  const id = str(doc.id);
  const traceId = str(doc.trace_id) ?? options.traceId ?? null;
  if (id === null) {
    problems.push({ path: options.where, message: 'segment document has no id; skipped' });
    return undefined;
  }
  if (traceId === null) {
    problems.push({ path: options.where, message: `segment ${id} has no trace_id; skipped` });
    return undefined;
  }
  const inferred = doc.inferred === true;
  const type: ExtractedDoc['type'] = inferred
    ? 'inferred'
    : doc.type === 'subsegment'
      ? 'subsegment'
      : 'segment';
  const name = str(doc.name) ?? '';
  const origin = str(doc.origin);
  const startTime = num(doc.start_time);
  const out: ExtractedDoc = {
    traceId,
    id,
    type,
    parentId: str(doc.parent_id),
    name,
    origin,
    startTime,
    endTime: num(doc.end_time),
    inProgress: doc.in_progress === true,
    workload: type === 'segment' ? seenIn(workloadOf(doc), 'x-ray') : undefined,
    calls: [],
    nodeIds: [],
  };
  const fallback = { region: out.workload?.region ?? null, account: out.workload?.account ?? null };
  if (inferred) {
    // The inferred segment stands for its caller's call: key it by the caller's id.
    const call = callFromNode(doc, out.parentId ?? id, startTime ?? 0, 'inferred', fallback);
    if (call) out.calls.push(call);
    return out;
  }
  if (type === 'subsegment') {
    const own = nodeCall(doc, startTime ?? 0, fallback);
    if (own) out.calls.push(own);
    else out.nodeIds.push(id);
    if (own?.via === 'sdk') return out; // children of a call are its internals
  }
  walk(doc, startTime ?? 0, fallback, out, options.where, problems);
  return out;
}

/** Depth-first over `subsegments`, iteratively: a crafted document may nest very deep. */
function walk(
  root: SegmentDoc,
  rootStart: number,
  fallback: { region: string | null; account: string | null },
  out: ExtractedDoc,
  where: string,
  problems: DataProblem[],
): void {
  const stack: { node: Record<string, unknown>; start: number }[] = [];
  const pushChildren = (node: Record<string, unknown>, start: number): void => {
    const subs = node.subsegments;
    if (!Array.isArray(subs)) return;
    for (let i = subs.length - 1; i >= 0; i--) {
      const child = obj(subs[i]);
      if (child) stack.push({ node: child, start });
    }
  };
  pushChildren(root, rootStart);
  while (stack.length > 0) {
    const { node, start: parentStart } = stack.pop()!;
    const start = num(node.start_time) ?? parentStart;
    const subId = str(node.id);
    if (subId === null) {
      if (node.namespace === 'aws')
        problems.push({ path: where, message: 'AWS call subsegment without id; skipped' });
      pushChildren(node, start);
      continue;
    }
    const call = nodeCall(node, start, fallback);
    if (call) {
      out.calls.push(call);
      // Go's SDK nests marshal/attempt/… inside the call; a call inside a call (rare) is still a call.
      if (call.via === 'sdk') {
        pushCallsOnly(node, start, stack);
        continue;
      }
    } else {
      out.nodeIds.push(subId);
    }
    pushChildren(node, start);
  }
}

/** Under an SDK call, only nested `aws` nodes are walked (they are calls of their own). */
function pushCallsOnly(
  node: Record<string, unknown>,
  start: number,
  stack: { node: Record<string, unknown>; start: number }[],
): void {
  const inner: Record<string, unknown>[] = [node];
  while (inner.length > 0) {
    const n = inner.pop()!;
    const subs = n.subsegments;
    if (!Array.isArray(subs)) continue;
    for (const s of subs) {
      const child = obj(s);
      if (!child) continue;
      if (child.namespace === 'aws') stack.push({ node: child, start });
      else inner.push(child);
    }
  }
}

function nodeCall(
  node: Record<string, unknown>,
  start: number,
  fallback: { region: string | null; account: string | null },
): CallRow | undefined {
  const id = str(node.id);
  if (id === null) return undefined;
  if (node.namespace === 'aws') return callFromNode(node, id, start, 'sdk', fallback);
  // A remote subsegment to an AWS API endpoint is a call made by an uninstrumented client.
  // Database connections (`sql`: RDS, Redshift…) reach a data endpoint, not an IAM-authorised API.
  if (node.namespace === 'remote' && node.sql === undefined) {
    const host = hostOf(node);
    if (host && serviceFromHost(host)?.service) return callFromNode(node, id, start, 'remote', fallback);
  }
  return undefined;
}

function hostOf(node: Record<string, unknown>): string | null {
  const url = str(obj(obj(node.http)?.request)?.url);
  if (url) {
    try {
      return new URL(url).hostname;
    } catch {
      return null;
    }
  }
  const name = str(node.name);
  return name && name.includes('amazonaws.com') ? name : null;
}

function callFromNode(
  node: Record<string, unknown>,
  subId: string,
  start: number,
  via: CallVia,
  fallback: { region: string | null; account: string | null },
): CallRow | undefined {
  const aws = obj(node.aws) ?? {};
  const name = str(node.name) ?? '';
  const host = hostOf(node);
  const hostInfo = serviceFromHost(host);
  const service =
    (via === 'inferred' ? resolveCached(str(node.origin)) : undefined) ??
    resolveCached(name) ??
    resolveCached(str(node.origin)) ??
    hostInfo?.service;
  // OTel-instrumented code rendered as X-Ray segments carries its span attributes too.
  const otel = otelAttributesOfNode(node);
  const params = mergeParams(extractParams(aws), otel ? otelParams(otel, service?.prefix ?? '') : null);
  const idFacts = identifierFacts(params);
  const status = num(obj(obj(node.http)?.response)?.status);
  const exception = firstException(node.cause);
  const denied = parseDenied(exception?.message ?? null);
  const outcome = classify({
    status,
    exception,
    denied: denied !== null,
    throttle: node.throttle === true,
    fault: node.fault === true,
    error: node.error === true,
  });
  let region = str(aws.region);
  if (region !== null && !isRegion(region)) region = null;
  let account = str(aws.account_id);
  if (account !== null && !isAccountId(account)) account = null;
  return {
    subId,
    startTime: start,
    endTime: num(node.end_time),
    service: service?.prefix ?? '',
    serviceName: name || (hostInfo?.endpointPrefix ?? ''),
    operation: via === 'remote' ? null : str(aws.operation),
    region:
      region ?? hostInfo?.region ?? (otel ? otelRegion(otel) : null) ?? idFacts.region ?? fallback.region,
    account: account ?? (otel ? otelAccount(otel) : null) ?? idFacts.account ?? fallback.account,
    httpStatus: status,
    outcome,
    errorType: exception?.type ?? null,
    deniedAction: denied?.action ?? null,
    deniedResource: denied?.resource ?? null,
    params,
    via,
  };
}

/** The X-Ray SDKs' parameters of the `aws` block (allow-listed request and response fields). */
function extractParams(aws: Record<string, unknown>): CallParams | null {
  // The block's own keys (a handful) are looked up in the allow-list, rather than the 25 names
  // of the list in the block: the result keeps the list's order, as before.
  let found: string[] | undefined;
  for (const k in aws) if (PARAM_INDEX.has(k)) (found ??= []).push(k);
  if (!found) return null;
  if (found.length > 1) found.sort((a, b) => PARAM_INDEX.get(a)! - PARAM_INDEX.get(b)!);
  const params: CallParams = {};
  let any = false;
  for (const k of found) {
    const v = aws[k];
    if (v === undefined) continue;
    const value = k === 'table_names' || k === 'resource_names' ? strList(v) : str(v);
    if (value !== null) {
      params[k] = value;
      any = true;
    }
  }
  return any ? params : null;
}

/** Position of each allow-listed key in {@link PARAM_KEYS}. */
const PARAM_INDEX = new Map<string, number>(PARAM_KEYS.map((k, i) => [k, i]));

/**
 * {@link resolveService}, remembered per name: every call resolves its subsegment's name and
 * origin, and a dump holds a few dozen distinct ones. Cleared past {@link MAX_RESOLVED} names.
 */
function resolveCached(name: string | null): ServiceInfo | undefined {
  if (!name) return undefined;
  if (resolved.has(name)) return resolved.get(name);
  if (resolved.size >= MAX_RESOLVED) resolved.clear();
  const info = resolveService(name);
  resolved.set(name, info);
  return info;
}
const resolved = new Map<string, ServiceInfo | undefined>();
const MAX_RESOLVED = 1024;

function mergeParams(a: CallParams | null, b: CallParams | null): CallParams | null {
  return a && b ? { ...b, ...a } : (a ?? b);
}

/** Account and region read off the resource identifiers themselves (ARNs, queue URLs). */
export function identifierFacts(params: CallParams | null): {
  account: string | null;
  region: string | null;
} {
  if (!params) return { account: null, region: null };
  for (const v of Object.values(params)) {
    for (const s of Array.isArray(v) ? v : [v]) {
      const arn = parseArn(s);
      if (arn && (arn.account || arn.region)) {
        return {
          account: isAccountId(arn.account) ? arn.account : null,
          region: isRegion(arn.region) ? arn.region : null,
        };
      }
    }
  }
  const q = params.queue_url;
  if (typeof q === 'string') {
    const m = /^https?:\/\/([^/]+)\/(\d{12})\//.exec(q);
    if (m) return { account: m[2] ?? null, region: serviceFromHost(m[1])?.region ?? null };
  }
  return { account: null, region: null };
}
