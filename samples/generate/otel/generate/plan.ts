/**
 * The deterministic plan: which workload (execution environment) runs which AWS calls in which
 * invocation or task, and when. Names, accounts and resources mirror the X-Ray samples in
 * samples/traces so the same functions can be seen in both.
 *
 * Everything that must be stable across runs (request ids, invocation times, log stream names)
 * is derived here from fixed seeds, never from the clock or from `crypto.randomBytes`.
 */
import type { SdkStep } from '../../common/sdk-calls.js';
import { hex, seeded, uuid } from '../../common/seed.js';
import type { EcsTask, Failures, StubConfig } from '../../common/stub.js';

/**
 * One AWS SDK call a workload makes. The child process turns each into a real SDK v3 call: the
 * calls the X-Ray generator's workloads make too (common/sdk-calls.ts), and Kinesis.
 */
export type Step =
  SdkStep | { kind: 'kinesis.putRecord'; streamName?: string; streamArn?: string; partitionKey: string };

/** One unit of work: a Lambda invocation or one job of the ECS worker. Becomes one trace. */
export interface Unit {
  /** Stable id, also the seed for trace/span ids. */
  id: string;
  /** Planned start of the trace, epoch milliseconds (integer) plus sub-ms part in `t0Nanos`. */
  t0Ms: number;
  /** Extra nanoseconds after t0Ms (0..999999), so times are not all on whole milliseconds. */
  t0SubMsNanos: number;
  steps: Step[];
  /** Lambda only: what the runtime passes to the handler. */
  lambda?: {
    requestId: string;
    /** The ARN the caller invoked: unqualified, or ending in `:live` through the alias. */
    invokedFunctionArn: string;
    event: Record<string, unknown>;
  };
}

export interface LambdaEnvironment {
  kind: 'lambda';
  /** Name of this execution environment in the output (one child process each). */
  env: string;
  functionName: string;
  functionVersion: string;
  account: string;
  region: string;
  memoryMb: number;
  logStreamName: string;
  units: Unit[];
}

/** An ECS task (its metadata endpoint is the stub's, see EcsTask) running the worker's jobs. */
export interface EcsEnvironment extends EcsTask {
  kind: 'ecs';
  serviceName: string;
  /** What `os.hostname()` returns inside the task (awsvpc ENI hostname). */
  hostname: string;
  units: Unit[];
}

export type Environment = LambdaEnvironment | EcsEnvironment;

/**
 * A setting read from the environment (unset or empty: the default). The defaults give the
 * committed samples; the live check in xray-lp's tests (test/samples/otel-live.test.ts) overrides
 * both, so that it judges output that is not in the repo.
 */
function setting(name: string, fallback: string, valid: RegExp, what: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  if (!valid.test(value)) throw new Error(`${name}=${JSON.stringify(value)}: expected ${what}`);
  return value;
}

/** The account of every workload and resource: `OTS_ACCOUNT`, 12 digits. */
export const ACCOUNT = setting('OTS_ACCOUNT', '123456789012', /^\d{12}$/, '12 digits');
/**
 * The region of every workload and resource: `OTS_REGION`. Regions of the `aws` partition only
 * (every ARN and host name here is written for it): not cn-*, us-gov-*, us-iso*-* or eusc-*.
 */
export const REGION = setting(
  'OTS_REGION',
  'eu-west-1',
  /^(?!cn-|us-gov-|us-iso|eusc-)[a-z]{2}(-[a-z]+)+-\d{1,2}$/,
  'a region of the aws partition, such as ap-southeast-2',
);
export const ORDERS_TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:order-events`;
export const ORDER_JOBS_QUEUE = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/order-jobs`;
export const PIPELINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:order-pipeline`;
export const STRIPE_SECRET_NAME = 'billing/stripe-api-key';
export const STRIPE_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${STRIPE_SECRET_NAME}-AbCdEf`;
export const INVOICE_STREAM = 'invoice-events';
export const INVOICE_STREAM_ARN = `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${INVOICE_STREAM}`;
export const API_HOST = `k7x2m9q4ab.execute-api.${REGION}.amazonaws.com`;
/** The task's awsvpc ENI host name: EC2 private DNS (us-east-1 has its own domain). */
export const ECS_HOSTNAME = `ip-10-0-12-87.${REGION === 'us-east-1' ? 'ec2.internal' : `${REGION}.compute.internal`}`;
export const ECS_AVAILABILITY_ZONE = `${REGION}b`;

/** 2026-11-23T00:00:00Z (Monday). The week runs to 2026-11-29T23:59:59Z. */
export const WEEK_START_MS = Date.UTC(2026, 10, 23);
export const WEEK_END_MS = Date.UTC(2026, 10, 30) - 1;

/**
 * The deliberate failures: the inputs the stub answers with an AWS error (common/stub.ts). The
 * orders-api and thumbnailer plans below make these calls.
 */
export const FAILURES = {
  /** ProvisionedThroughputExceededException, after the SDK's retries. */
  throttledUpdateKey: 'ord-00077',
  /** AccessDeniedException: no identity-based policy allows dynamodb:DeleteItem. */
  deniedDelete: { table: 'orders', role: 'orders-api-role', session: 'orders-api' },
  /** S3 403 AccessDenied. */
  deniedPutObjectAcl: { role: 'thumbnailer-role', session: 'thumbnailer' },
} satisfies Failures;

/**
 * How the stub answers the plan's environments: resources in ACCOUNT and REGION, this week's dates,
 * and the ECS task metadata of its ECS environments.
 */
export function stubConfig(envs: Environment[]): StubConfig {
  return {
    account: ACCOUNT,
    region: REGION,
    weekStart: WEEK_START_MS / 1000,
    seeds: { request: (n) => `n:${n}`, message: (n) => `msg:${n}` },
    failures: FAILURES,
    ecs: envs.filter((e) => e.kind === 'ecs'),
  };
}

/** A start `seconds` (plus a seeded fraction) after the last unit of `units`. */
function after(units: Unit[], seconds: number, seed: string): Pick<Unit, 't0Ms' | 't0SubMsNanos'> {
  const prev = units[units.length - 1];
  if (!prev) throw new Error(`${seed}: nothing to follow`);
  return {
    t0Ms: prev.t0Ms + seconds * 1000 + seeded(`ms:${seed}`, 0, 999),
    t0SubMsNanos: seeded(`ns:${seed}`, 0, 999) * 1000,
  };
}

const latestOrLive = (alias: boolean, latest: Unit[], live: Unit[]): Unit[] => (alias ? live : latest);

/**
 * Lambda keeps an idle execution environment for a while, then reclaims it. Units more than this
 * apart run in separate environments (separate processes: a cold start each).
 */
export const ENVIRONMENT_IDLE_MS = 45 * 60_000;

function at(
  day: number,
  hh: number,
  mm: number,
  ss: number,
  seed: string,
): Pick<Unit, 't0Ms' | 't0SubMsNanos'> {
  return {
    t0Ms: WEEK_START_MS + ((day * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + seeded(`ms:${seed}`, 0, 999),
    t0SubMsNanos: seeded(`ns:${seed}`, 0, 999) * 1000,
  };
}

const orderId = (n: number): string => `ord-${String(n).padStart(5, '0')}`;
const fnArn = (name: string): string => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

/** An API Gateway HTTP API (payload 2.0) event, as orders-api receives it. */
function apiEvent(routeKey: string, rawPath: string, seed: string): Record<string, unknown> {
  const [method] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: {
      host: API_HOST,
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'content-type': 'application/json',
      'user-agent': 'orders-web/3.4.1',
    },
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_HOST.split('.')[0],
      domainName: API_HOST,
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.24',
        userAgent: 'orders-web/3.4.1',
      },
      requestId: hex(`apigw:${seed}`, 16),
      routeKey,
      stage: '$default',
    },
    isBase64Encoded: false,
  };
}

/** An S3 event notification for one uploaded object, as thumbnailer receives it. */
function s3Event(bucket: string, key: string, seed: string): Record<string, unknown> {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: REGION,
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key, size: 48213, eTag: hex(`etag:${seed}`, 32) },
        },
      },
    ],
  };
}

/** orders-api: the same five request shapes as the X-Ray samples. */
function ordersApiUnit(n: number): { steps: Step[]; route: string; path: string } {
  const id = orderId(10 + n);
  switch (n % 5) {
    case 0:
      return {
        route: 'POST /orders',
        path: '/orders',
        steps: [
          { kind: 'ddb.getItem', table: 'orders', key: id },
          { kind: 'ddb.putItem', table: 'orders', key: id },
          { kind: 'sns.publish', topicArn: ORDERS_TOPIC, orderId: id },
          { kind: 'sqs.sendMessage', queueUrl: ORDER_JOBS_QUEUE, orderId: id },
        ],
      };
    case 1:
      return {
        route: 'GET /orders/{orderId}',
        path: `/orders/${id}`,
        steps: [{ kind: 'ddb.getItem', table: 'orders', key: id }],
      };
    case 2:
      return {
        route: 'GET /customers/{customerId}/orders',
        path: `/customers/cust-${100 + n}/orders`,
        steps: [{ kind: 'ddb.query', table: 'orders', index: 'by-customer', customer: `cust-${100 + n}` }],
      };
    case 3:
      return {
        route: 'POST /orders/{orderId}/pay',
        path: `/orders/${id}/pay`,
        steps: [
          { kind: 'ddb.updateItem', table: 'orders', key: id },
          { kind: 'sfn.startExecution', stateMachineArn: PIPELINE_ARN, orderId: id },
          { kind: 'sns.publish', topicArn: ORDERS_TOPIC, orderId: id },
        ],
      };
    default:
      return {
        route: 'PATCH /orders/{orderId}',
        path: `/orders/${id}`,
        steps: [
          { kind: 'ddb.getItem', table: 'orders', key: id },
          { kind: 'ddb.updateItem', table: 'orders', key: id },
        ],
      };
  }
}

export function buildPlan(): Environment[] {
  // ---- orders-api: 14 invocations, two a day, minutes apart. Mon-Wed callers use the unqualified
  // ARN and hit $LATEST; from Thursday on they go through the `live` alias (version 7). Each day's
  // pair runs in one execution environment (one process): the first is a cold start, the second
  // warm. Hours apart, Lambda would have reclaimed the environment (ENVIRONMENT_IDLE_MS).
  const latest: Unit[] = [];
  const live: Unit[] = [];
  for (let n = 0; n < 14; n++) {
    const day = Math.floor(n / 2);
    const seed = `orders-api:${n}`;
    const alias = day >= 3;
    let { steps, route, path } = ordersApiUnit(n);
    // Deliberate failures (the stub answers them: FAILURES):
    if (n === 6) {
      // Throttled UpdateItem: the SDK retries it (3 attempts) and gives up.
      route = 'PATCH /orders/{orderId}';
      path = `/orders/${FAILURES.throttledUpdateKey}`;
      steps = [{ kind: 'ddb.updateItem', table: 'orders', key: FAILURES.throttledUpdateKey }];
    }
    if (n === 11) {
      route = 'DELETE /orders/{orderId}';
      path = '/orders/ord-00031';
      steps = [
        { kind: 'ddb.getItem', table: 'orders', key: 'ord-00031' },
        { kind: 'ddb.deleteItem', table: FAILURES.deniedDelete.table, key: 'ord-00031' }, // AccessDeniedException
      ];
    }
    const unit: Unit = {
      id: seed,
      // The day's first request at a seeded hour; the second 1-20 minutes later (same environment).
      ...(n % 2 === 0
        ? at(day, 8 + ((n * 5) % 11), (n * 17) % 60, (n * 23) % 60, seed)
        : after(latestOrLive(alias, latest, live), seeded(`gap:${seed}`, 60, 1200), seed)),
      steps,
      lambda: {
        requestId: uuid(`req:${seed}`),
        invokedFunctionArn: fnArn('orders-api') + (alias ? ':live' : ''),
        event: apiEvent(route, path, seed),
      },
    };
    (alias ? live : latest).push(unit);
  }

  // ---- thumbnailer: 8 invocations from S3 notifications --------------------------------------
  const thumbs: Unit[] = [];
  for (let n = 0; n < 8; n++) {
    // Uploads come in pairs on Mon, Wed, Fri and Sun: the second 10 s - 3 min after the first.
    const day = Math.floor(n / 2) * 2;
    const seed = `thumbnailer:${n}`;
    const img = `img-${String(n + 1).padStart(3, '0')}.jpg`;
    const src = `incoming/2026/11/${img}`;
    const dst = `thumbs/2026/11/${img}`;
    const steps: Step[] = [
      { kind: 's3.getObject', bucket: 'uploads', key: src },
      { kind: 's3.putObject', bucket: 'thumbnails', key: dst },
    ];
    if (n % 3 === 1) steps.unshift({ kind: 's3.headObject', bucket: 'uploads', key: src });
    if (n === 5) steps.push({ kind: 's3.putObjectAcl', bucket: 'thumbnails', key: dst }); // 403 AccessDenied
    thumbs.push({
      id: seed,
      ...(n % 2 === 0
        ? at(day, 9 + ((n * 3) % 9), (n * 13) % 60, (n * 29) % 60, seed)
        : after(thumbs, seeded(`gap:${seed}`, 10, 180), seed)),
      steps,
      lambda: {
        requestId: uuid(`req:${seed}`),
        invokedFunctionArn: fnArn('thumbnailer'),
        event: s3Event('uploads', src, seed),
      },
    });
  }

  // ---- billing-worker on ECS (Fargate): 8 jobs taken from order-jobs -------------------------
  const jobs: Unit[] = [];
  for (let n = 0; n < 8; n++) {
    const day = Math.floor((n * 7) / 8);
    const seed = `billing-worker:${n}`;
    const id = orderId(10 + n * 2);
    jobs.push({
      id: seed,
      ...at(day, 10 + ((n * 7) % 12), (n * 11) % 60, (n * 31) % 60, seed),
      steps: [
        { kind: 'sqs.receiveMessage', queueUrl: ORDER_JOBS_QUEUE },
        // By name on even jobs, by full ARN on odd ones.
        { kind: 'secrets.getSecretValue', secretId: n % 2 === 0 ? STRIPE_SECRET_NAME : STRIPE_SECRET_ARN },
        { kind: 'ddb.updateItem', table: 'invoices', key: `inv-${id}` },
        // By stream name, except one job that addresses the stream by ARN only.
        n === 3
          ? { kind: 'kinesis.putRecord', streamArn: INVOICE_STREAM_ARN, partitionKey: id }
          : { kind: 'kinesis.putRecord', streamName: INVOICE_STREAM, partitionKey: id },
        { kind: 'sqs.deleteMessage', queueUrl: ORDER_JOBS_QUEUE },
      ],
    });
  }

  /** One execution environment per burst of invocations (see ENVIRONMENT_IDLE_MS). */
  const lambdaEnvs = (
    functionName: string,
    functionVersion: string,
    memoryMb: number,
    units: Unit[],
  ): LambdaEnvironment[] => {
    const sorted = [...units].sort((a, b) => a.t0Ms - b.t0Ms);
    const bursts: Unit[][] = [];
    for (const u of sorted) {
      const last = bursts[bursts.length - 1];
      const prev = last?.[last.length - 1];
      if (last && prev && u.t0Ms - prev.t0Ms <= ENVIRONMENT_IDLE_MS) last.push(u);
      else bursts.push([u]);
    }
    return bursts.map((b, i) =>
      lambdaEnv(`${functionName}@${functionVersion}#${i + 1}`, functionName, functionVersion, memoryMb, b),
    );
  };
  const lambdaEnv = (
    env: string,
    functionName: string,
    functionVersion: string,
    memoryMb: number,
    units: Unit[],
  ): LambdaEnvironment => ({
    kind: 'lambda',
    env,
    functionName,
    functionVersion,
    account: ACCOUNT,
    region: REGION,
    memoryMb,
    // What Lambda names the log stream of an execution environment: date/[version]instance-id.
    logStreamName: `2026/11/${String(23 + Math.floor((units[0]!.t0Ms - WEEK_START_MS) / 86_400_000)).padStart(2, '0')}/[${functionVersion}]${hex(`stream:${env}`, 32)}`,
    units,
  });

  const taskId = hex('ecs-task:billing-worker', 32);
  return [
    ...lambdaEnvs('orders-api', '$LATEST', 512, latest),
    ...lambdaEnvs('orders-api', '7', 512, live),
    ...lambdaEnvs('thumbnailer', '$LATEST', 1024, thumbs),
    {
      kind: 'ecs',
      env: 'billing-worker',
      serviceName: 'billing-worker',
      account: ACCOUNT,
      region: REGION,
      cluster: 'payments',
      taskFamily: 'billing-worker',
      taskRevision: '14',
      taskId,
      containerName: 'billing-worker',
      dockerId: `${taskId}-${seeded('docker:billing-worker', 1000000000, 4294967295)}`,
      hostname: ECS_HOSTNAME,
      availabilityZone: ECS_AVAILABILITY_ZONE,
      units: jobs,
    },
  ];
}
