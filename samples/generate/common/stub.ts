/**
 * A local stand-in for the AWS endpoints the workloads of both sample generators call (X-Ray in
 * samples/generate, OpenTelemetry in samples/generate/otel). It speaks just enough of each protocol
 * for the AWS SDK v3 clients to parse a response, returns a generator's deliberate errors on the
 * inputs its plan names (StubConfig.failures), and serves the ECS task metadata endpoint (v4) that
 * OpenTelemetry's ECS resource detector reads. Nothing here ever leaves 127.0.0.1. Node builtins
 * only: each generator has its own install.
 *
 * Protocols, as the installed clients send them:
 * - DynamoDB, SQS, SFN: AWS JSON 1.0 (`X-Amz-Target: DynamoDB_20120810.GetItem`, `AmazonSQS.SendMessage`,
 *   `AWSStepFunctions.StartExecution`). SQS switched from query to JSON in 2023-2024 SDK versions.
 * - Secrets Manager, Kinesis, KMS: AWS JSON 1.1 (`secretsmanager.GetSecretValue`,
 *   `Kinesis_20131202.PutRecord`, `TrentService.Decrypt`).
 * - SNS, STS: query protocol (form body `Action=Publish`), XML responses.
 * - S3: REST-XML, path-style (`/bucket/key`).
 * - Lambda: REST-JSON (`POST /2015-03-31/functions/{name}/invocations`).
 *
 * Every client speaks HTTP/1.1 to `port`, except Kinesis, whose default request handler speaks
 * HTTP/2: it gets `h2Port` (cleartext HTTP/2 with prior knowledge).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { RECEIPT_HANDLE } from './sdk-calls.js';
import { digits, hex } from './seed.js';

/** A role session in the stub's account, as named in an AccessDenied message. */
export interface RoleSession {
  role: string;
  session: string;
}

/** The deliberate failures: the inputs the stub answers with a real AWS error shape. */
export interface Failures {
  /** PutItem of the item with this key: ConditionalCheckFailedException (HTTP 400). */
  conditionalPutKey?: string;
  /**
   * UpdateItem of this key: ProvisionedThroughputExceededException (HTTP 400), on every attempt,
   * so the SDK retries and gives up.
   */
  throttledUpdateKey?: string;
  /** DeleteItem on this table: AccessDeniedException (HTTP 400), as this role session. */
  deniedDelete?: RoleSession & { table: string };
  /** PutObjectAcl, on any object: S3's 403 AccessDenied, as this role session. */
  deniedPutObjectAcl?: RoleSession;
  /** Lambda Invoke whose payload contains this text: 429 TooManyRequestsException. */
  throttledInvoke?: string;
}

/** An ECS task whose metadata endpoint (v4) the stub serves at `/v4/<dockerId>` (and `…/task`). */
export interface EcsTask {
  /** The name of the execution environment (in the generator's output); seeds the container ARN. */
  env: string;
  account: string;
  region: string;
  cluster: string;
  taskFamily: string;
  taskRevision: string;
  taskId: string;
  containerName: string;
  /** Fargate-style `<taskId>-<n>` docker id, read by the ECS detector from the cgroup file. */
  dockerId: string;
  availabilityZone: string;
}

export interface StubConfig {
  /**
   * The account and region of what the stub names by itself: the ARNs of secrets and KMS keys, and
   * the principal and resource of its AccessDenied messages.
   */
  account: string;
  region: string;
  /**
   * The start of the samples' week (epoch seconds). The stub's dates fall on it: execution starts,
   * secret creation, and (at 08:00) the objects' last modification.
   */
  weekStart: number;
  /**
   * The seeds of the request ids and message ids the stub makes up (`n` counts AWS requests from
   * 1). They are each generator's own: its committed samples record the ids.
   */
  seeds: {
    request(n: number): string;
    /** SQS SendMessage and ReceiveMessage, SNS Publish; `body` is the message. */
    message(n: number, body: string): string;
  };
  failures: Failures;
  /** Who STS GetCallerIdentity says is calling (a role session in this account). */
  caller?: RoleSession & { account: string; roleId: string };
  /** The ECS tasks whose metadata endpoint the stub serves. */
  ecs?: EcsTask[];
}

export interface StubLogEntry {
  n: number;
  method: string;
  path: string;
  target: string;
  status: number;
}

export interface StubCheckpoint {
  n: number;
  logLength: number;
}

export interface Stub {
  /** HTTP/1.1 port: every client except Kinesis. */
  port: number;
  /** Cleartext HTTP/2 (h2c, prior knowledge) port: the Kinesis client's default handler is HTTP/2. */
  h2Port: number;
  log: StubLogEntry[];
  /** Where the request counter (and so every request id to come) stands. */
  checkpoint(): StubCheckpoint;
  /** Back to a checkpoint: a workload run again gets the same request ids as its first run. */
  rewind(to: StubCheckpoint): void;
  close(): Promise<void>;
}

/**
 * The exact text of an AccessDenied for an identity-policy miss, as DynamoDB and S3 word it (S3 quotes
 * the resource).
 */
function accessDeniedMessage(account: string, who: RoleSession, action: string, resource: string): string {
  return (
    `User: arn:aws:sts::${account}:assumed-role/${who.role}/${who.session} is not authorized to perform: ` +
    `${action} on resource: ${resource} because no identity-based policy allows the ${action} action`
  );
}

const THROTTLED_MESSAGE =
  'The level of configured provisioned throughput for the table was exceeded. Consider increasing your ' +
  'provisioning level with the UpdateTable API.';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** A UUID-shaped request (or message) id from a seed. */
function requestUuid(seed: string): string {
  const h = hex(`req:${seed}`, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** DynamoDB-style request id: 52 upper-case alphanumerics. */
function ddbRequestId(n: number): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const h = hex(`ddb-req:${n}`, 104);
  let out = '';
  for (let i = 0; i < 52; i++) out += alphabet[parseInt(h.slice(i * 2, i * 2 + 2), 16) % 36];
  return out;
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

function dynamodb(c: StubConfig, op: string, req: Record<string, unknown>): Reply {
  const { failures } = c;
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
      if (keyOf(req.Item) === failures.conditionalPutKey)
        return err('ConditionalCheckFailedException', 'The conditional request failed');
      return json(200, {});
    case 'UpdateItem':
      if (keyOf(req.Key) === failures.throttledUpdateKey)
        return err('ProvisionedThroughputExceededException', THROTTLED_MESSAGE);
      return json(200, { Attributes: { status: { S: 'PAID' } } });
    case 'DeleteItem': {
      const denied = failures.deniedDelete;
      if (denied && table === denied.table)
        return json(400, {
          __type: 'com.amazon.coral.service#AccessDeniedException',
          Message: accessDeniedMessage(
            c.account,
            denied,
            'dynamodb:DeleteItem',
            `arn:aws:dynamodb:${c.region}:${c.account}:table/${table}`,
          ),
        });
      return json(200, {});
    }
    case 'Query':
      return json(200, { Items: [{ orderId: { S: 'ord-00011' } }], Count: 1, ScannedCount: 1 });
    case 'Scan':
      return json(200, { Items: [], Count: 0, ScannedCount: 0 });
    case 'BatchGetItem': {
      const tables = Object.keys((req.RequestItems ?? {}) as object);
      return json(200, { Responses: Object.fromEntries(tables.map((t) => [t, []])), UnprocessedKeys: {} });
    }
    default:
      return err('UnknownOperationException', `stub: ${op}`);
  }
}

function sqs(c: StubConfig, op: string, req: Record<string, unknown>, n: number): Reply {
  switch (op) {
    case 'SendMessage': {
      const body = String(req.MessageBody ?? '');
      return json(200, { MessageId: requestUuid(c.seeds.message(n, body)), MD5OfMessageBody: md5(body) });
    }
    case 'ReceiveMessage': {
      const body = JSON.stringify({ type: 'invoice', orderId: 'from-queue' });
      return json(200, {
        Messages: [
          {
            MessageId: requestUuid(c.seeds.message(n, body)),
            ReceiptHandle: RECEIPT_HANDLE,
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

function s3(c: StubConfig, method: string, url: URL, n: number): Reply {
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const s3ids = {
    'x-amz-request-id': hex(`s3req:${n}`, 16).toUpperCase(),
    'x-amz-id-2': Buffer.from(hex(`s3id2:${n}`, 48), 'hex').toString('base64'),
  };
  const withIds = (r: Reply): Reply => ({ ...r, headers: { ...r.headers, ...s3ids } });
  const modified = new Date((c.weekStart + 8 * 3600) * 1000);
  const denied = c.failures.deniedPutObjectAcl;
  if (method === 'PUT' && url.searchParams.has('acl') && denied) {
    // S3's detailed same-account message quotes the resource ARN, unlike the JSON services.
    // [unverified against a live bucket; modelled on published examples]
    const message = accessDeniedMessage(
      c.account,
      denied,
      's3:PutObjectAcl',
      `"arn:aws:s3:::${bucket}/${key}"`,
    );
    return withIds(
      xml(
        403,
        `<Error><Code>AccessDenied</Code><Message>${message.replace(/"/g, '&quot;')}</Message>` +
          `<RequestId>${s3ids['x-amz-request-id']}</RequestId><HostId>${s3ids['x-amz-id-2']}</HostId></Error>`,
      ),
    );
  }
  if (method === 'GET' && url.searchParams.get('list-type') === '2') {
    const prefix = url.searchParams.get('prefix') ?? '';
    return withIds(
      xml(
        200,
        `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name>` +
          `<Prefix>${prefix}</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>` +
          `<Contents><Key>${prefix}summary.json</Key><LastModified>${modified.toISOString()}</LastModified>` +
          `<ETag>&quot;${md5(prefix)}&quot;</ETag><Size>512</Size><StorageClass>STANDARD</StorageClass></Contents>` +
          `</ListBucketResult>`,
      ),
    );
  }
  const body = method === 'GET' ? `stub-bytes-of:${key}` : '';
  const headers: Record<string, string> = {
    ...s3ids,
    etag: `"${md5(key)}"`,
    'last-modified': modified.toUTCString(),
  };
  if (method === 'GET' || method === 'HEAD') {
    headers['content-type'] = 'image/jpeg';
    headers['x-stub-content-length'] = String(Buffer.byteLength(`stub-bytes-of:${key}`));
  }
  return { status: 200, headers, body };
}

/** The query protocol (SNS, STS): form body in, XML out. */
function query(c: StubConfig, service: string, form: URLSearchParams, requestId: string, n: number): Reply {
  const action = form.get('Action') ?? '';
  const meta = `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`;
  if (service === 'sns' && action === 'Publish') {
    const messageId = requestUuid(c.seeds.message(n, form.get('Message') ?? ''));
    return xml(
      200,
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}` +
        `</MessageId></PublishResult>${meta}</PublishResponse>`,
    );
  }
  if (service === 'sts' && action === 'GetCallerIdentity' && c.caller) {
    const { account, role, session, roleId } = c.caller;
    return xml(
      200,
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
        `<Arn>arn:aws:sts::${account}:assumed-role/${role}/${session}</Arn>` +
        `<UserId>${roleId}:${session}</UserId><Account>${account}</Account>` +
        `</GetCallerIdentityResult>${meta}</GetCallerIdentityResponse>`,
    );
  }
  return xml(
    400,
    `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>stub: ${action}</Message></Error>${meta}</ErrorResponse>`,
  );
}

function secretsManager(c: StubConfig, req: Record<string, unknown>): Reply {
  // By name, or by full ARN (`…:secret:<name>-<6 random characters>`).
  const id = String(req.SecretId ?? '');
  const name = id.startsWith('arn:') ? (id.split(':secret:')[1] ?? '').replace(/-[A-Za-z0-9]{6}$/, '') : id;
  return json(
    200,
    {
      ARN: `arn:aws:secretsmanager:${c.region}:${c.account}:secret:${name}-AbCdEf`,
      Name: name,
      SecretString: '{"apiKey":"sk_test_stub"}',
      VersionId: requestUuid('secret-version'),
      VersionStages: ['AWSCURRENT'],
      CreatedDate: c.weekStart,
    },
    'application/x-amz-json-1.1',
  );
}

function lambdaInvoke(c: StubConfig, payload: string): Reply {
  const marker = c.failures.throttledInvoke;
  if (marker && payload.includes(marker)) {
    const reply = json(
      429,
      { Type: 'User', message: 'Rate Exceeded.', Reason: 'ConcurrentInvocationLimitExceeded' },
      'application/json',
    );
    reply.headers['x-amzn-errortype'] = 'TooManyRequestsException';
    return reply;
  }
  const reply = json(200, { ok: true, pages: 3 }, 'application/json');
  reply.headers['x-amz-executed-version'] = '$LATEST';
  return reply;
}

/** ECS task metadata endpoint v4: `${ECS_CONTAINER_METADATA_URI_V4}` and `…/task`. */
function ecsMetadata(task: EcsTask, whole: boolean): Reply {
  const base = `arn:aws:ecs:${task.region}:${task.account}`;
  const taskArn = `${base}:task/${task.cluster}/${task.taskId}`;
  const container = {
    DockerId: task.dockerId,
    Name: task.containerName,
    DockerName: task.containerName,
    Image: `${task.account}.dkr.ecr.${task.region}.amazonaws.com/${task.taskFamily}:1.8.2`,
    Labels: {
      'com.amazonaws.ecs.cluster': `${base}:cluster/${task.cluster}`,
      'com.amazonaws.ecs.container-name': task.containerName,
      'com.amazonaws.ecs.task-arn': taskArn,
      'com.amazonaws.ecs.task-definition-family': task.taskFamily,
      'com.amazonaws.ecs.task-definition-version': task.taskRevision,
    },
    DesiredStatus: 'RUNNING',
    KnownStatus: 'RUNNING',
    Limits: { CPU: 2, Memory: 4096 },
    Type: 'NORMAL',
    LogDriver: 'awslogs',
    LogOptions: {
      'awslogs-group': `/ecs/${task.taskFamily}`,
      'awslogs-region': task.region,
      'awslogs-stream': `ecs/${task.containerName}/${task.taskId}`,
    },
    ContainerARN: `${base}:container/${task.cluster}/${task.taskId}/${hex(`container:${task.env}`, 8)}-${hex(`container2:${task.env}`, 4)}-${hex(`container3:${task.env}`, 4)}-${hex(`container4:${task.env}`, 4)}-${hex(`container5:${task.env}`, 12)}`,
    Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: ['10.0.12.87'] }],
  };
  if (!whole) return json(200, container, 'application/json');
  return json(
    200,
    {
      Cluster: `${base}:cluster/${task.cluster}`,
      TaskARN: taskArn,
      Family: task.taskFamily,
      Revision: task.taskRevision,
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 2, Memory: 4096 },
      AvailabilityZone: task.availabilityZone,
      LaunchType: 'FARGATE',
      Containers: [container],
    },
    'application/json',
  );
}

export async function startStub(config: StubConfig): Promise<Stub> {
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
        const task = config.ecs?.find((e) => e.dockerId === meta[1]);
        const reply = task ? ecsMetadata(task, Boolean(meta[2])) : json(404, { error: 'unknown container' });
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
      const requestId = requestUuid(config.seeds.request(n));
      let reply: Reply;
      const parseJson = (): Record<string, unknown> =>
        raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      if (target.startsWith('DynamoDB_20120810.')) {
        reply = dynamodb(config, target.split('.')[1] ?? '', parseJson());
        reply.headers['x-amzn-requestid'] = ddbRequestId(n);
      } else if (target.startsWith('AmazonSQS.')) {
        reply = sqs(config, target.split('.')[1] ?? '', parseJson(), n);
      } else if (target === 'AWSStepFunctions.StartExecution') {
        const body = parseJson();
        const arn = String(body.stateMachineArn ?? '').replace(':stateMachine:', ':execution:');
        reply = json(200, {
          executionArn: `${arn}:${String(body.name ?? 'exec')}`,
          startDate: config.weekStart,
        });
      } else if (target === 'secretsmanager.GetSecretValue') {
        reply = secretsManager(config, parseJson());
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
      } else if (target.startsWith('TrentService.')) {
        reply = json(200, {
          KeyId: `arn:aws:kms:${config.region}:${config.account}:key/stub`,
          Plaintext: 'c3R1Yg==',
        });
      } else if (url.pathname.startsWith('/2015-03-31/functions/')) {
        reply = lambdaInvoke(config, raw);
      } else if (url.pathname === '/v1/charges') {
        // Not AWS: the third-party HTTPS API the X-Ray ECS worker calls (api.stripe.com).
        reply = json(200, { id: `ch_${hex(`charge:${n}`, 24)}`, status: 'succeeded' }, 'application/json');
      } else if (signingService === 'sns' || signingService === 'sts') {
        reply = query(config, signingService, new URLSearchParams(raw), requestId, n);
      } else if (signingService === 's3') {
        reply = s3(config, req.method ?? 'GET', url, n);
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
