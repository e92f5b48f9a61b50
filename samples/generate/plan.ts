/**
 * The deterministic plan: which workload runs which AWS calls in which trace, when.
 *
 * Everything that must be stable across runs (trace ids, the ids of the segments the Lambda
 * service would emit, start times) is derived here from fixed seeds, never from the clock or
 * from `crypto.randomBytes`.
 */
import type { SdkStep } from './common/sdk-calls.js';
import { hex, uuid } from './common/seed.js';
import type { Failures, StubConfig } from './common/stub.js';

/**
 * One step a workload performs. The child process turns each into a real SDK (or HTTP) call: the
 * AWS SDK calls the OpenTelemetry generator makes too (common/sdk-calls.ts), and these.
 */
export type Step =
  | SdkStep
  | { kind: 'ddb.batchGetItem'; tables: string[]; keys: string[] }
  | { kind: 'ddb.scan'; table: string; limit: number }
  | { kind: 's3.listObjectsV2'; bucket: string; prefix: string }
  | { kind: 'lambda.invoke'; functionName: string; doc: string }
  | { kind: 'sts.getCallerIdentity' }
  | { kind: 'http.kms' }
  | { kind: 'http.stripe'; orderId: string }
  /** A custom subsegment (captureAsyncFunc) wrapping further steps. */
  | { kind: 'custom'; name: string; steps: Step[] };

export type LambdaShape = '2018' | '2023';

export interface LambdaInvocation {
  traceId: string;
  /** Planned start of the Lambda service segment (epoch seconds). */
  t0: number;
  requestId: string;
  serviceSegmentId: string;
  functionSegmentId: string;
  /** 2023 shape only. */
  invocationId?: string;
  initializationId?: string;
  overheadId?: string;
  coldStart: boolean;
  /** Qualifier the function was invoked through (alias), if any. */
  qualifier?: string;
  /** Set when another traced component (Step Functions) invoked the function. */
  callerSubsegmentId?: string;
  steps: Step[];
}

export interface LambdaWorkload {
  kind: 'lambda';
  name: string;
  account: string;
  region: string;
  shape: LambdaShape;
  roleName: string;
  invocations: LambdaInvocation[];
}

export interface EcsTask {
  traceId: string;
  t0: number;
  steps: Step[];
}

export interface EcsWorkload {
  kind: 'ecs';
  name: string;
  account: string;
  region: string;
  cluster: string;
  taskFamily: string;
  taskId: string;
  tasks: EcsTask[];
}

export interface PipelineExecution {
  traceId: string;
  t0: number;
  executionName: string;
  segmentId: string;
  /** The orders-api invocation the Task state makes (captured for real, in this trace). */
  lambdaCallerId: string;
  items: string[];
}

export const ORDERS_ACCOUNT = '123456789012';
export const REPORTS_ACCOUNT = '210987654321';
export const EU = 'eu-west-1';
export const US = 'us-east-1';
export const ORDERS_TOPIC = `arn:aws:sns:${EU}:${ORDERS_ACCOUNT}:order-events`;
export const ORDER_JOBS_QUEUE = `https://sqs.${EU}.amazonaws.com/${ORDERS_ACCOUNT}/order-jobs`;
export const PIPELINE_ARN = `arn:aws:states:${EU}:${ORDERS_ACCOUNT}:stateMachine:order-pipeline`;
export const PDF_RENDER_ARN = `arn:aws:lambda:${US}:${REPORTS_ACCOUNT}:function:pdf-render`;

/** 2026-11-16T00:00:00Z */
export const WEEK_START = Date.UTC(2026, 10, 16) / 1000;

/**
 * The deliberate failures: the inputs the stub answers with an AWS error (common/stub.ts). The
 * orders-api, thumbnailer and report-builder plans below make these calls.
 */
export const FAILURES = {
  /** ConditionalCheckFailedException. */
  conditionalPutKey: 'ord-00042',
  /** ProvisionedThroughputExceededException, after the SDK's retries. */
  throttledUpdateKey: 'ord-00077',
  /** AccessDeniedException: no identity-based policy allows dynamodb:DeleteItem. */
  deniedDelete: { table: 'orders', role: 'orders-api-role', session: 'orders-api' },
  /** S3 403 AccessDenied. */
  deniedPutObjectAcl: { role: 'thumbnailer-role', session: 'thumbnailer' },
  /** Lambda 429 TooManyRequestsException. */
  throttledInvoke: 'throttle-me',
} satisfies Failures;

/** How the stub answers this plan's workloads: the orders account's resources, this week's dates. */
export const STUB: StubConfig = {
  account: ORDERS_ACCOUNT,
  region: EU,
  weekStart: WEEK_START,
  // Request ids by request number; message ids by the message's length (every SendMessage of an
  // order gets the same id in the committed traces).
  seeds: { request: (n) => String(n), message: (_n, body) => String(body.length + 7) },
  failures: FAILURES,
  caller: {
    account: REPORTS_ACCOUNT,
    role: 'report-builder-role',
    session: 'report-builder',
    roleId: 'AROAEXAMPLEREPORTBLDR',
  },
};

export function traceIdAt(t0: number, seed: string): string {
  return `1-${Math.floor(t0).toString(16).padStart(8, '0')}-${hex(`trace:${seed}`, 24)}`;
}

/** Deterministic start time: day d of the week, at hh:mm:ss plus a seeded sub-second part. */
function at(day: number, hh: number, mm: number, ss: number, seed: string): number {
  const frac = parseInt(hex(`frac:${seed}`, 6), 16) % 1000;
  return WEEK_START + day * 86400 + hh * 3600 + mm * 60 + ss + frac / 1000;
}

function lambdaInvocation(
  fn: string,
  shape: LambdaShape,
  n: number,
  t0: number,
  steps: Step[],
  opts: { coldStart?: boolean; qualifier?: string; traceId?: string; callerSubsegmentId?: string } = {},
): LambdaInvocation {
  const seed = `${fn}:${n}`;
  const inv: LambdaInvocation = {
    traceId: opts.traceId ?? traceIdAt(t0, seed),
    t0,
    requestId: uuid(`req:${seed}`),
    serviceSegmentId: hex(`svc:${seed}`, 16),
    functionSegmentId: hex(`fn:${seed}`, 16),
    coldStart: opts.coldStart ?? false,
    steps,
  };
  if (shape === '2023') {
    inv.invocationId = hex(`invocation:${seed}`, 16);
    inv.overheadId = hex(`overhead:${seed}`, 16);
  }
  if (inv.coldStart) inv.initializationId = hex(`init:${seed}`, 16);
  if (opts.qualifier) inv.qualifier = opts.qualifier;
  if (opts.callerSubsegmentId) inv.callerSubsegmentId = opts.callerSubsegmentId;
  return inv;
}

const orderId = (n: number): string => `ord-${String(n).padStart(5, '0')}`;

function ordersApiSteps(n: number): Step[] {
  const id = orderId(10 + n);
  switch (n % 5) {
    case 0: // create order
      return [
        {
          kind: 'custom',
          name: 'validate-order',
          steps: [{ kind: 'ddb.getItem', table: 'orders', key: id }],
        },
        { kind: 'ddb.putItem', table: 'orders', key: id },
        { kind: 'sns.publish', topicArn: ORDERS_TOPIC, orderId: id },
        { kind: 'sqs.sendMessage', queueUrl: ORDER_JOBS_QUEUE, orderId: id },
      ];
    case 1: // get order
      return [{ kind: 'ddb.getItem', table: 'orders', key: id }];
    case 2: // list a customer's orders
      return [{ kind: 'ddb.query', table: 'orders', index: 'by-customer', customer: `cust-${100 + n}` }];
    case 3: // update status, then start the fulfilment pipeline
      return [
        { kind: 'ddb.updateItem', table: 'orders', key: id },
        { kind: 'sfn.startExecution', stateMachineArn: PIPELINE_ARN, orderId: id },
        { kind: 'sns.publish', topicArn: ORDERS_TOPIC, orderId: id },
      ];
    default: // get + update
      return [
        { kind: 'ddb.getItem', table: 'orders', key: id },
        { kind: 'ddb.updateItem', table: 'orders', key: id },
      ];
  }
}

export interface Plan {
  ordersApi: LambdaWorkload;
  thumbnailer: LambdaWorkload;
  reportBuilder: LambdaWorkload;
  billing: EcsWorkload;
  pipeline: PipelineExecution[];
}

export function buildPlan(): Plan {
  // ---- orders-api: 20 invocations over the week, 2023 shape -----------------------------------
  const ordersInv: LambdaInvocation[] = [];
  for (let n = 0; n < 20; n++) {
    const day = Math.floor(n / 3) % 7;
    const t0 = at(day, 8 + ((n * 5) % 11), (n * 17) % 60, (n * 23) % 60, `orders:${n}`);
    let steps = ordersApiSteps(n);
    // Deliberate failures (the stub answers them: FAILURES):
    if (n === 5) steps = [{ kind: 'ddb.putItem', table: 'orders', key: FAILURES.conditionalPutKey }];
    if (n === 11) steps = [{ kind: 'ddb.updateItem', table: 'orders', key: FAILURES.throttledUpdateKey }];
    if (n === 16)
      steps = [
        { kind: 'ddb.getItem', table: 'orders', key: 'ord-00031' },
        { kind: 'ddb.deleteItem', table: FAILURES.deniedDelete.table, key: 'ord-00031' }, // AccessDenied
      ];
    ordersInv.push(
      lambdaInvocation('orders-api', '2023', n, t0, steps, {
        coldStart: n === 0 || n === 9 || n === 15,
        // From Thursday on, callers go through the `live` alias.
        ...(day >= 3 ? { qualifier: 'live' } : {}),
      }),
    );
  }

  // ---- order-pipeline: Step Functions executions that invoke orders-api -------------------------
  const pipeline: PipelineExecution[] = [];
  for (let n = 0; n < 5; n++) {
    const t0 = at(n + 1, 14, 5 + n * 7, 11 + n, `pipeline:${n}`);
    const seed = `pipeline:${n}`;
    const traceId = traceIdAt(t0, seed);
    const exec: PipelineExecution = {
      traceId,
      t0,
      executionName: uuid(`exec:${seed}`),
      segmentId: hex(`sfn:${seed}`, 16),
      lambdaCallerId: hex(`sfn-lambda-task:${seed}`, 16),
      items: Array.from({ length: 2 + (n % 2) }, (_, i) => `${orderId(200 + n * 3 + i)}`),
    };
    pipeline.push(exec);
    // The Task state's Lambda invoke runs 0.2 s after the execution starts.
    ordersInv.push(
      lambdaInvocation(
        'orders-api',
        '2023',
        100 + n,
        t0 + 0.2,
        [{ kind: 'ddb.updateItem', table: 'orders', key: exec.items[0] ?? orderId(0) }],
        { traceId, callerSubsegmentId: exec.lambdaCallerId, qualifier: 'live' },
      ),
    );
  }

  // ---- thumbnailer: 12 invocations, 2018 shape --------------------------------------------------
  const thumbInv: LambdaInvocation[] = [];
  for (let n = 0; n < 12; n++) {
    const day = Math.floor((n * 7) / 12);
    const t0 = at(day, 9 + ((n * 3) % 9), (n * 13) % 60, (n * 29) % 60, `thumb:${n}`);
    const img = `img-${String(n + 1).padStart(3, '0')}.jpg`;
    const steps: Step[] = [
      { kind: 's3.getObject', bucket: 'uploads', key: `incoming/2026/11/${img}` },
      { kind: 's3.putObject', bucket: 'thumbnails', key: `thumbs/2026/11/${img}` },
    ];
    if (n % 3 === 1)
      steps.unshift({ kind: 's3.headObject', bucket: 'uploads', key: `incoming/2026/11/${img}` });
    if (n === 7) steps.push({ kind: 's3.putObjectAcl', bucket: 'thumbnails', key: `thumbs/2026/11/${img}` }); // 403
    thumbInv.push(lambdaInvocation('thumbnailer', '2018', n, t0, steps, { coldStart: n === 0 || n === 6 }));
  }

  // ---- report-builder: second account, us-east-1 ------------------------------------------------
  const reportInv: LambdaInvocation[] = [];
  for (let n = 0; n < 8; n++) {
    const t0 = at(n % 7, 6, 30 + n, 0, `report:${n}`);
    const steps: Step[] = [
      { kind: 'sts.getCallerIdentity' },
      {
        kind: 'ddb.batchGetItem',
        tables: ['reports', 'report-templates'],
        keys: [`rpt-${n}`, 'tpl-default'],
      },
      { kind: 'ddb.scan', table: 'report-runs', limit: 25 },
      { kind: 's3.listObjectsV2', bucket: 'report-archive', prefix: `2026/11/${16 + (n % 7)}/` },
      {
        kind: 'lambda.invoke',
        functionName: PDF_RENDER_ARN,
        doc: n === 6 ? FAILURES.throttledInvoke : `rpt-${n}`,
      },
    ];
    reportInv.push(lambdaInvocation('report-builder', '2023', n, t0, steps, { coldStart: n === 0 }));
  }

  // ---- billing-worker on ECS -------------------------------------------------------------------
  const tasks: EcsTask[] = [];
  for (let n = 0; n < 10; n++) {
    const day = Math.floor((n * 7) / 10);
    const t0 = at(day, 10 + ((n * 7) % 12), (n * 11) % 60, (n * 31) % 60, `billing:${n}`);
    const id = orderId(10 + n * 2);
    const steps: Step[] = [
      { kind: 'sqs.receiveMessage', queueUrl: ORDER_JOBS_QUEUE },
      { kind: 'secrets.getSecretValue', secretId: 'billing/stripe-api-key' },
      { kind: 'http.stripe', orderId: id },
      { kind: 'ddb.updateItem', table: 'invoices', key: `inv-${id}` },
      { kind: 'sqs.deleteMessage', queueUrl: ORDER_JOBS_QUEUE },
    ];
    if (n % 4 === 2) steps.splice(2, 0, { kind: 'http.kms' });
    tasks.push({ traceId: traceIdAt(t0, `billing:${n}`), t0, steps });
  }

  return {
    ordersApi: {
      kind: 'lambda',
      name: 'orders-api',
      account: ORDERS_ACCOUNT,
      region: EU,
      shape: '2023',
      roleName: 'orders-api-role',
      invocations: ordersInv,
    },
    thumbnailer: {
      kind: 'lambda',
      name: 'thumbnailer',
      account: ORDERS_ACCOUNT,
      region: EU,
      shape: '2018',
      roleName: 'thumbnailer-role',
      invocations: thumbInv,
    },
    reportBuilder: {
      kind: 'lambda',
      name: 'report-builder',
      account: REPORTS_ACCOUNT,
      region: US,
      shape: '2023',
      roleName: 'report-builder-role',
      invocations: reportInv,
    },
    billing: {
      kind: 'ecs',
      name: 'billing-worker',
      account: ORDERS_ACCOUNT,
      region: EU,
      cluster: 'payments',
      taskFamily: 'billing-worker',
      taskId: hex('ecs-task', 32),
      tasks,
    },
    pipeline,
  };
}

/** Number of AWS SDK / HTTP calls a list of steps makes (for checking that every packet arrived). */
export function countCalls(steps: Step[]): number {
  return steps.reduce((n, s) => n + (s.kind === 'custom' ? 1 + countCalls(s.steps) : 1), 0);
}
