/**
 * A local stand-in for the AWS endpoints the workloads call (adapted from
 * samples/generate/stub.ts). It speaks just enough of each protocol for the AWS SDK v3
 * clients to parse a response, returns the deliberate errors on well-known inputs, and serves the
 * ECS task metadata endpoint (v4) that the real ECS resource detector reads. Nothing here ever
 * leaves 127.0.0.1.
 *
 * Protocols, as the installed clients send them:
 * - DynamoDB, SQS, SFN: AWS JSON 1.0 (`X-Amz-Target: DynamoDB_20120810.GetItem`, `AmazonSQS.…`,
 *   `AWSStepFunctions.StartExecution`).
 * - Secrets Manager, Kinesis: AWS JSON 1.1 (`secretsmanager.GetSecretValue`,
 *   `Kinesis_20131202.PutRecord`).
 * - SNS: query protocol (form body `Action=Publish`), XML responses.
 * - S3: REST-XML, path-style (`/bucket/key`).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { ACCOUNT, hex, REGION, type EcsEnvironment } from './plan.js';

export interface StubLogEntry {
  n: number;
  method: string;
  path: string;
  target: string;
  status: number;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** DynamoDB-style request id: 52 upper-case alphanumerics. */
function ddbRequestId(n: number): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const h = hex(`ddb-req:${n}`, 104);
  let out = '';
  for (let i = 0; i < 52; i++) out += alphabet[parseInt(h.slice(i * 2, i * 2 + 2), 16) % 36];
  return out;
}
function digits(seed: string, count: number): string {
  const h = hex(seed, count * 2);
  let out = '';
  for (let i = 0; i < count; i++) out += String(parseInt(h.slice(i * 2, i * 2 + 2), 16) % 10);
  return out;
}
function uuidRequestId(seed: string): string {
  const h = hex(`req:${seed}`, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The exact text of DynamoDB's AccessDenied for an identity-policy miss. */
export const ACCESS_DENIED_DELETE =
  `User: arn:aws:sts::${ACCOUNT}:assumed-role/orders-api-role/orders-api is not authorized to perform: ` +
  `dynamodb:DeleteItem on resource: arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders because no ` +
  'identity-based policy allows the dynamodb:DeleteItem action';

export const THROTTLED =
  'The level of configured provisioned throughput for the table was exceeded. Consider increasing your ' +
  'provisioning level with the UpdateTable API.';

/** S3's detailed same-account AccessDenied message (quotes the resource ARN). */
function s3AccessDenied(bucket: string, key: string): string {
  return (
    `User: arn:aws:sts::${ACCOUNT}:assumed-role/thumbnailer-role/thumbnailer is not authorized to perform: ` +
    `s3:PutObjectAcl on resource: "arn:aws:s3:::${bucket}/${key}" because no identity-based policy allows ` +
    'the s3:PutObjectAcl action'
  );
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const json = (status: number, body: unknown, type = 'application/x-amz-json-1.0'): Reply => ({
  status,
  headers: { 'content-type': type },
  body: JSON.stringify(body),
});
const xml = (status: number, body: string): Reply => ({
  status,
  headers: { 'content-type': 'text/xml' },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
});

function dynamodb(op: string, req: Record<string, unknown>): Reply {
  const table = typeof req.TableName === 'string' ? req.TableName : '';
  const keyOf = (o: unknown): string => {
    const rec = (o ?? {}) as Record<string, { S?: string }>;
    return Object.values(rec)[0]?.S ?? '';
  };
  const err = (type: string, message: string): Reply =>
    json(400, { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
  switch (op) {
    case 'GetItem':
      return json(200, {
        Item: { orderId: { S: keyOf(req.Key) }, status: { S: 'NEW' }, total: { N: '42.50' } },
      });
    case 'PutItem':
      return json(200, {});
    case 'UpdateItem':
      if (keyOf(req.Key) === 'ord-00077') return err('ProvisionedThroughputExceededException', THROTTLED);
      return json(200, { Attributes: { status: { S: 'PAID' } } });
    case 'DeleteItem':
      if (table === 'orders')
        return json(400, {
          __type: 'com.amazon.coral.service#AccessDeniedException',
          Message: ACCESS_DENIED_DELETE,
        });
      return json(200, {});
    case 'Query':
      return json(200, { Items: [{ orderId: { S: 'ord-00011' } }], Count: 1, ScannedCount: 1 });
    default:
      return err('UnknownOperationException', `stub: ${op}`);
  }
}

function sqs(op: string, req: Record<string, unknown>, n: number): Reply {
  switch (op) {
    case 'SendMessage': {
      const body = String(req.MessageBody ?? '');
      return json(200, { MessageId: uuidRequestId(`msg:${n}`), MD5OfMessageBody: md5(body) });
    }
    case 'ReceiveMessage': {
      const body = JSON.stringify({ type: 'invoice', orderId: 'from-queue' });
      return json(200, {
        Messages: [
          {
            MessageId: uuidRequestId(`msg:${n}`),
            ReceiptHandle: `AQEB${Buffer.from(hex(`rh:${n}`, 48), 'hex').toString('base64')}`,
            MD5OfBody: md5(body),
            Body: body,
          },
        ],
      });
    }
    case 'DeleteMessage':
      return json(200, {});
    default:
      return json(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `stub: ${op}` });
  }
}

function s3(method: string, url: URL, n: number): Reply {
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const s3ids = {
    'x-amz-request-id': hex(`s3req:${n}`, 16).toUpperCase(),
    'x-amz-id-2': Buffer.from(hex(`s3id2:${n}`, 48), 'hex').toString('base64'),
  };
  if (method === 'PUT' && url.searchParams.has('acl')) {
    const r = xml(
      403,
      `<Error><Code>AccessDenied</Code><Message>${s3AccessDenied(bucket, key).replace(/"/g, '&quot;')}</Message>` +
        `<RequestId>${s3ids['x-amz-request-id']}</RequestId><HostId>${s3ids['x-amz-id-2']}</HostId></Error>`,
    );
    return { ...r, headers: { ...r.headers, ...s3ids } };
  }
  const body = method === 'GET' ? `stub-bytes-of:${key}` : '';
  const headers: Record<string, string> = {
    ...s3ids,
    etag: `"${md5(key)}"`,
    'last-modified': 'Mon, 23 Nov 2026 08:00:00 GMT',
  };
  if (method === 'GET' || method === 'HEAD') {
    headers['content-type'] = 'image/jpeg';
    headers['x-stub-content-length'] = String(Buffer.byteLength(`stub-bytes-of:${key}`));
  }
  return { status: 200, headers, body };
}

function sns(form: URLSearchParams, requestId: string, n: number): Reply {
  const action = form.get('Action') ?? '';
  const meta = `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`;
  if (action === 'Publish')
    return xml(
      200,
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${uuidRequestId(
        `sns-msg:${n}`,
      )}</MessageId></PublishResult>${meta}</PublishResponse>`,
    );
  return xml(
    400,
    `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>stub: ${action}</Message></Error>${meta}</ErrorResponse>`,
  );
}

/** ECS task metadata endpoint v4: `${ECS_CONTAINER_METADATA_URI_V4}` and `…/task`. */
function ecsMetadata(env: EcsEnvironment, task: boolean): Reply {
  const base = `arn:aws:ecs:${env.region}:${env.account}`;
  const taskArn = `${base}:task/${env.cluster}/${env.taskId}`;
  const container = {
    DockerId: env.dockerId,
    Name: env.containerName,
    DockerName: env.containerName,
    Image: `${env.account}.dkr.ecr.${env.region}.amazonaws.com/${env.taskFamily}:1.8.2`,
    Labels: {
      'com.amazonaws.ecs.cluster': `${base}:cluster/${env.cluster}`,
      'com.amazonaws.ecs.container-name': env.containerName,
      'com.amazonaws.ecs.task-arn': taskArn,
      'com.amazonaws.ecs.task-definition-family': env.taskFamily,
      'com.amazonaws.ecs.task-definition-version': env.taskRevision,
    },
    DesiredStatus: 'RUNNING',
    KnownStatus: 'RUNNING',
    Limits: { CPU: 2, Memory: 4096 },
    Type: 'NORMAL',
    LogDriver: 'awslogs',
    LogOptions: {
      'awslogs-group': `/ecs/${env.taskFamily}`,
      'awslogs-region': env.region,
      'awslogs-stream': `ecs/${env.containerName}/${env.taskId}`,
    },
    ContainerARN: `${base}:container/${env.cluster}/${env.taskId}/${hex(`container:${env.env}`, 8)}-${hex(`container2:${env.env}`, 4)}-${hex(`container3:${env.env}`, 4)}-${hex(`container4:${env.env}`, 4)}-${hex(`container5:${env.env}`, 12)}`,
    Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: ['10.0.12.87'] }],
  };
  if (!task) return json(200, container, 'application/json');
  return json(
    200,
    {
      Cluster: `${base}:cluster/${env.cluster}`,
      TaskARN: taskArn,
      Family: env.taskFamily,
      Revision: env.taskRevision,
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 2, Memory: 4096 },
      AvailabilityZone: env.availabilityZone,
      LaunchType: 'FARGATE',
      Containers: [container],
    },
    'application/json',
  );
}

export interface Stub {
  /** HTTP/1.1 port: every client except Kinesis. */
  port: number;
  /** Cleartext HTTP/2 (h2c, prior knowledge) port: the Kinesis client's default handler is HTTP/2. */
  h2Port: number;
  log: StubLogEntry[];
  /** Where the request counter (and so every request id to come) stands. */
  checkpoint(): StubCheckpoint;
  /** Back to a checkpoint: an environment run again gets the same request ids as its first run. */
  rewind(to: StubCheckpoint): void;
  close(): Promise<void>;
}

export interface StubCheckpoint {
  n: number;
  logLength: number;
}

export async function startStub(opts: { ecs?: EcsEnvironment[] } = {}): Promise<Stub> {
  let n = 0;
  const log: StubLogEntry[] = [];
  type Req = http.IncomingMessage | http2.Http2ServerRequest;
  type Res = http.ServerResponse | http2.Http2ServerResponse;
  const handle = (req: Req, res: Res): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://stub');
      // The ECS metadata endpoint is not an AWS API call: it does not advance the request counter.
      const meta = /^\/v4\/([^/]+)(\/task)?$/.exec(url.pathname);
      if (meta && req.method === 'GET') {
        const env = opts.ecs?.find((e) => e.dockerId === meta[1]);
        const reply = env ? ecsMetadata(env, Boolean(meta[2])) : json(404, { error: 'unknown container' });
        res.writeHead(reply.status, {
          ...reply.headers,
          'content-length': String(Buffer.byteLength(reply.body)),
        });
        res.end(reply.body);
        return;
      }
      n++;
      const target = String(req.headers['x-amz-target'] ?? '');
      const auth = String(req.headers['authorization'] ?? '');
      // The SigV4 credential scope names the signing service: .../<region>/<service>/aws4_request
      const signingService = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? '';
      const requestId = uuidRequestId(`n:${n}`);
      let reply: Reply;
      const parseJson = (): Record<string, unknown> =>
        raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      if (target.startsWith('DynamoDB_20120810.')) {
        reply = dynamodb(target.split('.')[1] ?? '', parseJson());
        reply.headers['x-amzn-requestid'] = ddbRequestId(n);
      } else if (target.startsWith('AmazonSQS.')) {
        reply = sqs(target.split('.')[1] ?? '', parseJson(), n);
      } else if (target === 'AWSStepFunctions.StartExecution') {
        const body = parseJson();
        const arn = String(body.stateMachineArn ?? '').replace(':stateMachine:', ':execution:');
        reply = json(200, { executionArn: `${arn}:${String(body.name ?? 'exec')}`, startDate: 1795392000 });
      } else if (target === 'secretsmanager.GetSecretValue') {
        const id = String(parseJson().SecretId ?? '');
        const name = id.startsWith('arn:')
          ? (id.split(':secret:')[1] ?? '').replace(/-[A-Za-z0-9]{6}$/, '')
          : id;
        reply = json(
          200,
          {
            ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`,
            Name: name,
            SecretString: '{"apiKey":"sk_test_stub"}',
            VersionId: uuidRequestId('secret-version'),
            VersionStages: ['AWSCURRENT'],
            CreatedDate: 1795392000,
          },
          'application/x-amz-json-1.1',
        );
      } else if (target === 'Kinesis_20131202.PutRecord') {
        reply = json(
          200,
          {
            ShardId: 'shardId-000000000001',
            // 56 decimal digits, like real Kinesis sequence numbers.
            SequenceNumber: `4966${digits(`seq:${n}`, 52)}`,
          },
          'application/x-amz-json-1.1',
        );
      } else if (signingService === 'sns') {
        reply = sns(new URLSearchParams(raw), requestId, n);
      } else if (signingService === 's3') {
        reply = s3(req.method ?? 'GET', url, n);
      } else {
        reply = json(
          400,
          { message: `stub: unrecognised request ${req.method} ${url.pathname}` },
          'application/json',
        );
      }
      if (!reply.headers['x-amz-request-id'] && !reply.headers['x-amzn-requestid'])
        reply.headers['x-amzn-requestid'] = requestId;
      log.push({
        n,
        method: req.method ?? '',
        path: url.pathname,
        target: target || signingService,
        status: reply.status,
      });
      const stubLength = reply.headers['x-stub-content-length'];
      delete reply.headers['x-stub-content-length'];
      reply.headers['content-length'] =
        req.method === 'HEAD' && stubLength ? stubLength : String(Buffer.byteLength(reply.body));
      res.writeHead(reply.status, reply.headers);
      if (req.method === 'HEAD') res.end();
      else res.end(reply.body);
    });
  };
  const server = http.createServer(handle);
  const h2 = http2.createServer(handle);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    h2Port: (h2.address() as AddressInfo).port,
    log,
    checkpoint: () => ({ n, logLength: log.length }),
    rewind: (to) => {
      n = to.n;
      log.length = to.logLength;
    },
    close: async () => {
      server.closeAllConnections();
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      await new Promise<void>((resolve, reject) => h2.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
