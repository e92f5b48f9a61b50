/**
 * Shards for the merge tests: inputs split over several databases (each ingested on its own),
 * the same inputs ingested into one database, and the stored content of a database with its
 * internal ids replaced by what they stand for (workload keys, target signatures, input
 * checksums), so that two databases built in different orders can be compared row for row.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ingest } from '../../src/ingest/ingest.js';
import { openStore, type Store } from '../../src/store/db.js';
import {
  awsCall,
  batch,
  hexId,
  independentCall,
  inferredFor,
  lambdaSegment,
  repoRoot,
  T0,
  tempDir,
  traceId,
  writeFile,
} from './helpers.js';

export const samples = {
  orders: path.join(repoRoot, 'samples/traces/orders-2023.json'),
  pipeline: path.join(repoRoot, 'samples/traces/pipeline.json'),
  reports: path.join(repoRoot, 'samples/traces/reports-us-east-1.json.gz'),
  thumbnailer: path.join(repoRoot, 'samples/traces/thumbnailer-2018.json'),
  spans: path.join(repoRoot, 'samples/otel/aws-spans.jsonl'),
  otlp: path.join(repoRoot, 'samples/otel/otlp-traces.jsonl'),
};

/** A database of its own for `inputs`, ingested in one run, closed; its path. */
export async function ingestShard(dir: string, name: string, inputs: string[]): Promise<string> {
  const file = path.join(dir, name);
  const store = openStore({ path: file });
  const r = await ingest(store, { inputs });
  store.close();
  if (r.rejected > 0) throw new Error(`${name}: ${JSON.stringify(r.results.map((x) => x.error))}`);
  return file;
}

/** The inputs of every shard, each once, in the order the shards list them (one ingest run). */
export function allInputs(shards: string[][]): string[] {
  return [...new Set(shards.flat())];
}

/** sha256 of a file and of its WAL, if any: equal before and after means untouched. */
export function fileHash(file: string): string {
  const h = crypto.createHash('sha256');
  for (const f of [file, `${file}-wal`]) if (fs.existsSync(f)) h.update(fs.readFileSync(f));
  return h.digest('hex');
}

/**
 * An independent subsegment (and one nested in it) sent on its own, its parent Lambda segment as
 * a loose document in another file: the subsegments' calls belong to the function.
 */
export function independentScenario(dir: string): Record<string, string> {
  const id = traceId(0x5e1);
  const seg = lambdaSegment(id, 'indep-fn', [awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' })]);
  const indep = independentCall(seg, awsCall('DynamoDB', 'PutItem', { table_name: 't' }));
  const nested = {
    id: hexId(),
    name: 'handler',
    type: 'subsegment',
    trace_id: id,
    parent_id: String(indep.id),
    start_time: T0 + 1,
    end_time: T0 + 2,
    namespace: 'local',
    subsegments: [
      awsCall('SQS', 'SendMessage', { queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' }),
    ],
  };
  return {
    parent: writeFile(dir, 'parent.json', JSON.stringify(seg)),
    subsegments: writeFile(dir, 'subsegments.json', `${JSON.stringify(indep)}\n${JSON.stringify(nested)}\n`),
  };
}

/** The bundled `aws/spans` sample split: the Lambda functions' SERVER spans, and every other span. */
export function serverScenario(dir: string): Record<string, string> {
  const lines = fs.readFileSync(samples.spans, 'utf8').trimEnd().split('\n');
  return {
    server: writeFile(
      dir,
      'server.jsonl',
      `${lines.filter((l) => l.includes('"kind":"SERVER"')).join('\n')}\n`,
    ),
    others: writeFile(
      dir,
      'others.jsonl',
      `${lines.filter((l) => !l.includes('"kind":"SERVER"')).join('\n')}\n`,
    ),
  };
}

/** A Lambda segment in progress (one call so far) and the same segment complete (two calls). */
export function inProgressScenario(dir: string): Record<string, string> {
  const id = traceId(0x5e2);
  const complete = lambdaSegment(id, 'progress-fn', [
    awsCall('S3', 'PutObject', { bucket_name: 'b', key: 'k' }),
    awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' }),
  ]);
  const partial = {
    ...complete,
    end_time: undefined,
    in_progress: true,
    subsegments: [
      {
        id: 'ffff0000000000aa',
        name: 'Invocation',
        start_time: T0,
        in_progress: true,
        subsegments: [awsCall('S3', 'PutObject', { bucket_name: 'b', key: 'k' })],
      },
    ],
  };
  return {
    partial: writeFile(dir, 'partial.json', JSON.stringify(partial)),
    complete: writeFile(dir, 'complete.json', JSON.stringify(complete)),
  };
}

/**
 * A call known only from its inferred segment (which records the topic ARN), and its caller (which
 * does not), each in its own file.
 */
export function inferredScenario(dir: string): Record<string, string> {
  const id = traceId(0x5e3);
  const call = awsCall('SNS', 'Publish', {});
  const seg = lambdaSegment(id, 'inferred-fn', [
    call,
    awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'x' }),
  ]);
  const inferred = inferredFor(call, id, 'AWS::SNS', {
    operation: 'Publish',
    topic_arn: 'arn:aws:sns:eu-west-1:123456789012:events',
  });
  return {
    inferred: writeFile(dir, 'inferred.json', JSON.stringify(inferred)),
    caller: writeFile(dir, 'caller.json', JSON.stringify(seg)),
  };
}

/** A trace listed as unprocessed by one batch-get-traces call and returned by another. */
export function unprocessedScenario(dir: string): Record<string, string> {
  const id = traceId(0x5e4);
  const seg = lambdaSegment(id, 'late-fn', [awsCall('DynamoDB', 'GetItem', { table_name: 't' })]);
  return {
    missing: writeFile(
      dir,
      'missing.json',
      JSON.stringify({ Traces: [], UnprocessedTraceIds: [id, traceId(0x5e5)] }),
    ),
    returned: writeFile(dir, 'returned.json', batch([{ id, segments: [seg] }])),
  };
}

/**
 * The spans of one SQS-triggered invocation of a Lambda function, as `aws/spans` records (one per
 * line): the function's SERVER span (the account in its attributes only, as upstream records
 * it), the Lambda instrumentation's CONSUMER `process` span for the queue, and a DynamoDB call.
 */
export function sqsInvocation(o: {
  trace: number;
  queue: string;
  fn?: string;
  account?: string;
  region?: string;
  /** Put the account on the resource too (then every span names the workload alone). */
  accountOnResource?: boolean;
  /** Leave out the SERVER span (it comes in another input). */
  noServer?: boolean;
}): string {
  const fn = o.fn ?? 'sqs-consumer';
  const account = o.account ?? '123456789012';
  const region = o.region ?? 'eu-west-1';
  const resource = {
    attributes: {
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_lambda',
      'cloud.region': region,
      'faas.name': fn,
      'service.name': fn,
      ...(o.accountOnResource ? { 'cloud.account.id': account } : {}),
    },
  };
  const traceHex = `6c0a${o.trace.toString(16).padStart(28, '0')}`;
  const t0 = 1795000000000000000 + o.trace * 1_000_000_000;
  const span = (id: string, parent: string | null, name: string, kind: string, attributes: object): string =>
    JSON.stringify({
      resource,
      traceId: traceHex,
      spanId: id,
      ...(parent ? { parentSpanId: parent } : {}),
      name,
      kind,
      startTimeUnixNano: t0,
      endTimeUnixNano: t0 + 50_000_000,
      attributes,
      status: { code: 'UNSET' },
    });
  const lines = [
    span('c000000000000002', 'c000000000000001', `process ${o.queue}`, 'CONSUMER', {
      'faas.trigger': 'pubsub',
      'messaging.operation.name': 'process',
      'messaging.system': 'aws_sqs',
      'messaging.destination.name': o.queue,
      'server.address': `sqs.${region}.amazonaws.com`,
      'aws.sqs.queue.url': `https://sqs.${region}.amazonaws.com/${account}/${o.queue}`,
    }),
    span('c000000000000003', 'c000000000000002', 'DynamoDB.PutItem', 'CLIENT', {
      'rpc.system': 'aws-api',
      'rpc.service': 'DynamoDB',
      'rpc.method': 'PutItem',
      'aws.region': region,
      'aws.dynamodb.table_names': ['orders'],
    }),
  ];
  if (!o.noServer)
    lines.push(
      span('c000000000000001', null, fn, 'SERVER', {
        'faas.trigger': 'pubsub',
        'faas.invocation_id': `inv-${o.trace}`,
        'cloud.resource_id': `arn:aws:lambda:${region}:${account}:function:${fn}`,
        'cloud.account.id': account,
      }),
    );
  return `${lines.join('\n')}\n`;
}

/** One function triggered by two queues, one queue per file. */
export function triggerScenario(dir: string): Record<string, string> {
  return {
    triggerA: writeFile(dir, 'trigger-a.jsonl', sqsInvocation({ trace: 1, queue: 'orders-in' })),
    triggerB: writeFile(dir, 'trigger-b.jsonl', sqsInvocation({ trace: 2, queue: 'orders-retry' })),
  };
}

/** Configuration exports (test/fixtures/config): a function's configuration and its mappings. */
export function configScenario(): Record<string, string> {
  const dir = path.join(repoRoot, 'test/fixtures/config');
  return {
    fnConfig: path.join(dir, 'get-function-configuration.json'),
    mappings: path.join(dir, 'list-event-source-mappings.json'),
    taskDef: path.join(dir, 'describe-task-definition.json'),
  };
}

/** CloudTrail deliveries that overlap (records in several forms, by eventID). */
export function trailScenario(): Record<string, string> {
  const dir = path.join(repoRoot, 'test/fixtures/cloudtrail');
  return {
    trailRecords: path.join(dir, 'records.json'),
    trailLookup: path.join(dir, 'lookup-events.json'),
    trailTree: path.join(dir, 'tree'),
  };
}

/** Every scenario's files in one directory. */
export function scenarios(): Record<string, string> {
  const dir = tempDir();
  return {
    ...samples,
    ...independentScenario(dir),
    ...serverScenario(dir),
    ...inProgressScenario(dir),
    ...inferredScenario(dir),
    ...unprocessedScenario(dir),
    ...triggerScenario(dir),
    ...configScenario(),
    ...trailScenario(),
  };
}

const rows = (store: Store, sql: string): unknown[] => store.prepare(sql).all();

/**
 * What a database holds, ids replaced by what they stand for. `sources: false` leaves out the
 * inputs and which input each row came from (for databases built from other copies of the inputs).
 */
export function content(store: Store, opts: { sources?: boolean } = {}): Record<string, unknown[]> {
  const withSources = opts.sources ?? true;
  const src = (alias: string): string => (withSources ? `, ${alias}.sha256 AS source` : '');
  return {
    workloads: (
      rows(store, 'SELECT key, kind, name, arn, account, region, attrs FROM workloads ORDER BY key') as {
        attrs: string;
      }[]
    ).map((w) => ({ ...w, attrs: JSON.parse(w.attrs) as unknown })),
    traces: rows(
      store,
      `SELECT t.xray_id AS id, t.duration, t.limit_exceeded ${src('s')} FROM traces t JOIN sources s ON s.id = t.source_id ORDER BY t.xray_id`,
    ),
    unprocessed: rows(store, 'SELECT id FROM unprocessed_traces ORDER BY id'),
    trailEvents: rows(
      store,
      `SELECT e.* ${src('s')} FROM trail_events e JOIN sources s ON s.id = e.source_id ORDER BY e.event_id`,
    ).map((r) => ({ ...(r as Record<string, unknown>), source_id: undefined })),
    configs: rows(
      store,
      `SELECT c.kind, c.key, c.function, c.data ${src('s')} FROM configs c JOIN sources s ON s.id = c.source_id ORDER BY 1, 2`,
    ),
    segments: rows(
      store,
      `SELECT tr.xray_id AS trace_id, g.id, g.type, g.parent_id, w.key AS workload, g.name, g.origin, g.start_time, g.end_time,
         g.in_progress, f.key AS fallback ${src('s')}
       FROM segments g JOIN traces tr ON tr.id = g.trace_id
       LEFT JOIN workloads w ON w.id = g.workload_id LEFT JOIN workloads f ON f.id = g.fallback_id
       JOIN sources s ON s.id = g.source_id ORDER BY 1, 2`,
    ),
    nodes: rows(
      store,
      'SELECT tr.xray_id AS trace_id, n.id, n.segment_id FROM nodes n JOIN traces tr ON tr.id = n.trace_id ORDER BY 1, 2',
    ),
    calls: rows(
      store,
      `SELECT tr.xray_id AS trace_id, c.sub_id, c.segment_id, w.key AS workload, c.start_time, c.end_time, t.sig, t.mapping,
         t.mapping_reason, c.http_status, c.outcome, c.error_type, c.via ${src('s')}
       FROM calls c JOIN traces tr ON tr.id = c.trace_id JOIN targets t ON t.id = c.target_id LEFT JOIN workloads w ON w.id = c.workload_id
       JOIN sources s ON s.id = c.source_id ORDER BY 1, 2`,
    ),
    permissions: rows(
      store,
      `SELECT DISTINCT t.sig, p.action, p.resource, p.resource_type, p.resource_unknown, p.note
       FROM calls c JOIN targets t ON t.id = c.target_id JOIN target_permissions p ON p.target_id = t.id
       ORDER BY 1, 2, 3`,
    ),
    workloadDays: rows(
      store,
      `SELECT w.key, d.day, d.calls, d.traces, d.denied, d.errors, d.faults, d.throttles, d.first_time, d.last_time
       FROM workload_days d JOIN workloads w ON w.id = d.workload_id ORDER BY 1, 2`,
    ),
    workloadDayTargets: rows(
      store,
      `SELECT w.key, d.day, t.sig, d.outcome, d.calls, d.first_time, d.last_time, d.trace_min, d.trace_max
       FROM workload_day_targets d JOIN workloads w ON w.id = d.workload_id JOIN targets t ON t.id = d.target_id
       ORDER BY 1, 2, 3, 4`,
    ),
    workloadDayActions: rows(
      store,
      `SELECT w.key, d.day, d.action, d.calls FROM workload_day_actions d JOIN workloads w ON w.id = d.workload_id
       ORDER BY 1, 2, 3`,
    ),
    // Rollup rows of no workload (a workload dropped under them) must not exist.
    orphanRollups: rows(
      store,
      `SELECT 'days' AS t, workload_id FROM workload_days WHERE workload_id NOT IN (SELECT id FROM workloads)
       UNION ALL SELECT 'targets', workload_id FROM workload_day_targets WHERE workload_id NOT IN (SELECT id FROM workloads)
       UNION ALL SELECT 'actions', workload_id FROM workload_day_actions WHERE workload_id NOT IN (SELECT id FROM workloads)`,
    ),
    sources: withSources
      ? rows(
          store,
          // Not the path (the shard is noted in it), times, or the counts that depend on what was
          // stored before each ingest: new segments and calls, the traces of loose documents
          // (counted when new), calls (those of a segment already stored complete are not read).
          `SELECT sha256, size, shape, documents, segments, problems FROM sources ORDER BY sha256, size`,
        )
      : [],
    problems: withSources
      ? rows(
          store,
          'SELECT s.sha256, p.path, p.message FROM problems p JOIN sources s ON s.id = p.source_id ORDER BY 1, 2, 3',
        )
      : [],
  };
}

/** The rollups computed from scratch from calls, in {@link content}'s terms. */
export function rollupsFromCalls(store: Store): Record<string, unknown[]> {
  return {
    workloadDays: rows(
      store,
      `SELECT w.key, CAST(floor(c.start_time / 86400.0) AS INTEGER) AS day, count(*) AS calls, count(DISTINCT c.trace_id) AS traces,
         sum(c.outcome = 'denied') AS denied, sum(c.outcome = 'error') AS errors, sum(c.outcome = 'fault') AS faults,
         sum(c.outcome = 'throttle') AS throttles, min(c.start_time) AS first_time, max(c.start_time) AS last_time
       FROM calls c JOIN workloads w ON w.id = c.workload_id GROUP BY 1, 2 ORDER BY 1, 2`,
    ),
    workloadDayTargets: rows(
      store,
      `SELECT w.key, CAST(floor(c.start_time / 86400.0) AS INTEGER) AS day, t.sig, c.outcome, count(*) AS calls,
         min(c.start_time) AS first_time, max(c.start_time) AS last_time, min(tr.xray_id) AS trace_min, max(tr.xray_id) AS trace_max
       FROM calls c JOIN traces tr ON tr.id = c.trace_id JOIN workloads w ON w.id = c.workload_id JOIN targets t ON t.id = c.target_id
       GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    ),
    workloadDayActions: rows(
      store,
      `SELECT w.key, CAST(floor(c.start_time / 86400.0) AS INTEGER) AS day, p.action, count(*) AS calls
       FROM calls c JOIN workloads w ON w.id = c.workload_id JOIN target_permissions p ON p.target_id = c.target_id
       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    ),
  };
}
