/**
 * A local stand-in for the AWS endpoints the workloads call. It speaks just enough of each
 * protocol for the AWS SDK v3 clients to parse a response, and returns the deliberate errors on
 * well-known inputs. Nothing here ever leaves 127.0.0.1.
 *
 * Protocols (as the installed clients send them):
 * - DynamoDB, SQS, SFN: AWS JSON 1.0 (`X-Amz-Target: DynamoDB_20120810.GetItem`, `AmazonSQS.SendMessage`,
 *   `AWSStepFunctions.StartExecution`). SQS switched from query to JSON in 2023-2024 SDK versions.
 * - Secrets Manager, KMS: AWS JSON 1.1 (`secretsmanager.GetSecretValue`, `TrentService.Decrypt`).
 * - SNS, STS: query protocol (form body `Action=Publish`), XML responses.
 * - S3: REST-XML, path-style (`/bucket/key`).
 * - Lambda: REST-JSON (`POST /2015-03-31/functions/{name}/invocations`).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hex } from './plan.js';

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
function uuidRequestId(n: number): string {
  const h = hex(`req:${n}`, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const ACCESS_DENIED_DELETE =
  'User: arn:aws:sts::123456789012:assumed-role/orders-api-role/orders-api is not authorized to perform: ' +
  'dynamodb:DeleteItem on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/orders because no ' +
  'identity-based policy allows the dynamodb:DeleteItem action';

/**
 * S3's detailed same-account AccessDenied message. S3 quotes the resource ARN, unlike the JSON
 * services. [unverified against a live bucket; modelled on published examples]
 */
function s3AccessDenied(bucket: string, key: string): string {
  return (
    'User: arn:aws:sts::123456789012:assumed-role/thumbnailer-role/thumbnailer is not authorized to perform: ' +
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
      if (keyOf(req.Item) === 'ord-00042')
        return err('ConditionalCheckFailedException', 'The conditional request failed');
      return json(200, {});
    case 'UpdateItem':
      if (keyOf(req.Key) === 'ord-00077')
        return err(
          'ProvisionedThroughputExceededException',
          'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
        );
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

function sqs(op: string, req: Record<string, unknown>): Reply {
  switch (op) {
    case 'SendMessage': {
      const body = String(req.MessageBody ?? '');
      return json(200, { MessageId: uuidRequestId(body.length + 7), MD5OfMessageBody: md5(body) });
    }
    case 'ReceiveMessage': {
      const body = JSON.stringify({ type: 'invoice', orderId: 'from-queue' });
      return json(200, {
        Messages: [
          {
            MessageId: uuidRequestId(body.length),
            ReceiptHandle: 'AQEBstubReceiptHandle==',
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
  const withIds = (r: Reply): Reply => ({ ...r, headers: { ...r.headers, ...s3ids } });
  if (method === 'PUT' && url.searchParams.has('acl')) {
    return withIds(
      xml(
        403,
        `<Error><Code>AccessDenied</Code><Message>${s3AccessDenied(bucket, key).replace(/"/g, '&quot;')}</Message>` +
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
          `<Contents><Key>${prefix}summary.json</Key><LastModified>2026-11-16T06:00:00.000Z</LastModified>` +
          `<ETag>&quot;${md5(prefix)}&quot;</ETag><Size>512</Size><StorageClass>STANDARD</StorageClass></Contents>` +
          `</ListBucketResult>`,
      ),
    );
  }
  const body = method === 'GET' ? `stub-bytes-of:${key}` : '';
  const headers: Record<string, string> = {
    ...s3ids,
    etag: `"${md5(key)}"`,
    'last-modified': 'Mon, 16 Nov 2026 08:00:00 GMT',
  };
  if (method === 'GET' || method === 'HEAD') {
    headers['content-type'] = 'image/jpeg';
    headers['x-stub-content-length'] = String(Buffer.byteLength(`stub-bytes-of:${key}`));
  }
  return { status: 200, headers, body };
}

function query(service: 'sns' | 'sts', form: URLSearchParams, requestId: string): Reply {
  const action = form.get('Action') ?? '';
  const meta = `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`;
  if (service === 'sns' && action === 'Publish') {
    return xml(
      200,
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${uuidRequestId(
        form.toString().length,
      )}</MessageId></PublishResult>${meta}</PublishResponse>`,
    );
  }
  if (service === 'sts' && action === 'GetCallerIdentity') {
    return xml(
      200,
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
        `<Arn>arn:aws:sts::210987654321:assumed-role/report-builder-role/report-builder</Arn>` +
        `<UserId>AROAEXAMPLEREPORTBLDR:report-builder</UserId><Account>210987654321</Account>` +
        `</GetCallerIdentityResult>${meta}</GetCallerIdentityResponse>`,
    );
  }
  return xml(
    400,
    `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>stub: ${action}</Message></Error>${meta}</ErrorResponse>`,
  );
}

export interface Stub {
  port: number;
  log: StubLogEntry[];
  close(): Promise<void>;
}

export async function startStub(): Promise<Stub> {
  let n = 0;
  const log: StubLogEntry[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      n++;
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://stub');
      const target = String(req.headers['x-amz-target'] ?? '');
      const auth = String(req.headers['authorization'] ?? '');
      // The SigV4 credential scope names the signing service: .../<region>/<service>/aws4_request
      const signingService = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? '';
      const requestId = uuidRequestId(n);
      let reply: Reply;
      const parseJson = (): Record<string, unknown> =>
        raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      if (target.startsWith('DynamoDB_20120810.')) {
        reply = dynamodb(target.split('.')[1] ?? '', parseJson());
        reply.headers['x-amzn-requestid'] = ddbRequestId(n);
      } else if (target.startsWith('AmazonSQS.')) {
        reply = sqs(target.split('.')[1] ?? '', parseJson());
      } else if (target === 'AWSStepFunctions.StartExecution') {
        const body = parseJson();
        const arn = String(body.stateMachineArn ?? '').replace(':stateMachine:', ':execution:');
        reply = json(200, { executionArn: `${arn}:${String(body.name ?? 'exec')}`, startDate: 1794787200 });
      } else if (target === 'secretsmanager.GetSecretValue') {
        const id = String(parseJson().SecretId ?? '');
        reply = json(
          200,
          {
            ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${id}-AbCdEf`,
            Name: id,
            SecretString: '{"apiKey":"sk_test_stub"}',
            VersionId: uuidRequestId(7),
            VersionStages: ['AWSCURRENT'],
            CreatedDate: 1794787200,
          },
          'application/x-amz-json-1.1',
        );
      } else if (target.startsWith('TrentService.')) {
        reply = json(200, { KeyId: 'arn:aws:kms:eu-west-1:123456789012:key/stub', Plaintext: 'c3R1Yg==' });
      } else if (url.pathname.startsWith('/2015-03-31/functions/')) {
        const payload = raw;
        if (payload.includes('throttle-me')) {
          reply = json(
            429,
            { Type: 'User', message: 'Rate Exceeded.', Reason: 'ConcurrentInvocationLimitExceeded' },
            'application/json',
          );
          reply.headers['x-amzn-errortype'] = 'TooManyRequestsException';
        } else {
          reply = json(200, { ok: true, pages: 3 }, 'application/json');
          reply.headers['x-amz-executed-version'] = '$LATEST';
        }
      } else if (url.pathname === '/v1/charges') {
        reply = json(200, { id: `ch_${hex(`charge:${n}`, 24)}`, status: 'succeeded' }, 'application/json');
      } else if (signingService === 'sns' || signingService === 'sts') {
        reply = query(signingService, new URLSearchParams(raw), requestId);
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
      res.end(req.method === 'HEAD' ? undefined : reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    log,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
