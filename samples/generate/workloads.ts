/**
 * Child process: runs one workload's invocations with the REAL aws-xray-sdk-core and AWS SDK v3
 * clients, pointed at the local stub (HTTP) and the generator's fake daemon (UDP).
 *
 * Lambda workloads run with LAMBDA_TASK_ROOT set, so the X-Ray SDK initialises its Lambda mode
 * exactly as in a function: a facade segment fed from `_X_AMZN_TRACE_ID`, streaming threshold 0,
 * every subsegment sent as its own UDP packet. The ECS workload uses automatic mode with real
 * segments and the ECS plugin.
 *
 * Environment: XLP_WORKLOAD (JSON of a LambdaWorkload or EcsWorkload), XLP_STUB_PORT,
 * XLP_DAEMON_PORT.
 */
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import AWSXRay from 'aws-xray-sdk-core';
import {
  BatchGetItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sdkInput, stubClientConfig } from './common/sdk-calls.js';
import type { EcsWorkload, LambdaWorkload, Step } from './plan.js';

const workload = JSON.parse(process.env.XLP_WORKLOAD ?? '{}') as LambdaWorkload | EcsWorkload;
const stubPort = Number(process.env.XLP_STUB_PORT);
const daemonPort = Number(process.env.XLP_DAEMON_PORT);

// Quiet SDK logger: the Lambda facade warns on every invocation outside a real runtime.
AWSXRay.setLogger({ error: () => {}, warn: () => {}, info: () => {}, debug: () => {} });
AWSXRay.setDaemonAddress(`127.0.0.1:${daemonPort}`);
AWSXRay.setContextMissingStrategy('LOG_ERROR');
if (workload.kind === 'ecs') AWSXRay.config([AWSXRay.plugins.ECSPlugin]);

const common = stubClientConfig(workload.region, `http://127.0.0.1:${stubPort}`);

// Clients are created once, outside the handler, as real functions do.
const ddb = AWSXRay.captureAWSv3Client(new DynamoDBClient(common));
const s3 = AWSXRay.captureAWSv3Client(new S3Client({ ...common, forcePathStyle: true }));
const sqs = AWSXRay.captureAWSv3Client(new SQSClient(common));
const sns = AWSXRay.captureAWSv3Client(new SNSClient(common));
const lambda = AWSXRay.captureAWSv3Client(new LambdaClient(common));
const sfn = AWSXRay.captureAWSv3Client(new SFNClient(common));
const sts = AWSXRay.captureAWSv3Client(new STSClient(common));
const secrets = AWSXRay.captureAWSv3Client(new SecretsManagerClient(common));

/**
 * Outgoing HTTPS through the X-Ray HTTP patcher, but with every socket redirected to the stub in
 * plain text, so the subsegment records the real https:// URL without any network access.
 */
class LoopbackAgent extends https.Agent {
  override createConnection(): Duplex {
    return net.connect(stubPort, '127.0.0.1');
  }
}
const tracedHttps = AWSXRay.captureHTTPs(https);
const loopback = new LoopbackAgent({ keepAlive: false });

function post(host: string, path: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = tracedHttps.request(
      {
        host,
        path,
        method: 'POST',
        agent: loopback,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Run one step. AWS errors are caught and swallowed, as a handler that maps them to a 4xx would. */
async function run(step: Step): Promise<void> {
  try {
    switch (step.kind) {
      case 'ddb.getItem':
        await ddb.send(new GetItemCommand(sdkInput.getItem(step)));
        break;
      case 'ddb.putItem':
        await ddb.send(new PutItemCommand(sdkInput.putItem(step)));
        break;
      case 'ddb.updateItem':
        await ddb.send(new UpdateItemCommand(sdkInput.updateItem(step)));
        break;
      case 'ddb.deleteItem':
        await ddb.send(new DeleteItemCommand(sdkInput.deleteItem(step)));
        break;
      case 'ddb.query':
        await ddb.send(new QueryCommand(sdkInput.query(step)));
        break;
      case 'ddb.batchGetItem':
        await ddb.send(
          new BatchGetItemCommand({
            RequestItems: Object.fromEntries(
              step.tables.map((t, i) => [t, { Keys: [{ id: { S: step.keys[i] ?? 'x' } }] }]),
            ),
          }),
        );
        break;
      case 'ddb.scan':
        await ddb.send(new ScanCommand({ TableName: step.table, Limit: step.limit }));
        break;
      case 's3.getObject': {
        const out = await s3.send(new GetObjectCommand(sdkInput.getObject(step)));
        await out.Body?.transformToString();
        break;
      }
      case 's3.putObject':
        await s3.send(new PutObjectCommand(sdkInput.putObject(step)));
        break;
      case 's3.headObject':
        await s3.send(new HeadObjectCommand(sdkInput.headObject(step)));
        break;
      case 's3.putObjectAcl':
        await s3.send(new PutObjectAclCommand(sdkInput.putObjectAcl(step)));
        break;
      case 's3.listObjectsV2':
        await s3.send(new ListObjectsV2Command({ Bucket: step.bucket, Prefix: step.prefix }));
        break;
      case 'sns.publish':
        await sns.send(new PublishCommand(sdkInput.publish(step)));
        break;
      case 'sqs.sendMessage':
        await sqs.send(new SendMessageCommand(sdkInput.sendMessage(step)));
        break;
      case 'sqs.receiveMessage':
        await sqs.send(new ReceiveMessageCommand(sdkInput.receiveMessage(step)));
        break;
      case 'sqs.deleteMessage':
        await sqs.send(new DeleteMessageCommand(sdkInput.deleteMessage(step)));
        break;
      case 'sfn.startExecution':
        await sfn.send(new StartExecutionCommand(sdkInput.startExecution(step)));
        break;
      case 'lambda.invoke':
        await lambda.send(
          new InvokeCommand({
            FunctionName: step.functionName,
            Payload: Buffer.from(JSON.stringify({ doc: step.doc })),
          }),
        );
        break;
      case 'sts.getCallerIdentity':
        await sts.send(new GetCallerIdentityCommand({}));
        break;
      case 'secrets.getSecretValue':
        await secrets.send(new GetSecretValueCommand(sdkInput.getSecretValue(step)));
        break;
      case 'http.kms':
        // An uninstrumented KMS call (raw HTTPS, not an SDK client): X-Ray only sees a remote host.
        await post(
          'kms.eu-west-1.amazonaws.com',
          '/',
          { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Decrypt' },
          JSON.stringify({ CiphertextBlob: 'AQICAHg=' }),
        );
        break;
      case 'http.stripe':
        await post(
          'api.stripe.com',
          '/v1/charges',
          { 'content-type': 'application/x-www-form-urlencoded' },
          `amount=4250&currency=eur&description=${step.orderId}`,
        );
        break;
      case 'custom':
        await AWSXRay.captureAsyncFunc(step.name, async (sub) => {
          try {
            for (const s of step.steps) await run(s);
          } finally {
            sub?.close();
          }
        });
        break;
    }
  } catch {
    // Recorded on the subsegment by the X-Ray middleware; the handler carries on.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (workload.kind === 'lambda') {
    for (const inv of workload.invocations) {
      const parent = workload.shape === '2023' ? inv.invocationId : inv.functionSegmentId;
      // What the Lambda runtime puts in the environment for each invocation.
      process.env._X_AMZN_TRACE_ID = `Root=${inv.traceId};Parent=${parent};Sampled=1`;
      for (const step of inv.steps) await run(step);
      await sleep(30);
    }
  } else {
    const ns = AWSXRay.getNamespace();
    for (const task of workload.tasks) {
      const segment = new AWSXRay.Segment(workload.name, task.traceId);
      await ns.runAndReturn(async () => {
        AWSXRay.setSegment(segment);
        for (const step of task.steps) await run(step);
      });
      segment.close();
      await sleep(30);
    }
  }
  // Let the batched UDP sends drain before exiting.
  await sleep(300);
}

await main();
