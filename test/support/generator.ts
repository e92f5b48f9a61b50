/**
 * Deterministic generator of realistic `aws xray batch-get-traces` dumps, shared by the
 * benchmark (bench/gen.ts is its command line), the tests and the samples' checks (see
 * docs/xray-format.md and docs/performance.md).
 *
 * Everything is derived from the seed through a small PRNG (mulberry32), so the same options
 * always produce byte-identical output. The dump is produced as a stream of chunks and never
 * held in memory. A sidecar `<out>.meta.json` records the exact counts (see `DumpMeta`).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { javaTimes, traceText, unprocessedText } from './aws-cli.js';

/** Bump when the output for a given set of options changes, so cached dumps are regenerated. */
export const GENERATOR_VERSION = 1;

export type Layout = 'concatenated' | 'single';

export interface GenOptions {
  /** Target size of the uncompressed dump in bytes; generation stops at the first document (or trace, for `single`) boundary at or past it. */
  sizeBytes: number;
  seed: number;
  layout: Layout;
  /** Number of distinct workloads to draw from (Lambda functions, ECS services, EC2 apps). */
  workloads: number;
  accounts: number;
  regions: string[];
  /** Trace start times are spread uniformly over this many days, starting at `startEpoch`. */
  days: number;
  /** Epoch seconds of the earliest possible trace start. */
  startEpoch: number;
  /** Trace ids requested per batch-get-traces call (the API maximum is 5). */
  tracesPerDocument: number;
}

export const DEFAULT_OPTIONS: GenOptions = {
  sizeBytes: 8 * 1024 * 1024,
  seed: 1,
  layout: 'concatenated',
  workloads: 1000,
  accounts: 3,
  regions: ['us-east-1', 'eu-west-1'],
  days: 30,
  startEpoch: 1756684800, // 2025-09-01T00:00:00Z
  tracesPerDocument: 5,
};

/** Counts of what was generated; filled in while the dump is produced. */
export interface DumpStats {
  /** Uncompressed bytes produced. */
  bytes: number;
  /** Top-level JSON documents (one per batch-get-traces call; 1 for `single`). */
  documents: number;
  traces: number;
  /** Segment documents (entries of `Segments[]`), including inferred ones. */
  segments: number;
  /** Of which `inferred: true`. */
  inferredSegments: number;
  /** All subsegments at any depth (including AWS calls, Go SDK children, Lambda Invocation/Overhead...). */
  subsegments: number;
  /** `namespace: "aws"` subsegments, each counted once (children inside them are not calls). */
  calls: number;
  callsByService: Record<string, number>;
  /** AWS calls by outcome (exclusive): ok, error (4xx other than denied/throttle), throttle (429), fault (5xx), denied (access denied, 400/403). */
  callOutcomes: { ok: number; error: number; throttle: number; fault: number; denied: number };
  /** `namespace: "remote"` subsegments (plain HTTP), including plain-HTTP captures of AWS endpoints. */
  remoteCalls: number;
  /** Of the remote calls, those whose host is an `*.amazonaws.com` endpoint. */
  remoteAwsCalls: number;
  /** Ids listed in `UnprocessedTraceIds` (not traces; not counted in `traces`). */
  unprocessedTraceIds: number;
  /** Distinct workloads that appear in the dump (names are globally unique). */
  workloads: number;
  workloadsByKind: Record<WorkloadKind, number>;
  /** Min/max trace start time (epoch seconds). */
  firstTraceStart: number;
  lastTraceStart: number;
}

export interface DumpMeta extends DumpStats {
  format: 'xray-lp-bench-dump';
  generatorVersion: number;
  options: GenOptions;
  gzip: boolean;
  /** Bytes on disk (differs from `bytes` when gzipped). */
  fileBytes: number;
  /** sha256 (hex) of the uncompressed dump. */
  sha256: string;
  generationSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// PRNG and id helpers

/** mulberry32: tiny, fast, deterministic 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A bijection on 32-bit integers (lowbias32): distinct inputs give distinct outputs. */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new Error('weighted pick from an empty list');
    return last[0];
  }
  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += hex8((this.next() * 4294967296) >>> 0);
    return s.slice(0, chars);
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  /** Roughly log-normal duration in seconds around `median`. */
  duration(median: number): number {
    const u = this.next() + this.next() + this.next() - 1.5; // ~N(0, 0.5)
    return median * Math.exp(u * 1.2);
  }
}

// ---------------------------------------------------------------------------------------------
// Workload model

export type WorkloadKind = 'lambda' | 'ecs' | 'ec2';
type Flavor = 'node' | 'python' | 'java' | 'go';
type Service = 'DynamoDB' | 'S3' | 'SQS' | 'SNS' | 'Lambda' | 'SecretsManager' | 'KMS' | 'SSM' | 'STS';

interface CallTarget {
  service: Service;
  operation: string;
  /** Allow-listed request parameters recorded by the SDK (snake_case). */
  params: Record<string, unknown>;
  resourceNames?: string[];
  /** IAM action and resource ARN named in an access-denied message. */
  action: string;
  resourceArn: string;
  inferredOrigin?: string;
  /** This workload lacks the permission: calls are usually denied. */
  deny: boolean;
}

interface Workload {
  index: number;
  kind: WorkloadKind;
  flavor: Flavor;
  name: string;
  account: string;
  region: string;
  functionArn: string;
  legacy2018: boolean;
  roleName: string;
  sessionName: string;
  accountOnSegment: boolean;
  containerName: string;
  instanceId: string;
  targets: CallTarget[];
  routes: string[];
  remoteHosts: string[];
}

const WORDS = [
  'orders', 'payments', 'users', 'inventory', 'sessions', 'carts', 'invoices', 'shipments', 'audit',
  'events', 'profiles', 'catalog', 'pricing', 'notifications', 'reports', 'ledger', 'tokens', 'devices',
  'metrics', 'jobs', 'refunds', 'reviews', 'search', 'media', 'billing', 'quotes', 'claims', 'leads',
] as const; // prettier-ignore
const ROLES_SUFFIX = [
  'api',
  'worker',
  'processor',
  'handler',
  'sync',
  'ingest',
  'export',
  'service',
] as const;
const LOCAL_NAMES = [
  'handleRequest', 'validateInput', 'loadCustomer', 'persist', 'publishEvents', 'enrich', 'authorize',
  'processBatch', 'fetchConfig', 'buildResponse', 'reconcile', 'checkout', 'render', 'computeTotals',
] as const; // prettier-ignore
const REMOTE_HOSTS = [
  'api.stripe.com', 'hooks.slack.com', 'api.github.com', 'login.example.com', 'maps.googleapis.com',
  'api.sendgrid.com', 'internal-auth.corp.example', 'graph.microsoft.com',
] as const; // prettier-ignore

const SDK_INFO: Record<Flavor, { sdk: string; sdk_version: string; package?: string }> = {
  node: { sdk: 'X-Ray for Node.js', sdk_version: '3.10.3', package: 'aws-xray-sdk' },
  python: { sdk: 'X-Ray for Python', sdk_version: '2.14.0' },
  java: { sdk: 'X-Ray for Java', sdk_version: '2.18.2' },
  go: { sdk: 'X-Ray for Go', sdk_version: '1.8.4' },
};

/** Subsegment name as stored; Java v2 names are not canonicalised by X-Ray (§3). */
function serviceName(service: Service, flavor: Flavor): string {
  if (flavor === 'java') {
    const javaNames: Partial<Record<Service, string>> = {
      DynamoDB: 'DynamoDb',
      SQS: 'Sqs',
      SNS: 'Sns',
      KMS: 'Kms',
    };
    return javaNames[service] ?? service;
  }
  return service;
}

interface ResourcePool {
  tables: string[];
  buckets: string[];
  queues: string[];
  topics: string[];
  functions: string[];
  secrets: string[];
  keys: string[];
}

function accountId(rng: Rng): string {
  return String(rng.int(100000000000, 999999999999));
}

function buildPools(rng: Rng, account: string, region: string): ResourcePool {
  const env = rng.pick(['prod', 'staging', 'dev']);
  const tables = WORDS.slice(0, 20).map((w) => `${w}-${env}`);
  return {
    tables,
    buckets: WORDS.slice(4, 16).map((w) => `${w}-${env}-${account}-${region}`),
    queues: WORDS.slice(0, 14).map((w) => `https://sqs.${region}.amazonaws.com/${account}/${w}-${env}-queue`),
    topics: WORDS.slice(8, 20).map((w) => `arn:aws:sns:${region}:${account}:${w}-${env}-topic`),
    functions: WORDS.slice(10, 22).map((w) => `${w}-${env}-fn`),
    secrets: WORDS.slice(0, 6).map((w) => `${env}/${w}/db-credentials`),
    keys: [rng.uuid(), rng.uuid(), rng.uuid()],
  };
}

function makeTarget(rng: Rng, pool: ResourcePool, account: string, region: string): CallTarget {
  const service = rng.weighted<Service>([
    ['DynamoDB', 40],
    ['S3', 18],
    ['SQS', 14],
    ['SNS', 10],
    ['Lambda', 6],
    ['SecretsManager', 5],
    ['KMS', 3],
    ['SSM', 2],
    ['STS', 2],
  ]);
  const deny = rng.chance(0.02);
  switch (service) {
    case 'DynamoDB': {
      const table = rng.pick(pool.tables);
      const operation = rng.weighted([
        ['GetItem', 30],
        ['PutItem', 25],
        ['Query', 20],
        ['UpdateItem', 12],
        ['DeleteItem', 4],
        ['Scan', 3],
        ['BatchWriteItem', 3],
        ['DescribeTable', 3],
      ] as const);
      const tableArn = `arn:aws:dynamodb:${region}:${account}:table/${table}`;
      if (operation === 'BatchWriteItem') {
        const other = rng.pick(pool.tables);
        const names = other === table ? [table] : [table, other];
        return {
          service, operation, params: { table_names: names }, resourceNames: names,
          action: `dynamodb:${operation}`, resourceArn: tableArn, inferredOrigin: 'AWS::DynamoDB', deny,
        }; // prettier-ignore
      }
      const params: Record<string, unknown> = { table_name: table };
      if (operation === 'Query' && rng.chance(0.3)) params.index_name = 'gsi1';
      if (operation === 'GetItem' && rng.chance(0.3)) params.consistent_read = true;
      return {
        service, operation, params,
        ...(operation === 'DescribeTable' ? {} : { resourceNames: [table] }),
        action: `dynamodb:${operation}`, resourceArn: tableArn, inferredOrigin: 'AWS::DynamoDB::Table', deny,
      }; // prettier-ignore
    }
    case 'S3': {
      const bucket = rng.pick(pool.buckets);
      const operation = rng.weighted([
        ['GetObject', 45],
        ['PutObject', 35],
        ['HeadObject', 8],
        ['DeleteObject', 5],
        ['ListObjectsV2', 7],
      ] as const);
      const key = `${rng.pick(WORDS)}/${rng.hex(8)}.json`;
      const list = operation === 'ListObjectsV2';
      return {
        service, operation,
        params: list ? { bucket_name: bucket, prefix: `${rng.pick(WORDS)}/` } : { bucket_name: bucket, key },
        ...(list || operation === 'HeadObject' ? {} : { resourceNames: [bucket] }),
        action: list ? 's3:ListBucket' : operation === 'HeadObject' ? 's3:GetObject' : `s3:${operation}`,
        resourceArn: list ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`,
        inferredOrigin: 'AWS::S3::Bucket', deny,
      }; // prettier-ignore
    }
    case 'SQS': {
      const url = rng.pick(pool.queues);
      const operation = rng.weighted([
        ['SendMessage', 50],
        ['ReceiveMessage', 20],
        ['DeleteMessage', 20],
        ['SendMessageBatch', 10],
      ] as const);
      const params: Record<string, unknown> = { queue_url: url };
      if (operation === 'SendMessageBatch') params.message_count = rng.int(2, 10);
      const queueName = url.slice(url.lastIndexOf('/') + 1);
      return {
        service, operation, params,
        action: `sqs:${operation.replace('Batch', '')}`, resourceArn: `arn:aws:sqs:${region}:${account}:${queueName}`, deny,
      }; // prettier-ignore
    }
    case 'SNS': {
      const topic = rng.pick(pool.topics);
      return {
        service, operation: 'Publish', params: { topic_arn: topic }, resourceNames: [topic],
        action: 'SNS:Publish', resourceArn: topic, inferredOrigin: 'AWS::SNS', deny,
      }; // prettier-ignore
    }
    case 'Lambda': {
      const fn = rng.pick(pool.functions);
      const async = rng.chance(0.4);
      return {
        service, operation: 'Invoke',
        params: { function_name: fn, invocation_type: async ? 'Event' : 'RequestResponse' },
        resourceNames: [fn], action: 'lambda:InvokeFunction',
        resourceArn: `arn:aws:lambda:${region}:${account}:function:${fn}`, inferredOrigin: 'AWS::Lambda', deny,
      }; // prettier-ignore
    }
    case 'SecretsManager': {
      const secret = rng.pick(pool.secrets);
      return {
        service, operation: 'GetSecretValue', params: {}, action: 'secretsmanager:GetSecretValue',
        resourceArn: `arn:aws:secretsmanager:${region}:${account}:secret:${secret}-${rng.hex(6)}`, deny,
      }; // prettier-ignore
    }
    case 'KMS': {
      const operation = rng.pick(['Decrypt', 'GenerateDataKey'] as const);
      return {
        service, operation, params: {}, action: `kms:${operation}`,
        resourceArn: `arn:aws:kms:${region}:${account}:key/${rng.pick(pool.keys)}`, deny,
      }; // prettier-ignore
    }
    case 'SSM':
      return {
        service, operation: 'GetParameter', params: {}, action: 'ssm:GetParameter',
        resourceArn: `arn:aws:ssm:${region}:${account}:parameter/${rng.pick(WORDS)}/config`, deny,
      }; // prettier-ignore
    case 'STS':
      return {
        service,
        operation: 'GetCallerIdentity',
        params: {},
        action: 'sts:GetCallerIdentity',
        resourceArn: '*',
        deny: false,
      };
  }
}

function buildWorkloads(opts: GenOptions): Workload[] {
  const rng = new Rng(mix32(opts.seed ^ 0x9e3779b9));
  const accounts = Array.from({ length: opts.accounts }, () => accountId(rng));
  const pools = new Map<string, ResourcePool>();
  for (const a of accounts) for (const r of opts.regions) pools.set(`${a}/${r}`, buildPools(rng, a, r));
  const out: Workload[] = [];
  for (let index = 0; index < opts.workloads; index++) {
    const account = rng.pick(accounts);
    const region = rng.pick(opts.regions);
    const pool = pools.get(`${account}/${region}`);
    if (!pool) throw new Error('missing pool');
    const kind = rng.weighted<WorkloadKind>([
      ['lambda', 60],
      ['ecs', 30],
      ['ec2', 10],
    ]);
    const flavor: Flavor =
      kind === 'lambda'
        ? rng.weighted<Flavor>([['node', 50], ['python', 35], ['java', 15]]) // prettier-ignore
        : rng.weighted<Flavor>([['node', 35], ['java', 30], ['python', 20], ['go', 15]]); // prettier-ignore
    const name = `${rng.pick(WORDS)}-${rng.pick(ROLES_SUFFIX)}-${String(index).padStart(4, '0')}`;
    const instanceId = `i-0${rng.hex(16)}`;
    const targets = Array.from({ length: rng.int(2, 7) }, () => makeTarget(rng, pool, account, region));
    out.push({
      index,
      kind,
      flavor,
      name,
      account,
      region,
      functionArn: `arn:aws:lambda:${region}:${account}:function:${name}`,
      legacy2018: kind === 'lambda' && rng.chance(0.15),
      roleName:
        kind === 'lambda'
          ? `${name}-role-${rng.hex(8)}`
          : `${name}-${kind === 'ecs' ? 'task' : 'instance'}-role`,
      sessionName: kind === 'lambda' ? name : kind === 'ecs' ? rng.hex(32) : instanceId,
      accountOnSegment: kind !== 'lambda' && rng.chance(0.33),
      containerName: `${name}-${rng.pick(['app', 'web', 'main'])}`,
      instanceId,
      targets,
      routes: Array.from(
        { length: rng.int(1, 4) },
        () => `/${rng.pick(WORDS)}${rng.chance(0.5) ? '/{id}' : ''}`,
      ),
      remoteHosts: [rng.pick(REMOTE_HOSTS)],
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Document construction

type Doc = Record<string, unknown>;

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

interface CallOutcome {
  kind: 'ok' | 'error' | 'throttle' | 'fault' | 'denied';
  status: number;
  type?: string;
  message?: string;
}

class TraceBuilder {
  private segCounter = 0;
  private traceCounter = 0;
  private readonly idKey: number;
  readonly stats: DumpStats;
  private readonly seen: Uint8Array;

  constructor(
    private readonly rng: Rng,
    private readonly opts: GenOptions,
    private readonly workloads: Workload[],
    stats: DumpStats,
  ) {
    this.idKey = mix32(opts.seed ^ 0x5bd1e995);
    this.stats = stats;
    this.seen = new Uint8Array(workloads.length);
  }

  /** 16 hex chars, unique for up to 2^32 ids: bijective mix of a counter + 32 random bits. */
  private segId(): string {
    return hex8(mix32(this.segCounter++ ^ this.idKey)) + this.rng.hex(8);
  }

  traceId(epoch: number): string {
    return `1-${hex8(epoch)}-${hex8(mix32(this.traceCounter++ ^ this.idKey ^ 0xa5a5a5a5))}${this.rng.hex(16)}`;
  }

  private pickWorkload(): Workload {
    const n = this.workloads.length;
    // Half uniform, half skewed towards a few busy workloads.
    const r = this.rng.next();
    const idx = this.rng.chance(0.5) ? Math.floor(r * n) : Math.floor(r * r * r * n);
    const w = this.workloads[Math.min(idx, n - 1)];
    if (!w) throw new Error('no workloads');
    return w;
  }

  private outcome(w: Workload, t: CallTarget): CallOutcome {
    const r = this.rng.next();
    if (t.deny ? r < 0.6 : r < 0.0015) return this.denied(w, t);
    const r2 = this.rng.next();
    if (r2 < 0.02) {
      const type =
        t.service === 'DynamoDB'
          ? this.rng.pick([
              'ConditionalCheckFailedException',
              'ValidationException',
              'ResourceNotFoundException',
            ])
          : t.service === 'S3'
            ? 'NoSuchKey'
            : 'ValidationException';
      return {
        kind: 'error',
        status: t.service === 'S3' ? 404 : 400,
        type,
        message: `${type}: request failed`,
      };
    }
    if (r2 < 0.03) {
      const type = t.service === 'Lambda' ? 'TooManyRequestsException' : 'ThrottlingException';
      return { kind: 'throttle', status: 429, type, message: 'Rate exceeded' };
    }
    if (r2 < 0.036) {
      const s = this.rng.pick([500, 503]);
      const type = s === 500 ? 'InternalServerError' : 'ServiceUnavailable';
      return { kind: 'fault', status: s, type, message: `${type}: please retry` };
    }
    return { kind: 'ok', status: 200 };
  }

  private denied(w: Workload, t: CallTarget): CallOutcome {
    const who = `User: arn:aws:sts::${w.account}:assumed-role/${w.roleName}/${w.sessionName}`;
    const base = `${who} is not authorized to perform: ${t.action} on resource: ${t.resourceArn}`;
    const suffix = ` because no identity-based policy allows the ${t.action} action`;
    switch (t.service) {
      case 'S3':
        return { kind: 'denied', status: 403, type: 'AccessDenied', message: 'Access Denied' };
      case 'SNS':
        return { kind: 'denied', status: 403, type: 'AuthorizationError', message: base + suffix };
      case 'SQS':
        return { kind: 'denied', status: 403, type: 'AccessDenied', message: base + suffix };
      case 'Lambda':
        return { kind: 'denied', status: 403, type: 'AccessDeniedException', message: base + suffix };
      case 'DynamoDB':
        return {
          kind: 'denied',
          status: 400,
          type: 'AccessDeniedException',
          message: this.rng.chance(0.5) ? base : base + suffix,
        };
      default:
        return { kind: 'denied', status: 400, type: 'AccessDeniedException', message: base + suffix };
    }
  }

  private cause(w: Workload, o: CallOutcome, t: CallTarget): Doc {
    let type = o.type ?? 'Error';
    let message = o.message ?? '';
    if (w.flavor === 'python') {
      message = `An error occurred (${type}) when calling the ${t.operation} operation: ${message}`;
      type = 'ClientError';
    } else if (w.flavor === 'java') {
      message = `${message} (Service: ${serviceName(t.service, 'java')}, Status Code: ${o.status}, Request ID: ${this.rng.uuid()})`;
      type = `${serviceName(t.service, 'java')}Exception`;
    } else if (w.flavor === 'go') {
      type = `${t.service.toLowerCase()}.${type}`;
    }
    const wd = w.kind === 'lambda' ? '/var/task' : '/app';
    return {
      working_directory: wd,
      exceptions: [
        {
          id: this.rng.hex(16),
          message,
          type,
          remote: true,
          stack: [
            {
              path: `${wd}/src/${t.service.toLowerCase()}.js`,
              line: this.rng.int(10, 400),
              label: t.operation,
            },
            { path: `${wd}/src/handler.js`, line: this.rng.int(10, 200), label: 'handler' },
          ],
        },
      ],
    };
  }

  /** An AWS SDK subsegment plus, for some services, the inferred segment X-Ray adds. */
  private awsCall(
    w: Workload,
    t: CallTarget,
    start: number,
    inferred: Doc[],
    traceId: string,
  ): [Doc, number] {
    const o = this.outcome(w, t);
    const dur = this.rng.duration(t.service === 'Lambda' ? 0.08 : 0.015);
    const end = start + dur;
    const id = this.segId();
    const requestId = t.service === 'S3' ? this.rng.hex(16).toUpperCase() : this.rng.uuid();
    const aws: Doc = { operation: t.operation, region: w.region, request_id: requestId, retries: 0 };
    if (o.kind === 'throttle') aws.retries = this.rng.int(1, 3);
    if (t.service === 'S3') aws.id_2 = this.rng.hex(40);
    Object.assign(aws, t.params);
    if (t.resourceNames) aws.resource_names = t.resourceNames;
    const sub: Doc = {
      id,
      name: serviceName(t.service, w.flavor),
      start_time: this.time(w, start),
      end_time: this.time(w, end),
      http: {
        response: { status: o.status, ...(o.kind === 'ok' ? { content_length: this.rng.int(2, 4000) } : {}) },
      },
      aws,
    };
    if (o.kind !== 'ok') {
      // Node/Python SDKs add fault to every recorded exception; Java v2 does not for 4xx (§2).
      if (o.status < 500) sub.error = true;
      if (o.kind === 'throttle') sub.throttle = true;
      if (o.status >= 500 || w.flavor === 'node' || w.flavor === 'python') sub.fault = true;
      sub.cause = this.cause(w, o, t);
    }
    sub.namespace = 'aws';
    if (w.flavor === 'go') {
      // Go v1 records the request phases inside the AWS subsegment; they are not calls.
      const d = dur / 6;
      const phase = (name: string, a: number, b: number, children?: Doc[]): Doc => {
        this.stats.subsegments++;
        const p: Doc = { id: this.segId(), name, start_time: this.time(w, a), end_time: this.time(w, b) };
        if (children) p.subsegments = children;
        return p;
      };
      sub.subsegments = [
        phase('marshal', start, start + d),
        phase('attempt', start + d, start + 5 * d, [
          phase('connect', start + d, start + 2 * d, [phase('dns', start + d, start + 1.5 * d)]),
          phase('request', start + 2 * d, start + 3 * d),
          phase('response', start + 3 * d, start + 5 * d),
        ]),
        phase('unmarshal', start + 5 * d, end),
      ];
    }
    this.stats.subsegments++;
    this.stats.calls++;
    this.stats.callsByService[t.service] = (this.stats.callsByService[t.service] ?? 0) + 1;
    this.stats.callOutcomes[o.kind]++;
    if (t.inferredOrigin) {
      const inf: Doc = {
        id: this.segId(),
        name: t.service,
        start_time: this.time(w, start),
        trace_id: traceId,
        end_time: this.time(w, end),
        parent_id: id,
        inferred: true,
        http: { response: { status: o.status } },
        aws: { operation: t.operation, region: w.region, request_id: requestId, ...t.params },
        origin: t.inferredOrigin,
      };
      if (t.resourceNames) (inf.aws as Doc).resource_names = t.resourceNames;
      if (o.kind !== 'ok') {
        if (o.status < 500) inf.error = true;
        if (o.kind === 'throttle') inf.throttle = true;
        if (o.status >= 500) inf.fault = true;
        // A cause that points at the exception recorded on the calling subsegment.
        inf.cause = ((sub.cause as Doc).exceptions as Doc[])[0]?.id;
      }
      inferred.push(inf);
    }
    return [sub, end];
  }

  private remoteCall(w: Workload, start: number): [Doc, number] {
    const end = start + this.rng.duration(0.06);
    let host: string;
    if (this.rng.chance(0.25)) {
      // A plain-HTTP capture of an AWS endpoint (service is guessable, operation is not).
      host = `${this.rng.pick(['dynamodb', 'secretsmanager', 'sqs'])}.${w.region}.amazonaws.com`;
      this.stats.remoteAwsCalls++;
    } else host = this.rng.pick(w.remoteHosts);
    const status = this.rng.chance(0.03) ? 502 : 200;
    const sub: Doc = {
      id: this.segId(),
      name: host,
      start_time: this.time(w, start),
      end_time: this.time(w, end),
      http: {
        request: { method: host.endsWith('amazonaws.com') ? 'POST' : 'GET', url: `https://${host}/` },
        response: { status },
      },
      namespace: 'remote',
    };
    if (status >= 500) sub.fault = true;
    this.stats.subsegments++;
    this.stats.remoteCalls++;
    return [sub, end];
  }

  /** A chain of `depth` local subsegments wrapping one or more AWS calls. */
  private local(w: Workload, depth: number, start: number, inferred: Doc[], traceId: string): [Doc, number] {
    const children: Doc[] = [];
    let t = start + this.rng.duration(0.0005);
    if (depth > 1) {
      const [c, e] = this.local(w, depth - 1, t, inferred, traceId);
      children.push(c);
      t = e;
    }
    const n = depth > 1 ? this.rng.int(0, 1) : this.rng.int(1, 2);
    for (let i = 0; i < n; i++) {
      const [c, e] = this.awsCall(w, this.rng.pick(w.targets), t, inferred, traceId);
      children.push(c);
      t = e + this.rng.duration(0.0003);
    }
    const end = t + this.rng.duration(0.0005);
    const sub: Doc = {
      id: this.segId(),
      name: this.rng.pick(LOCAL_NAMES),
      start_time: this.time(w, start),
      end_time: this.time(w, end),
    };
    if (w.flavor === 'python') sub.namespace = 'local';
    sub.subsegments = children;
    this.stats.subsegments++;
    return [sub, end];
  }

  /** The body of a request: AWS calls, wrapped in 0–3 levels of local subsegments, plus remote calls. */
  private body(w: Workload, start: number, inferred: Doc[], traceId: string): [Doc[], number] {
    const out: Doc[] = [];
    let t = start + this.rng.duration(0.001);
    const groups = this.rng.int(1, 3);
    for (let g = 0; g < groups; g++) {
      let r: [Doc, number];
      const roll = this.rng.next();
      if (roll < 0.35) r = this.awsCall(w, this.rng.pick(w.targets), t, inferred, traceId);
      else if (roll < 0.9) r = this.local(w, this.rng.int(1, 3), t, inferred, traceId);
      else r = this.remoteCall(w, t);
      out.push(r[0]);
      t = r[1] + this.rng.duration(0.001);
    }
    return [out, t + this.rng.duration(0.002)];
  }

  private time(w: Workload, t: number): number {
    return w.flavor === 'node' || w.kind === 'lambda' ? round3(t) : round6(t);
  }

  /** One trace: its id, duration and segment documents (already JSON strings). */
  trace(): { id: string; duration: number; docs: [string, string][]; limitExceeded: boolean } {
    const w = this.pickWorkload();
    if (this.seen[w.index] === 0) {
      this.seen[w.index] = 1;
      this.stats.workloads++;
      this.stats.workloadsByKind[w.kind]++;
    }
    const t0 = round3(this.opts.startEpoch + this.rng.next() * this.opts.days * 86400);
    const epoch = Math.floor(t0);
    if (this.stats.traces === 0 || t0 < this.stats.firstTraceStart) this.stats.firstTraceStart = t0;
    if (t0 > this.stats.lastTraceStart) this.stats.lastTraceStart = t0;
    const traceId = this.traceId(epoch);
    const segments: Doc[] = [];
    const inferred: Doc[] = [];
    let end: number;

    if (w.kind === 'lambda') {
      const svcId = this.segId();
      const fnId = this.segId();
      const fnStart = t0 + this.rng.duration(0.01);
      const subs: Doc[] = [];
      let t = fnStart;
      const coldStart = this.rng.chance(0.1);
      if (coldStart && !w.legacy2018) {
        const e = t + this.rng.duration(0.3);
        subs.push({ id: this.segId(), name: 'Initialization', start_time: this.time(w, t), end_time: this.time(w, e), aws: { function_arn: w.functionArn } }); // prettier-ignore
        this.stats.subsegments++;
        t = e;
      }
      if (w.legacy2018) {
        // 2018 shape: SDK calls directly under the function segment.
        const [body, e] = this.body(w, t, inferred, traceId);
        subs.push(...body);
        t = e;
      } else {
        const [body, e] = this.body(w, t, inferred, traceId);
        subs.push({ id: this.segId(), name: 'Invocation', start_time: this.time(w, t), end_time: this.time(w, e), aws: { function_arn: w.functionArn }, subsegments: body }); // prettier-ignore
        const o = e + this.rng.duration(0.001);
        subs.push({ id: this.segId(), name: 'Overhead', start_time: this.time(w, e), end_time: this.time(w, o), aws: { function_arn: w.functionArn } }); // prettier-ignore
        this.stats.subsegments += 2;
        t = o;
      }
      end = t + this.rng.duration(0.002);
      const failed = this.rng.chance(0.01);
      const fnAws: Doc = w.legacy2018
        ? { function_arn: w.functionArn, resource_names: [w.name] }
        : {
            function_arn: w.functionArn,
            resource_names: [w.name],
            account_id: w.account,
            cloudwatch_logs: [
              {
                log_group: `/aws/lambda/${w.name}`,
                arn: `arn:aws:logs:${w.region}:${w.account}:log-group:/aws/lambda/${w.name}`,
              },
            ],
          };
      const fnSeg: Doc = {
        id: fnId,
        name: w.name,
        start_time: this.time(w, fnStart),
        trace_id: traceId,
        end_time: this.time(w, t),
        parent_id: svcId,
        aws: fnAws,
        origin: 'AWS::Lambda::Function',
        subsegments: subs,
      };
      if (failed) fnSeg.error = true;
      segments.push({
        id: svcId,
        name: w.name,
        start_time: this.time(w, t0),
        trace_id: traceId,
        end_time: this.time(w, end),
        http: { response: { status: failed ? 500 : 200 } },
        aws: { request_id: this.rng.uuid() },
        origin: 'AWS::Lambda',
        resource_arn: w.functionArn,
        ...(failed ? { fault: true } : {}),
      });
      segments.push(fnSeg);
    } else {
      const [body, e] = this.body(w, t0, inferred, traceId);
      end = e;
      const status = this.rng.weighted([
        [200, 90],
        [201, 5],
        [400, 3],
        [500, 2],
      ] as const);
      const route = this.rng.pick(w.routes).replace('{id}', this.rng.hex(8));
      const method = this.rng.weighted([
        ['GET', 60],
        ['POST', 30],
        ['PUT', 10],
      ] as const);
      const aws: Doc =
        w.kind === 'ecs'
          ? { ecs: { container: w.containerName }, xray: SDK_INFO[w.flavor] }
          : {
              ec2: {
                instance_id: w.instanceId,
                availability_zone: `${w.region}${this.rng.pick(['a', 'b', 'c'])}`,
              },
              xray: SDK_INFO[w.flavor],
            };
      if (w.accountOnSegment) aws.account_id = w.account;
      const seg: Doc = {
        id: this.segId(),
        name: w.name,
        start_time: this.time(w, t0),
        trace_id: traceId,
        end_time: this.time(w, end),
        http: {
          request: {
            method,
            url: `http://${w.name}.internal${route}`,
            client_ip: `10.0.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`,
            user_agent: 'Mozilla/5.0',
          },
          response: { status, content_length: this.rng.int(0, 20000) },
        },
        aws,
        origin: w.kind === 'ecs' ? 'AWS::ECS::Container' : 'AWS::EC2::Instance',
        service: { version: `1.${w.index % 7}.${w.index % 13}` },
        subsegments: body,
      };
      if (status === 400) seg.error = true;
      if (status === 500) seg.fault = true;
      segments.push(seg);
    }

    const all = segments.concat(inferred);
    // Segment order in real dumps is arbitrary: shuffle deterministically.
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng.next() * (i + 1));
      const a = all[i] as Doc;
      all[i] = all[j] as Doc;
      all[j] = a;
    }
    this.stats.traces++;
    this.stats.segments += all.length;
    this.stats.inferredSegments += inferred.length;
    return {
      id: traceId,
      duration: round3(end - t0),
      limitExceeded: this.rng.chance(0.001),
      docs: all.map((d) => [d.id as string, javaTimes(JSON.stringify(d))]),
    };
  }
}

export function emptyStats(): DumpStats {
  return {
    bytes: 0,
    documents: 0,
    traces: 0,
    segments: 0,
    inferredSegments: 0,
    subsegments: 0,
    calls: 0,
    callsByService: {},
    callOutcomes: { ok: 0, error: 0, throttle: 0, fault: 0, denied: 0 },
    remoteCalls: 0,
    remoteAwsCalls: 0,
    unprocessedTraceIds: 0,
    workloads: 0,
    workloadsByKind: { lambda: 0, ecs: 0, ec2: 0 },
    firstTraceStart: 0,
    lastTraceStart: 0,
  };
}

export function resolveOptions(partial: Partial<GenOptions> = {}): GenOptions {
  const o: GenOptions = {
    ...DEFAULT_OPTIONS,
    ...partial,
    regions: [...(partial.regions ?? DEFAULT_OPTIONS.regions)],
  };
  if (!(o.sizeBytes > 0)) throw new Error('sizeBytes must be > 0');
  if (o.workloads < 1 || o.accounts < 1 || o.regions.length < 1)
    throw new Error('need ≥1 workload, account, region');
  if (o.tracesPerDocument < 1 || o.tracesPerDocument > 5) throw new Error('tracesPerDocument must be 1..5');
  return o;
}

/**
 * The dump as a synchronous sequence of text chunks (whole documents for `concatenated`, a few
 * traces at a time for `single`). `stats` is updated as chunks are produced and final once the
 * iterator is exhausted.
 */
export function* generateDumpSync(
  partial: Partial<GenOptions>,
  stats: DumpStats = emptyStats(),
): Generator<string> {
  const opts = resolveOptions(partial);
  const workloads = buildWorkloads(opts);
  const rng = new Rng(mix32(opts.seed));
  const tb = new TraceBuilder(rng, opts, workloads, stats);
  const emit = (s: string): string => {
    stats.bytes += Buffer.byteLength(s);
    return s;
  };

  if (opts.layout === 'concatenated') {
    do {
      let unprocessed: string[] = [];
      const parts: string[] = [];
      for (let i = 0; i < opts.tracesPerDocument; i++) {
        // Rarely an id is not yet indexed: it is listed in UnprocessedTraceIds instead.
        if (rng.chance(0.002))
          unprocessed.push(tb.traceId(Math.floor(opts.startEpoch + rng.next() * opts.days * 86400)));
        else parts.push(traceText(tb.trace()));
      }
      if (parts.length === 0) {
        parts.push(traceText(tb.trace()));
        unprocessed = unprocessed.slice(1);
      }
      stats.unprocessedTraceIds += unprocessed.length;
      stats.documents++;
      yield emit(
        `{\n    "Traces": [\n${parts.join(',\n')}\n    ],\n    "UnprocessedTraceIds": ${unprocessedText(unprocessed)}\n}\n`,
      );
    } while (stats.bytes < opts.sizeBytes);
    return;
  }

  // single: one document holding every trace.
  const unprocessed: string[] = [];
  stats.documents = 1;
  let chunk = '{\n    "Traces": [\n';
  let first = true;
  const tailEstimate = 64;
  while (first || stats.bytes + chunk.length + tailEstimate < opts.sizeBytes) {
    if (rng.chance(0.002 / opts.tracesPerDocument)) {
      unprocessed.push(tb.traceId(Math.floor(opts.startEpoch + rng.next() * opts.days * 86400)));
      continue;
    }
    chunk += (first ? '' : ',\n') + traceText(tb.trace());
    first = false;
    if (chunk.length > 256 * 1024) {
      yield emit(chunk);
      chunk = '';
    }
  }
  stats.unprocessedTraceIds = unprocessed.length;
  yield emit(`${chunk}\n    ],\n    "UnprocessedTraceIds": ${unprocessedText(unprocessed)}\n}\n`);
}

/** The dump as an async sequence of text chunks (see `generateDumpSync`). */
export async function* generateDump(partial: Partial<GenOptions>, stats?: DumpStats): AsyncIterable<string> {
  yield* generateDumpSync(partial, stats);
}

/** Writes the dump to `out` (gzip-compressed if asked) and its `<out>.meta.json`; returns the meta. */
export async function writeDump(partial: Partial<GenOptions>, out: string, gzip = false): Promise<DumpMeta> {
  const opts = resolveOptions(partial);
  const started = process.hrtime.bigint();
  mkdirSync(dirname(resolve(out)), { recursive: true });
  const file = createWriteStream(out, { highWaterMark: 1 << 20 });
  let fileBytes = 0;
  file.on('error', () => {});
  const gz = gzip ? createGzip({ level: 6 }) : undefined;
  if (gz) gz.pipe(file);
  const sink: Writable = gz ?? file;
  const hash = createHash('sha256');
  const stats = emptyStats();
  for (const chunk of generateDumpSync(opts, stats)) {
    hash.update(chunk);
    if (!sink.write(chunk)) await once(sink, 'drain');
  }
  sink.end();
  await once(file, 'close');
  fileBytes = file.bytesWritten;
  const meta: DumpMeta = {
    format: 'xray-lp-bench-dump',
    generatorVersion: GENERATOR_VERSION,
    options: opts,
    gzip,
    fileBytes,
    sha256: hash.digest('hex'),
    generationSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    ...stats,
  };
  writeFileSync(`${out}.meta.json`, `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

/** Parses `256MB`, `1GB`, `200KB`, `1048576` (binary units: 1 MB = 2^20 bytes). */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size: ${s} (try 256MB, 1GB, 200KB)`);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Math.round(Number(m[1]) * mult);
}
