/**
 * The live check's expectations, written by hand from samples/generate/otel/generate/plan.ts (and
 * its README) and from the Service Authorization Reference. Nothing here reads xray-lp's IAM
 * mapping: the check compares what xray-lp recorded with this.
 */

/** The three workloads of the plan. */
export type WorkloadName = 'orders-api' | 'thumbnailer' | 'billing-worker';

/** One call the plan makes, with the permission IAM checks for it. */
export interface PlannedCall {
  workload: WorkloadName;
  /** The SDK operation (as the span's `rpc.method` names it). */
  operation: string;
  /** What the stub answers: AccessDenied (`denied`), throttling (`throttle`), or success. */
  outcome: 'ok' | 'denied' | 'throttle';
  action: string;
  /** The resource ARN IAM evaluates: concrete (a real object key, a real stream). */
  resource: string;
  /**
   * The resource a mapper can know from what the instrumentation records, when it is less than
   * `resource`; xray-lp then grants the narrowest wildcard (flagged `resource-unknown`):
   * - S3: the JS instrumentation records the bucket, never the key: `arn:aws:s3:::<bucket>/*`;
   * - Kinesis PutRecord addressed by `StreamARN` only: aws-sdk 0.78 records no stream at all
   *   (no name, no ARN): `…:stream/*`. ADOT (aws-sdk 0.74 + Application Signals) records the ARN.
   * The live check verifies these premises on the generated spans themselves.
   */
  recorded?: string;
}

/** How the instrumentation under test records calls (see {@link PlannedCall.recorded}). */
export type Instrumentation = 'otel-js' | 'adot';

/** The ARNs of the plan's resources in `account` and `region`. */
export function resources(account: string, region: string) {
  const ddb = `arn:aws:dynamodb:${region}:${account}`;
  return {
    ordersTable: `${ddb}:table/orders`,
    // A Query with IndexName is authorised against the index ARN (Service Authorization
    // Reference, DynamoDB: Query takes resource type `index` or `table`; the index when one is named).
    ordersByCustomer: `${ddb}:table/orders/index/by-customer`,
    invoicesTable: `${ddb}:table/invoices`,
    topic: `arn:aws:sns:${region}:${account}:order-events`,
    queue: `arn:aws:sqs:${region}:${account}:order-jobs`,
    stateMachine: `arn:aws:states:${region}:${account}:stateMachine:order-pipeline`,
    // Secrets Manager evaluates the full ARN (with its 6-character suffix), by name or by ARN.
    secret: `arn:aws:secretsmanager:${region}:${account}:secret:billing/stripe-api-key-AbCdEf`,
    stream: `arn:aws:kinesis:${region}:${account}:stream/invoice-events`,
    anyStream: `arn:aws:kinesis:${region}:${account}:stream/*`,
    upload: (n: number): string => `arn:aws:s3:::uploads/incoming/2026/11/${img(n)}`,
    thumb: (n: number): string => `arn:aws:s3:::thumbnails/thumbs/2026/11/${img(n)}`,
  };
}

const img = (n: number): string => `img-${String(n).padStart(3, '0')}.jpg`;

/**
 * orders-api's 14 invocations (plan.ts `ordersApiUnit(n)` for n = 0…13, `n % 5` picks the request
 * shape; n = 6 and n = 11 are replaced by the deliberate failures). `!throttle` / `!denied` mark
 * the stub's error answers.
 */
const ORDERS_API_INVOCATIONS = [
  'GetItem PutItem Publish SendMessage', //  0 POST /orders
  'GetItem', //                              1 GET /orders/{orderId}
  'Query', //                                2 GET /customers/{customerId}/orders (index by-customer)
  'UpdateItem StartExecution Publish', //    3 POST /orders/{orderId}/pay
  'GetItem UpdateItem', //                   4 PATCH /orders/{orderId}
  'GetItem PutItem Publish SendMessage', //  5
  'UpdateItem!throttle', //                  6 ord-00077: ProvisionedThroughputExceeded (retried)
  'Query', //                                7
  'UpdateItem StartExecution Publish', //    8
  'GetItem UpdateItem', //                   9
  'GetItem PutItem Publish SendMessage', // 10
  'GetItem DeleteItem!denied', //           11 DELETE ord-00031: AccessDeniedException
  'Query', //                               12
  'UpdateItem StartExecution Publish', //   13
];

/** Every call of the plan (92: the README's span counts less the 30 roots). */
export function plannedCalls(account: string, region: string, inst: Instrumentation): PlannedCall[] {
  const r = resources(account, region);
  const calls: PlannedCall[] = [];
  for (const invocation of ORDERS_API_INVOCATIONS)
    for (const step of invocation.split(' ')) {
      const [operation = '', error] = step.split('!');
      const outcome = error === 'denied' ? 'denied' : error === 'throttle' ? 'throttle' : 'ok';
      const target: Record<string, [string, string]> = {
        GetItem: ['dynamodb:GetItem', r.ordersTable],
        PutItem: ['dynamodb:PutItem', r.ordersTable],
        UpdateItem: ['dynamodb:UpdateItem', r.ordersTable],
        DeleteItem: ['dynamodb:DeleteItem', r.ordersTable],
        Query: ['dynamodb:Query', r.ordersByCustomer],
        Publish: ['sns:Publish', r.topic],
        SendMessage: ['sqs:SendMessage', r.queue],
        StartExecution: ['states:StartExecution', r.stateMachine],
      };
      const [action, resource] = target[operation] ?? ['?', '?'];
      calls.push({ workload: 'orders-api', operation, outcome, action, resource });
    }
  // thumbnailer: 8 uploads, img-001 … img-008. HeadObject first where n % 3 === 1 (images 2, 5, 8),
  // then GetObject and PutObject; image 6 also gets PutObjectAcl (403 AccessDenied).
  // HeadObject is authorised by s3:GetObject.
  for (let n = 1; n <= 8; n++) {
    const s3 = (
      operation: string,
      action: string,
      resource: string,
      outcome: PlannedCall['outcome'] = 'ok',
    ) =>
      calls.push({
        workload: 'thumbnailer',
        operation,
        outcome,
        action,
        resource,
        recorded: resource.replace(/^(arn:aws:s3:::[^/]+)\/.*$/, '$1/*'),
      });
    if (n % 3 === 2) s3('HeadObject', 's3:GetObject', r.upload(n));
    s3('GetObject', 's3:GetObject', r.upload(n));
    s3('PutObject', 's3:PutObject', r.thumb(n));
    if (n === 6) s3('PutObjectAcl', 's3:PutObjectAcl', r.thumb(n), 'denied');
  }
  // billing-worker: 8 jobs, each: receive, secret (by name in even jobs, by ARN in odd: the same
  // secret), the invoice, the Kinesis record (job 3 addresses the stream by StreamARN only), delete.
  for (let job = 0; job < 8; job++) {
    const w = 'billing-worker' as const;
    calls.push({
      workload: w,
      operation: 'ReceiveMessage',
      outcome: 'ok',
      action: 'sqs:ReceiveMessage',
      resource: r.queue,
    });
    calls.push({
      workload: w,
      operation: 'GetSecretValue',
      outcome: 'ok',
      action: 'secretsmanager:GetSecretValue',
      resource: r.secret,
    });
    calls.push({
      workload: w,
      operation: 'UpdateItem',
      outcome: 'ok',
      action: 'dynamodb:UpdateItem',
      resource: r.invoicesTable,
    });
    calls.push({
      workload: w,
      operation: 'PutRecord',
      outcome: 'ok',
      action: 'kinesis:PutRecord',
      resource: r.stream,
      ...(job === 3 && inst === 'otel-js' ? { recorded: r.anyStream } : {}),
    });
    calls.push({
      workload: w,
      operation: 'DeleteMessage',
      outcome: 'ok',
      action: 'sqs:DeleteMessage',
      resource: r.queue,
    });
  }
  return calls;
}

/** A request the workload's policy must deny. */
export interface Probe {
  workload: WorkloadName;
  action: string;
  resource: string;
  why: string;
}

/**
 * Requests each policy must deny, besides the account and region variants of every planned call
 * (the check derives those): (a) actions of the same services that the workload never called,
 * (b) the called actions on sibling resources.
 */
export function deniedProbes(account: string, region: string): Probe[] {
  const r = resources(account, region);
  const p = (workload: WorkloadName, action: string, resource: string, why: string): Probe => ({
    workload,
    action,
    resource,
    why,
  });
  const ddb = `arn:aws:dynamodb:${region}:${account}`;
  const execution = `arn:aws:states:${region}:${account}:execution:order-pipeline:order-ord-00013`;
  return [
    // (a) never called
    p('orders-api', 'dynamodb:Scan', r.ordersTable, 'never called'),
    p('orders-api', 'dynamodb:BatchWriteItem', r.ordersTable, 'never called'),
    p('orders-api', 'dynamodb:DeleteTable', r.ordersTable, 'never called'),
    p('orders-api', 'dynamodb:Scan', r.ordersByCustomer, 'never called'),
    p('orders-api', 'sns:DeleteTopic', r.topic, 'never called'),
    p('orders-api', 'sns:Subscribe', r.topic, 'never called'),
    p('orders-api', 'sqs:PurgeQueue', r.queue, 'never called'),
    p('orders-api', 'sqs:ReceiveMessage', r.queue, 'called by billing-worker, not by orders-api'),
    p('orders-api', 'states:StopExecution', execution, 'never called'),
    p('orders-api', 'states:DeleteStateMachine', r.stateMachine, 'never called'),
    p('thumbnailer', 's3:DeleteObject', r.upload(1), 'never called'),
    p('thumbnailer', 's3:PutObject', r.upload(1), 'PutObject only on thumbnails'),
    p('thumbnailer', 's3:GetObject', r.thumb(1), 'GetObject only on uploads'),
    p('thumbnailer', 's3:PutObjectAcl', r.upload(1), 'PutObjectAcl only on thumbnails'),
    p('thumbnailer', 's3:ListBucket', 'arn:aws:s3:::uploads', 'never called'),
    p('billing-worker', 'sqs:PurgeQueue', r.queue, 'never called'),
    p('billing-worker', 'sqs:SendMessage', r.queue, 'called by orders-api, not by billing-worker'),
    p('billing-worker', 'secretsmanager:PutSecretValue', r.secret, 'never called'),
    p('billing-worker', 'secretsmanager:DeleteSecret', r.secret, 'never called'),
    p('billing-worker', 'kinesis:DeleteStream', r.stream, 'never called'),
    p('billing-worker', 'kinesis:PutRecords', r.stream, 'never called'),
    p('billing-worker', 'dynamodb:DeleteItem', r.invoicesTable, 'never called'),
    p('billing-worker', 'dynamodb:GetItem', r.invoicesTable, 'never called'),
    // (b) sibling resources
    p('orders-api', 'dynamodb:GetItem', `${ddb}:table/orders-archive`, 'sibling table'),
    p('orders-api', 'dynamodb:UpdateItem', r.invoicesTable, "billing-worker's table"),
    p('orders-api', 'dynamodb:Query', `${ddb}:table/orders/index/by-status`, 'sibling index'),
    p('orders-api', 'dynamodb:Query', `${ddb}:table/invoices/index/by-customer`, "another table's index"),
    p('orders-api', 'sns:Publish', `arn:aws:sns:${region}:${account}:order-events-test`, 'sibling topic'),
    p('orders-api', 'sqs:SendMessage', `arn:aws:sqs:${region}:${account}:order-jobs-dlq`, 'sibling queue'),
    p(
      'orders-api',
      'states:StartExecution',
      `arn:aws:states:${region}:${account}:stateMachine:order-pipeline-v2`,
      'sibling state machine',
    ),
    p(
      'thumbnailer',
      's3:GetObject',
      'arn:aws:s3:::uploads-archive/incoming/2026/11/img-001.jpg',
      'sibling bucket',
    ),
    p(
      'thumbnailer',
      's3:PutObject',
      'arn:aws:s3:::thumbnails-staging/thumbs/2026/11/img-001.jpg',
      'sibling bucket',
    ),
    p(
      'thumbnailer',
      's3:PutObjectAcl',
      'arn:aws:s3:::thumbnails-staging/thumbs/2026/11/img-006.jpg',
      'sibling bucket',
    ),
    p('billing-worker', 'dynamodb:UpdateItem', r.ordersTable, "orders-api's table"),
    p(
      'billing-worker',
      'sqs:ReceiveMessage',
      `arn:aws:sqs:${region}:${account}:order-jobs-dlq`,
      'sibling queue',
    ),
    p(
      'billing-worker',
      'secretsmanager:GetSecretValue',
      `arn:aws:secretsmanager:${region}:${account}:secret:billing/other-api-key-AbCdEf`,
      'sibling secret',
    ),
    p(
      'billing-worker',
      'secretsmanager:GetSecretValue',
      `arn:aws:secretsmanager:${region}:${account}:secret:billing/stripe-api-key-XyZ123`,
      'same name, another secret (suffix)',
    ),
    p(
      'billing-worker',
      'kinesis:PutRecord',
      `arn:aws:kinesis:${region}:${account}:stream/invoice-events-replay`,
      'sibling stream',
    ),
  ];
}

/**
 * The same ARN in another account or region, where the ARN has one (S3 object ARNs have neither).
 * `null` when the ARN has no such field.
 */
export function withAccount(arn: string, account: string): string | null {
  const parts = arn.split(':');
  if (parts.length < 6 || !/^\d{12}$/.test(parts[4] ?? '')) return null;
  parts[4] = account;
  return parts.join(':');
}

export function withRegion(arn: string, region: string): string | null {
  const parts = arn.split(':');
  if (parts.length < 6 || !parts[3]) return null;
  parts[3] = region;
  return parts.join(':');
}
