/**
 * Child process: runs one execution environment's invocations (Lambda) or jobs (ECS) with REAL
 * AWS SDK v3 clients pointed at the local stub, under OpenTelemetry instrumentation.
 *
 * Environment:
 * - OTS_ENV: JSON of one plan Environment; OTS_STUB_PORT; OTS_TMP (scratch directory);
 * - OTS_MODE=otel (default): our own SDK set-up (tracing.ts); the captured spans are written as
 *   JSON to OTS_OUT.
 * - OTS_MODE=adot: ADOT was loaded with `--require …/register` and exports by itself (adot.ts).
 * Lambda environments also get what the Lambda runtime sets (AWS_LAMBDA_FUNCTION_NAME,
 * LAMBDA_TASK_ROOT, _HANDLER, …), set by capture.ts / adot.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SpanKind, trace } from '@opentelemetry/api';
import { sdkInput, stubClientConfig } from '../../common/sdk-calls.js';
import type { Environment, Step, Unit } from './plan.js';
import type { RawCapture } from './tracing.js';

const env = JSON.parse(process.env.OTS_ENV ?? '{}') as Environment;
const mode = process.env.OTS_MODE ?? 'otel';
const endpoint = `http://127.0.0.1:${process.env.OTS_STUB_PORT}`;

// 1. Tracing first, so the instrumentation's require hooks see the AWS SDK modules load.
const tracing = mode === 'otel' ? await (await import('./tracing.js')).setupTracing(env) : undefined;

// 2. The AWS SDK v3 clients (loaded only now).
const ddbMod = await import('@aws-sdk/client-dynamodb');
const s3Mod = await import('@aws-sdk/client-s3');
const sqsMod = await import('@aws-sdk/client-sqs');
const snsMod = await import('@aws-sdk/client-sns');
const sfnMod = await import('@aws-sdk/client-sfn');
const smMod = await import('@aws-sdk/client-secrets-manager');
const kinesisMod = await import('@aws-sdk/client-kinesis');

const common = stubClientConfig(env.region, endpoint);

// Clients are created once, outside the handler, as real functions do.
const ddb = new ddbMod.DynamoDBClient(common);
const s3 = new s3Mod.S3Client({ ...common, forcePathStyle: true });
const sqs = new sqsMod.SQSClient(common);
const sns = new snsMod.SNSClient(common);
const sfn = new sfnMod.SFNClient(common);
const secrets = new smMod.SecretsManagerClient(common);
// The Kinesis client's default request handler speaks HTTP/2: it gets the stub's h2c port.
const kinesis = new kinesisMod.KinesisClient({
  ...common,
  endpoint: `http://127.0.0.1:${process.env.OTS_STUB_H2_PORT}`,
});

/** Run one step. AWS errors are caught and swallowed, as a handler that maps them to a 4xx would. */
async function run(step: Step): Promise<void> {
  try {
    switch (step.kind) {
      case 'ddb.getItem':
        await ddb.send(new ddbMod.GetItemCommand(sdkInput.getItem(step)));
        break;
      case 'ddb.putItem':
        await ddb.send(new ddbMod.PutItemCommand(sdkInput.putItem(step)));
        break;
      case 'ddb.updateItem':
        await ddb.send(new ddbMod.UpdateItemCommand(sdkInput.updateItem(step)));
        break;
      case 'ddb.deleteItem':
        await ddb.send(new ddbMod.DeleteItemCommand(sdkInput.deleteItem(step)));
        break;
      case 'ddb.query':
        await ddb.send(new ddbMod.QueryCommand(sdkInput.query(step)));
        break;
      case 's3.getObject': {
        const out = await s3.send(new s3Mod.GetObjectCommand(sdkInput.getObject(step)));
        await out.Body?.transformToString();
        break;
      }
      case 's3.putObject':
        await s3.send(new s3Mod.PutObjectCommand(sdkInput.putObject(step)));
        break;
      case 's3.headObject':
        await s3.send(new s3Mod.HeadObjectCommand(sdkInput.headObject(step)));
        break;
      case 's3.putObjectAcl':
        await s3.send(new s3Mod.PutObjectAclCommand(sdkInput.putObjectAcl(step)));
        break;
      case 'sns.publish':
        await sns.send(new snsMod.PublishCommand(sdkInput.publish(step)));
        break;
      case 'sqs.sendMessage':
        await sqs.send(new sqsMod.SendMessageCommand(sdkInput.sendMessage(step)));
        break;
      case 'sqs.receiveMessage':
        await sqs.send(new sqsMod.ReceiveMessageCommand(sdkInput.receiveMessage(step)));
        break;
      case 'sqs.deleteMessage':
        await sqs.send(new sqsMod.DeleteMessageCommand(sdkInput.deleteMessage(step)));
        break;
      case 'sfn.startExecution':
        await sfn.send(new sfnMod.StartExecutionCommand(sdkInput.startExecution(step)));
        break;
      case 'secrets.getSecretValue':
        await secrets.send(new smMod.GetSecretValueCommand(sdkInput.getSecretValue(step)));
        break;
      case 'kinesis.putRecord':
        await kinesis.send(
          new kinesisMod.PutRecordCommand({
            ...(step.streamName ? { StreamName: step.streamName } : {}),
            ...(step.streamArn ? { StreamARN: step.streamArn } : {}),
            PartitionKey: step.partitionKey,
            Data: Buffer.from(JSON.stringify({ type: 'invoice.paid', orderId: step.partitionKey })),
          }),
        );
        break;
    }
  } catch {
    // Recorded on the span by the instrumentation; the handler carries on.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const units: RawCapture['units'] = [];

async function runLambda(e: Extract<Environment, { kind: 'lambda' }>): Promise<void> {
  let current: Unit | undefined;
  (globalThis as { otelSamplesHandler?: unknown }).otelSamplesHandler = async () => {
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    if (current && traceId) units.push({ unit: current.id, traceId });
    for (const step of current?.steps ?? []) await run(step);
    return { statusCode: 200 };
  };
  // Required like the Lambda runtime does, so the aws-lambda instrumentation wraps the export.
  const require = createRequire(import.meta.url);
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? '';
  const [moduleName, fnName] = (process.env._HANDLER ?? 'index.handler').split('.');
  const mod = require(path.join(taskRoot, `${moduleName}.cjs`)) as Record<
    string,
    (ev: unknown, ctx: unknown) => Promise<unknown>
  >;
  const handler = mod[fnName ?? 'handler'];
  if (!handler) throw new Error('no handler export');
  for (const unit of e.units) {
    current = unit;
    const inv = unit.lambda;
    if (!inv) throw new Error(`${unit.id}: no lambda invocation data`);
    // The context object the Node.js Lambda runtime passes to the handler.
    const lambdaContext = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: e.functionName,
      functionVersion: e.functionVersion,
      invokedFunctionArn: inv.invokedFunctionArn,
      memoryLimitInMB: String(e.memoryMb),
      awsRequestId: inv.requestId,
      logGroupName: `/aws/lambda/${e.functionName}`,
      logStreamName: e.logStreamName,
      getRemainingTimeInMillis: () => 29_000,
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
    await handler(inv.event, lambdaContext);
    await sleep(20);
  }
}

async function runEcs(e: Extract<Environment, { kind: 'ecs' }>): Promise<void> {
  // Application code: the worker wraps each job in a span of its own (no attributes), so the SDK
  // calls of one job form one trace, like the X-Ray sample's per-job segment.
  const tracer = trace.getTracer('billing-worker', '1.8.2');
  for (const unit of e.units) {
    await tracer.startActiveSpan('process-invoice-job', { kind: SpanKind.INTERNAL }, async (span) => {
      units.push({ unit: unit.id, traceId: span.spanContext().traceId });
      try {
        for (const step of unit.steps) await run(step);
      } finally {
        span.end();
      }
    });
    await sleep(20);
  }
}

/** Waits until ADOT's tracer provider's resource has its asynchronous attributes (at most 20 s). */
async function adotResourceSettled(): Promise<void> {
  type Resource = { waitForAsyncAttributes?: () => Promise<void> };
  const provider = trace.getTracerProvider() as { getDelegate?: () => { _resource?: Resource } };
  const resource = provider.getDelegate?.()._resource;
  if (!resource?.waitForAsyncAttributes)
    throw new Error("ADOT's tracer provider has no resource to wait for");
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      resource.waitForAsyncAttributes(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("ADOT's resource did not settle within 20 s")), 20_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

if (env.kind === 'lambda') await runLambda(env);
else {
  // Under ADOT, the ECS detector's attributes arrive asynchronously (metadata endpoint), and ADOT
  // does not wait for them: a batch exported before they settle carries a resource without any
  // aws.ecs.*/cloud.* attribute ("Accessing resource attributes before async attributes settled").
  // The worker waits for the provider's resource to settle (sdk-trace-base 2.x keeps it in
  // `_resource`) instead of a fixed 1.5 s head start, as a real worker would start polling a moment
  // after start-up anyway. When the detector gave up (its 1 s timeout), the resource settles without
  // the ECS attributes: adot.ts sees that and runs this environment again (capture.ts,
  // resourceProblem).
  if (mode === 'adot') await adotResourceSettled();
  await runEcs(env);
}

if (tracing) {
  await tracing.provider.forceFlush();
  fs.writeFileSync(process.env.OTS_OUT ?? 'capture.json', JSON.stringify(tracing.dump(units)));
} else {
  // ADOT: flush its provider so the last batch reaches the local OTLP receiver.
  const provider = trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } };
  await provider.getDelegate?.().forceFlush?.();
  fs.writeFileSync(process.env.OTS_OUT ?? 'units.json', JSON.stringify(units));
}
