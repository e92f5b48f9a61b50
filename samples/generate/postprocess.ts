/**
 * Turns the documents the X-Ray SDK emitted into what `aws xray batch-get-traces` returns.
 *
 * The X-Ray service does not hand back what it was sent (see xray-format.md §1). This module
 * performs, in order, the steps the service (or, for the Lambda and Step Functions segments, the
 * managed service itself) would have performed:
 *  1. merge independent subsegments into their parent (stripping type/trace_id/parent_id);
 *  2. canonicalise AWS subsegment names;
 *  3. replace the SDK's random ids, wall-clock times and machine paths with deterministic ones;
 *  4. wrap Lambda calls in the AWS::Lambda / AWS::Lambda::Function segments the Lambda service emits;
 *  5. add `aws.resource_names` and inferred segments;
 *  6. synthesise the Step Functions segments (no SDK emits them).
 */
import { batchText, documentText, type TraceText } from '../../test/support/aws-cli.js';
import type { RawDoc } from './capture.js';
import { hex } from './common/seed.js';
import type { EcsWorkload, LambdaInvocation, LambdaWorkload, PipelineExecution } from './plan.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Doc = Record<string, any>;

/** Unit of time used for layout: 100 ns. Offsets are relative to a whole-second base. */
const U = 1e7;
const MS = U / 1000;

/** Names the SDKs send → the name the stored document carries. Node v3 already sends the canonical form. */
const CANONICAL_NAMES: Record<string, string> = {
  dynamodb: 'DynamoDB',
  amazondynamodbv2: 'DynamoDB',
  s3: 'S3',
  'amazon s3': 'S3',
  sns: 'SNS',
  sqs: 'SQS',
  lambda: 'Lambda',
};

const REPO_ROOT = process.cwd();

// ---------------------------------------------------------------------------------------------
// 1. merge

/** Group raw documents by trace and fold every independent subsegment into its parent. */
export function mergeByTrace(docs: RawDoc[], syntheticParents: Map<string, Doc>): Map<string, Doc[]> {
  const byTrace = new Map<string, RawDoc[]>();
  for (const d of docs) {
    const list = byTrace.get(d.trace_id) ?? [];
    list.push(d);
    byTrace.set(d.trace_id, list);
  }
  const out = new Map<string, Doc[]>();
  for (const [traceId, list] of byTrace) {
    const index = new Map<string, Doc>(syntheticParents);
    const visit = (n: Doc): void => {
      index.set(n.id as string, n);
      for (const c of (n.subsegments ?? []) as Doc[]) visit(c);
    };
    list.forEach(visit);
    const roots: Doc[] = [];
    for (const d of list) {
      if (d.type !== 'subsegment') {
        roots.push(d);
        continue;
      }
      const parent = index.get(d.parent_id as string);
      if (!parent) throw new Error(`trace ${traceId}: no parent ${String(d.parent_id)} for ${d.name}`);
      const sub: Doc = d;
      delete sub.type;
      delete sub.trace_id;
      delete sub.parent_id;
      (parent.subsegments ??= []).push(sub);
    }
    // Children in call order. Streamed children arrive in close order; sort by start (stable).
    const sortAll = (n: Doc): void => {
      if (n.subsegments) {
        (n.subsegments as Doc[]).sort((a, b) => a.start_time - b.start_time);
        (n.subsegments as Doc[]).forEach(sortAll);
      }
    };
    list.forEach(sortAll);
    syntheticParents.forEach(sortAll);
    out.set(traceId, roots);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 2./3. names, ids, times, paths

function walk(n: Doc, f: (n: Doc, depth: number) => void, depth = 0): void {
  f(n, depth);
  for (const c of (n.subsegments ?? []) as Doc[]) walk(c, f, depth + 1);
}

function canonicalise(n: Doc): void {
  if (n.namespace === 'aws') n.name = CANONICAL_NAMES[String(n.name).toLowerCase()] ?? n.name;
}

/** Replace SDK-generated ids (subsegments, captured exceptions) with seeded ones. */
function renumber(roots: Doc[], traceId: string, keep: Set<string>): void {
  let k = 0;
  const map = new Map<string, string>();
  const next = (old: string): string => {
    if (keep.has(old)) return old;
    let id = map.get(old);
    if (!id) {
      id = hex(`${traceId}:sdk:${k++}`, 16);
      map.set(old, id);
    }
    return id;
  };
  for (const r of roots)
    walk(r, (n) => {
      n.id = next(n.id);
      for (const e of (n.cause?.exceptions ?? []) as Doc[]) e.id = next(e.id);
    });
  for (const r of roots)
    walk(r, (n) => {
      if (typeof n.cause?.id === 'string') n.cause.id = next(n.cause.id);
    });
}

/**
 * Strip the generator's machine from captured exceptions: paths become the deployment directory.
 * Line numbers stay as captured.
 */
function relocate(n: Doc, deployDir: string): void {
  if (!n.cause || typeof n.cause !== 'object') return;
  if (n.cause.working_directory) n.cause.working_directory = deployDir;
  for (const e of (n.cause.exceptions ?? []) as Doc[]) {
    for (const f of (e.stack ?? []) as Doc[]) {
      if (typeof f.path !== 'string') continue;
      f.path = f.path.replace(/^file:\/\//, '');
      f.path = f.path
        // the generator's own handler file stands in for the function's/worker's entry point
        .replace(`${REPO_ROOT}/samples/generate/workloads.ts`, `${deployDir}/index.mjs`)
        .replace(REPO_ROOT, deployDir);
    }
  }
}

/** Seeded latency for a call, in layout units. */
function latency(n: Doc, seed: string): number {
  const r = parseInt(hex(seed, 8), 16) / 0xffffffff;
  const op = `${n.name}.${n.aws?.operation ?? ''}`;
  let [lo, hi] = [3, 20];
  if (n.name === 'S3') [lo, hi] = op.endsWith('GetObject') ? [25, 90] : [12, 60];
  else if (n.name === 'SNS') [lo, hi] = [18, 45];
  else if (n.name === 'SQS') [lo, hi] = [8, 30];
  else if (n.name === 'Lambda') [lo, hi] = [350, 1200];
  else if (n.name === 'STS') [lo, hi] = [9, 25];
  else if (n.name === 'SecretsManager') [lo, hi] = [11, 28];
  else if (n.namespace === 'remote') [lo, hi] = [60, 240];
  let ms = lo + r * (hi - lo);
  // Retried calls: the SDK's exponential backoff between attempts (`retries` counts attempts).
  const attempts = Number(n.aws?.retries ?? 1);
  if (attempts > 1) ms = attempts * ms + (2 ** attempts - 1) * 95;
  return Math.round(ms) * MS;
}

/**
 * Lay out a node and its descendants sequentially from `start` (layout units), as the calls were
 * made. SDK times are rounded to milliseconds (the Node SDK uses Date.now()). Returns the end.
 */
function layout(n: Doc, start: number, seed: string): number {
  const ms = (u: number): number => Math.ceil(u / MS) * MS;
  n.start_time = ms(start);
  const kids = (n.subsegments ?? []) as Doc[];
  let cursor = n.start_time as number;
  if (kids.length === 0) {
    n.end_time = cursor + latency(n, seed);
    return n.end_time;
  }
  kids.forEach((c, i) => {
    const gap = (1 + (parseInt(hex(`${seed}/gap${i}`, 4), 16) % 3)) * MS;
    cursor = layout(c, cursor + gap, `${seed}/${i}`);
  });
  n.end_time = ms(cursor + MS);
  return n.end_time;
}

/** Convert layout offsets to epoch seconds. */
function toSeconds(base: number, roots: Doc[]): void {
  const conv = (v: unknown): unknown => (typeof v === 'number' ? base + v / U : v);
  for (const r of roots)
    walk(r, (n) => {
      n.start_time = conv(n.start_time);
      n.end_time = conv(n.end_time);
    });
}

// ---------------------------------------------------------------------------------------------
// 5. resource names & inferred segments

const DDB_ITEM_OPS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan']);
const S3_OPS = new Set(['GetObject', 'PutObject', 'DeleteObject', 'ListObjects']);

/** Where X-Ray adds `aws.resource_names` (observed set, xray-format.md §1). */
function addResourceNames(n: Doc): void {
  const a = n.aws as Doc | undefined;
  if (n.namespace !== 'aws' || !a) return;
  let names: string[] | undefined;
  if (n.name === 'DynamoDB' && DDB_ITEM_OPS.has(a.operation) && a.table_name) names = [a.table_name];
  if (n.name === 'DynamoDB' && a.operation.startsWith('Batch') && Array.isArray(a.table_names))
    names = a.table_names;
  if (n.name === 'S3' && S3_OPS.has(a.operation) && a.bucket_name) names = [a.bucket_name];
  if (n.name === 'Lambda' && a.operation === 'Invoke' && a.function_name) names = [a.function_name];
  if (n.name === 'SNS' && a.operation === 'Publish' && a.topic_arn) names = [a.topic_arn];
  if (names) a.resource_names = [...names];
}

function inferredOrigin(n: Doc): string | undefined {
  const a = (n.aws ?? {}) as Doc;
  switch (n.name) {
    case 'DynamoDB':
      return a.table_name || a.table_names ? 'AWS::DynamoDB::Table' : 'AWS::DynamoDB';
    case 'S3':
      return a.bucket_name ? 'AWS::S3::Bucket' : 'AWS::S3';
    case 'SNS':
      return 'AWS::SNS';
    case 'Lambda':
      return 'AWS::Lambda';
    default:
      return undefined; // SQS, STS, Secrets Manager, SFN: none observed in the reference dumps
  }
}

/** Inferred segments for every `aws` subsegment whose callee did not send its own segment. */
function inferSegments(roots: Doc[], traceId: string, tracedCallers: Set<string>): Doc[] {
  const out: Doc[] = [];
  for (const r of roots)
    walk(r, (n) => {
      if (n.namespace !== 'aws' || tracedCallers.has(n.id)) return;
      const origin = inferredOrigin(n);
      if (!origin) return;
      const seg: Doc = {
        id: hex(`${traceId}:inferred:${n.id}`, 16), // keyed by the caller: unique within the trace
        name: n.name,
        start_time: n.start_time,
        end_time: n.end_time,
        parent_id: n.id,
        inferred: true,
      };
      if (n.http) seg.http = structuredClone(n.http);
      if (n.aws) seg.aws = structuredClone(n.aws);
      for (const f of ['error', 'fault', 'throttle']) if (n[f]) seg[f] = true;
      seg.trace_id = traceId;
      seg.origin = origin;
      out.push(seg);
    });
  return out;
}

// ---------------------------------------------------------------------------------------------
// serialisation as the X-Ray service writes Document strings

const KEY_ORDER = [
  'id',
  'name',
  'start_time',
  'end_time',
  'parent_id',
  'inferred',
  'in_progress',
  'http',
  'aws',
  'namespace',
  'error',
  'fault',
  'throttle',
  'cause',
  'service',
  'user',
  'trace_id',
  'origin',
  'resource_arn',
  'annotations',
  'metadata',
  'precursor_ids',
  'subsegments',
];

function ordered(n: Doc): Doc {
  const out: Doc = {};
  const keys = Object.keys(n).sort((a, b) => {
    const ia = KEY_ORDER.indexOf(a);
    const ib = KEY_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  for (const k of keys) out[k] = k === 'subsegments' ? (n[k] as Doc[]).map(ordered) : n[k];
  return out;
}

/** A segment document as the `Document` string X-Ray returns: keys in X-Ray's order, Java-style times. */
export function documentString(n: Doc): string {
  return documentText(ordered(n));
}

function traceOf(traceId: string, segments: Doc[], withLimitExceeded: boolean): TraceText {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of segments) {
    lo = Math.min(lo, s.start_time);
    hi = Math.max(hi, s.end_time);
  }
  return {
    id: traceId,
    duration: Math.round((hi - lo) * 1000) / 1000,
    ...(withLimitExceeded ? { limitExceeded: false } : {}),
    docs: segments.map((s) => [s.id as string, documentString(s)]),
  };
}

// ---------------------------------------------------------------------------------------------
// 4. Lambda

function functionArn(w: LambdaWorkload, inv: LambdaInvocation): { unqualified: string; invoked: string } {
  const unqualified = `arn:aws:lambda:${w.region}:${w.account}:function:${w.name}`;
  return { unqualified, invoked: inv.qualifier ? `${unqualified}:${inv.qualifier}` : unqualified };
}

/** The parent the SDK's subsegments name in `parent_id` (from `_X_AMZN_TRACE_ID`). */
function lambdaParents(w: LambdaWorkload): Map<string, Map<string, Doc>> {
  const m = new Map<string, Map<string, Doc>>();
  for (const inv of w.invocations) {
    const id = w.shape === '2023' ? inv.invocationId! : inv.functionSegmentId;
    m.set(inv.traceId, new Map([[id, { id, name: w.shape === '2023' ? 'Invocation' : w.name }]]));
  }
  return m;
}

export interface Built {
  traceId: string;
  t0: number;
  segments: Doc[];
}

const roundTo = (u: number, step: number): number => Math.round(u / step) * step;

/**
 * Build the Lambda-service segments around the captured calls. Times: the service segment starts
 * at the planned t0; the Lambda-emitted times carry 100 ns precision, the SDK's milliseconds.
 */
export function buildLambda(w: LambdaWorkload, docs: RawDoc[]): Built[] {
  const parents = lambdaParents(w);
  const built: Built[] = [];
  for (const inv of w.invocations) {
    const parentMap = parents.get(inv.traceId)!;
    const mine = docs.filter(
      (d) => d.trace_id === inv.traceId && [...parentMap.keys()].includes(d.parent_id as string),
    );
    // Include nested streamed children (custom subsegments' calls) of this invocation.
    const ids = new Set(mine.map((d) => d.id));
    for (let grew = true; grew;) {
      grew = false;
      for (const d of docs)
        if (d.trace_id === inv.traceId && ids.has(d.parent_id as string) && !ids.has(d.id)) {
          mine.push(d);
          ids.add(d.id);
          grew = true;
        }
    }
    const merged = mergeByTrace(structuredClone(mine), parentMap);
    if (merged.size !== 1 && mine.length > 0) throw new Error('unexpected merge result');
    const holder = [...parentMap.values()][0]!;
    const calls = (holder.subsegments ?? []) as Doc[];
    const arn = functionArn(w, inv);
    const seed = `${inv.traceId}:${inv.functionSegmentId}`;
    const r = (s: string, lo: number, hi: number): number =>
      Math.round((lo + (parseInt(hex(`${seed}:${s}`, 8), 16) / 0xffffffff) * (hi - lo)) * MS);

    calls.forEach((c) => walk(c, canonicalise));
    renumber(calls, inv.traceId, new Set());
    calls.forEach((c) => walk(c, (n) => relocate(n, '/var/task')));

    const base = Math.floor(inv.t0);
    const t0 = roundTo((inv.t0 - base) * U, MS);
    const svc: Doc = { id: inv.serviceSegmentId, name: w.name, start_time: t0 };
    if (inv.callerSubsegmentId) svc.parent_id = inv.callerSubsegmentId;
    let cursor = t0 + r('queue', 0.2, 1.6);
    const fnSubs: Doc[] = [];
    if (inv.coldStart && inv.initializationId) {
      const init: Doc = { id: inv.initializationId, name: 'Initialization', start_time: cursor };
      cursor += r('init', 180, 460);
      init.end_time = cursor;
      init.aws = { function_arn: arn.invoked };
      fnSubs.push(init);
      cursor += r('postinit', 0.3, 4);
    }
    const fn: Doc = {
      id: inv.functionSegmentId,
      name: w.name,
      start_time: cursor,
      parent_id: inv.serviceSegmentId,
    };
    let end: number;
    if (w.shape === '2023') {
      const invocation: Doc = {
        id: inv.invocationId,
        name: 'Invocation',
        start_time: cursor + r('inv', 0.05, 0.4),
      };
      let c2 = invocation.start_time + r('handler', 0.8, 2.5);
      calls.forEach((c, i) => {
        c2 = layout(c, c2, `${seed}:${i}`) + r(`gap${i}`, 0.4, 2.2);
      });
      invocation.end_time = c2 + r('ret', 0.3, 1.5);
      invocation.aws = { function_arn: arn.invoked };
      if (calls.length) invocation.subsegments = calls;
      const overhead: Doc = {
        id: inv.overheadId,
        name: 'Overhead',
        start_time: invocation.end_time + r('ovs', 0.02, 0.1),
      };
      overhead.end_time = overhead.start_time + r('ov', 0.2, 1.1);
      overhead.aws = { function_arn: arn.invoked };
      fnSubs.push(invocation, overhead);
      end = overhead.end_time + r('fnend', 0.05, 0.3);
    } else {
      let c2 = cursor + r('handler', 0.8, 2.5);
      calls.forEach((c, i) => {
        c2 = layout(c, c2, `${seed}:${i}`) + r(`gap${i}`, 0.4, 2.2);
      });
      fnSubs.push(...calls);
      end = c2 + r('ret', 0.3, 1.5);
    }
    fn.end_time = end;
    fn.aws = {
      account_id: w.account,
      function_arn: arn.invoked,
      cloudwatch_logs: [{ log_group: `/aws/lambda/${w.name}` }],
      ...(w.shape === '2023' ? { resource_names: [w.name] } : {}),
    };
    fn.trace_id = inv.traceId;
    fn.origin = 'AWS::Lambda::Function';
    if (fnSubs.length) fn.subsegments = fnSubs;
    svc.end_time = end + r('svcend', 0.8, 3);
    svc.http = { response: { status: 200 } };
    svc.aws = { request_id: inv.requestId };
    svc.trace_id = inv.traceId;
    svc.origin = 'AWS::Lambda';
    svc.resource_arn = arn.unqualified;

    calls.forEach((c) => walk(c, addResourceNames));
    const segs = [svc, fn];
    toSeconds(base, segs);
    segs.push(...inferSegments([fn], inv.traceId, new Set()));
    built.push({ traceId: inv.traceId, t0: inv.t0, segments: segs });
  }
  return built;
}

// ---------------------------------------------------------------------------------------------
// ECS

export function buildEcs(w: EcsWorkload, docs: RawDoc[]): Built[] {
  const mine = new Set(w.tasks.map((t) => t.traceId));
  const merged = mergeByTrace(structuredClone(docs.filter((d) => mine.has(d.trace_id))), new Map());
  return w.tasks.map((task) => {
    const roots = merged.get(task.traceId);
    if (!roots || roots.length !== 1) throw new Error(`ECS trace ${task.traceId}: expected one segment`);
    const seg = roots[0]!;
    walk(seg, canonicalise);
    renumber([seg], task.traceId, new Set());
    // The segment itself is the SDK's, but its id is random too.
    walk(seg, (n) => relocate(n, '/usr/src/app'));
    const base = Math.floor(task.t0);
    layout(seg, roundTo((task.t0 - base) * U, MS), `${task.traceId}:ecs`);
    walk(seg, addResourceNames);
    // The Node SDK's ECS plugin records only `ecs.container` (= os.hostname()). The cluster, task
    // and launch type below are NOT emitted by aws-xray-sdk-core; they are added here, modelled on
    // the fields the OpenTelemetry X-Ray exporter writes, so the samples exercise them.
    seg.aws.ecs = {
      container: 'ip-10-0-12-34.eu-west-1.compute.internal',
      container_id: hex(`container:${w.taskId}`, 64),
      cluster_arn: `arn:aws:ecs:${w.region}:${w.account}:cluster/${w.cluster}`,
      task_arn: `arn:aws:ecs:${w.region}:${w.account}:task/${w.cluster}/${w.taskId}`,
      task_family: w.taskFamily,
      launch_type: 'fargate',
    };
    // Pinned so that regenerating on another Node patch release gives identical bytes.
    if (seg.service) seg.service.runtime_version = 'v20.20.2';
    toSeconds(base, [seg]);
    return {
      traceId: task.traceId,
      t0: task.t0,
      segments: [seg, ...inferSegments([seg], task.traceId, new Set())],
    };
  });
}

// ---------------------------------------------------------------------------------------------
// 6. Step Functions (entirely service-emitted: synthesised here)

/**
 * An `order-pipeline` execution: ValidateOrder (Task → Lambda invoke of orders-api, whose own
 * segments were captured for real in this trace) then ProcessItems (Map → Iteration N →
 * RecordItem Task → DynamoDB PutItem). As observed in real dumps, the calls Step Functions makes
 * on its own behalf carry operation/region/request_id but no resource parameters.
 */
export function buildPipeline(exec: PipelineExecution, lambda: Built): Built {
  const traceId = exec.traceId;
  let k = 0;
  const id = (): string => hex(`${traceId}:sfn:${k++}`, 16);
  const u = (s: string, lo: number, hi: number): number =>
    Math.round((lo + (parseInt(hex(`${traceId}:${s}`, 8), 16) / 0xffffffff) * (hi - lo)) * MS);
  const base = Math.floor(exec.t0);
  const at = (sec: number): number => (sec - base) * U;
  const back = (v: number): number => base + v / U;

  const t0 = roundTo(at(exec.t0), MS);
  const lambdaSvc = lambda.segments[0]!;
  const lStart = at(lambdaSvc.start_time);
  const lEnd = at(lambdaSvc.end_time);
  const invoke: Doc = {
    id: exec.lambdaCallerId,
    name: 'Lambda',
    start_time: lStart - u('li', 2, 6),
    end_time: lEnd + u('le', 3, 9),
    http: { response: { status: 200 } },
    aws: { operation: 'Invoke', region: 'eu-west-1', request_id: lambdaSvc.aws.request_id },
    namespace: 'aws',
  };
  const validate: Doc = {
    id: id(),
    name: 'ValidateOrder',
    start_time: invoke.start_time - u('vs', 4, 12),
    end_time: invoke.end_time + u('ve', 2, 8),
    subsegments: [invoke],
  };
  const map: Doc = { id: id(), name: 'ProcessItems', start_time: validate.end_time + u('ms', 5, 15) };
  let cursor = map.start_time + u('m0', 2, 5);
  map.subsegments = exec.items.map((_item, i) => {
    const it: Doc = { id: id(), name: `Iteration ${i}`, start_time: cursor };
    const task: Doc = { id: id(), name: 'RecordItem', start_time: cursor + u(`t${i}`, 1, 4) };
    const call: Doc = {
      id: id(),
      name: 'DynamoDB',
      start_time: task.start_time + u(`c${i}`, 2, 6),
      http: { response: { status: 200 } },
      aws: {
        operation: 'PutItem',
        region: 'eu-west-1',
        request_id: hex(`${traceId}:ddbreq:${i}`, 52).toUpperCase(),
      },
      namespace: 'aws',
    };
    call.end_time = call.start_time + u(`d${i}`, 6, 24);
    task.end_time = call.end_time + u(`te${i}`, 2, 6);
    task.subsegments = [call];
    it.end_time = task.end_time + u(`ie${i}`, 1, 3);
    it.subsegments = [task];
    cursor = it.end_time + u(`g${i}`, 3, 9);
    return it;
  });
  map.end_time = cursor + u('me', 2, 6);
  const seg: Doc = {
    id: exec.segmentId,
    name: 'order-pipeline',
    start_time: Math.min(t0, validate.start_time - u('s0', 10, 30)),
    end_time: map.end_time + u('end', 8, 20),
    http: { response: { status: 200 } },
    aws: {
      resource_arn: `arn:aws:states:eu-west-1:123456789012:execution:order-pipeline:${exec.executionName}`,
    },
    trace_id: traceId,
    origin: 'AWS::StepFunctions::StateMachine',
    resource_arn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:order-pipeline',
    subsegments: [validate, map],
  };
  walk(seg, (n) => {
    n.start_time = back(roundTo(n.start_time, 1));
    n.end_time = back(roundTo(n.end_time, 1));
  });
  const inferred = inferSegments([seg], traceId, new Set([exec.lambdaCallerId]));
  return { traceId, t0: exec.t0, segments: [seg, ...lambda.segments, ...inferred] };
}

// ---------------------------------------------------------------------------------------------
// output

/** A fixed shuffle: BatchGetTraces does not return traces in request order. */
const PERMUTATION = [2, 0, 4, 1, 3];

/**
 * Render traces as `xargs -n 5 aws xray batch-get-traces` prints them: newest first (the order
 * get-trace-summaries pages in), five ids per call, one pretty-printed document per call.
 */
export function renderExport(
  built: Built[],
  opts: { limitExceeded: boolean; unprocessed?: string[] },
): { text: string; traces: number; documents: number } {
  const traces = [...built]
    .sort((a, b) => b.t0 - a.t0)
    .map((b) => traceOf(b.traceId, b.segments, opts.limitExceeded));
  // Unprocessed ids are the newest (still being indexed), so they come first.
  const ids: (TraceText | string)[] = [...(opts.unprocessed ?? []), ...traces];
  const docs: string[] = [];
  for (let i = 0; i < ids.length; i += 5) {
    const chunk = ids.slice(i, i + 5);
    const got = chunk.filter((t): t is TraceText => typeof t !== 'string');
    const shuffled = got.length === 5 ? PERMUTATION.map((p) => got[p]!) : got;
    docs.push(
      batchText(
        shuffled,
        chunk.filter((t): t is string => typeof t === 'string'),
      ),
    );
  }
  return { text: docs.join(''), traces: traces.length, documents: docs.length };
}
