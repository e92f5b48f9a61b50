import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import test from 'ava';
import { generateDumpSync } from '../../bench/gen.js';
import { ingest } from '../../src/ingest/ingest.js';
import type { Store } from '../../src/store/db.js';
import {
  awsCall,
  batch,
  counts,
  fixturesDir,
  hexId,
  lambdaSegment,
  T0,
  tempDir,
  tempStore,
  traceId,
  writeFile,
  independentCall,
  inferredFor,
} from '../helpers.js';

interface CallRowDb {
  trace_id: string;
  sub_id: string;
  workload_id: number | null;
  service: string;
  service_name: string;
  operation: string | null;
  region: string | null;
  account: string | null;
  outcome: string;
  http_status: number | null;
  denied_action: string | null;
  denied_resource: string | null;
  params: string | null;
  via: string;
}

function calls(store: Store): CallRowDb[] {
  return store
    .prepare(
      `SELECT c.*, t.service, t.service_name, t.operation, t.region, t.account, t.params, t.denied_action, t.denied_resource
       FROM calls c JOIN targets t ON t.id = c.target_id ORDER BY c.start_time, c.sub_id`,
    )
    .all() as CallRowDb[];
}

function principals(store: Store): {
  key: string;
  kind: string;
  name: string;
  arn: string | null;
  account: string | null;
  region: string | null;
  attrs: string;
}[] {
  return store
    .prepare('SELECT key, kind, name, arn, account, region, attrs FROM workloads ORDER BY key')
    .all() as never;
}

/** A small two-trace scenario used across shape tests. */
function scenario(): { id: string; segments: Record<string, unknown>[] }[] {
  const t1 = traceId(1);
  const t2 = traceId(2);
  return [
    {
      id: t1,
      segments: [
        lambdaSegment(t1, 'orders', [
          awsCall('DynamoDB', 'GetItem', { table_name: 'orders' }),
          awsCall('SQS', 'SendMessage', {
            queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs',
          }),
        ]),
      ],
    },
    {
      id: t2,
      segments: [
        lambdaSegment(t2, 'orders', [awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k/1' })], {
          qualifier: 'live',
        }),
      ],
    },
  ];
}

async function ingestText(
  text: string | Buffer,
  name = 'dump.json',
  parallel: boolean | 'auto' = 'auto',
): Promise<{ store: Store; summary: Awaited<ReturnType<typeof ingest>>; file: string; dir: string }> {
  const { store, dir } = tempStore();
  const file = writeFile(dir, name, text);
  const summary = await ingest(store, { inputs: [file], parallel });
  return { store, summary, file, dir };
}

// ---- accepted shapes -------------------------------------------------------------------------

const traces = scenario();
const segmentsOf = traces.flatMap((t) => t.segments);
const shapes: { name: string; text: () => string | Buffer; shape: string; file?: string }[] = [
  { name: 'batch-get-traces (pretty)', text: () => batch(traces), shape: 'batch-get-traces' },
  {
    name: 'concatenated batch documents',
    text: () => batch(traces.slice(0, 1)) + batch(traces.slice(1)),
    shape: 'batch-get-traces',
  },
  {
    name: 'one batch document per line',
    text: () =>
      `${batch(traces.slice(0, 1), { pretty: false })}\n${batch(traces.slice(1), { pretty: false })}\n`,
    shape: 'batch-get-traces',
  },
  {
    name: 'Document given as an object',
    text: () => batch(traces, { documentAsObject: true }),
    shape: 'batch-get-traces',
  },
  {
    name: 'bare array of Trace objects',
    text: () => JSON.stringify(JSON.parse(batch(traces)).Traces),
    shape: 'trace-array',
  },
  {
    name: 'single Trace objects, concatenated',
    text: () =>
      JSON.parse(batch(traces))
        .Traces.map((t: unknown) => JSON.stringify(t))
        .join('\n'),
    shape: 'trace',
  },
  {
    name: 'already-parsed segments (no Id/Document wrapper)',
    text: () => JSON.stringify(traces.map((t) => ({ Id: t.id, Duration: 1, Segments: t.segments }))),
    shape: 'trace-array',
  },
  {
    name: 'list-retrieved-traces in XRAY format (Spans)',
    text: () =>
      JSON.stringify({
        RetrievalStatus: 'COMPLETE',
        TraceFormat: 'XRAY',
        Traces: traces.map((t) => ({
          Id: t.id,
          Duration: 1,
          Spans: t.segments.map((s) => ({ Id: s.id, Document: JSON.stringify(s) })),
        })),
      }),
    shape: 'list-retrieved-traces',
  },
  {
    name: 'raw segment documents, one per line',
    text: () => segmentsOf.map((s) => JSON.stringify(s)).join('\n'),
    shape: 'segment-documents',
  },
  {
    name: 'daemon packets (header line + document)',
    text: () => segmentsOf.map((s) => `{"format": "json", "version": 1}\n${JSON.stringify(s)}`).join('\n'),
    shape: 'daemon-packets',
  },
  {
    name: 'gzip-compressed batch output',
    text: () => zlib.gzipSync(batch(traces)),
    shape: 'batch-get-traces',
    file: 'dump.json.gz',
  },
  {
    name: 'gzip without a .gz name (detected by magic bytes)',
    text: () => zlib.gzipSync(batch(traces)),
    shape: 'batch-get-traces',
    file: 'dump.json',
  },
  {
    name: 'PutTraceSegments input (TraceSegmentDocuments)',
    text: () => JSON.stringify({ TraceSegmentDocuments: segmentsOf.map((s) => JSON.stringify(s)) }),
    shape: 'put-trace-segments',
  },
  { name: 'UTF-8 BOM', text: () => `\ufeff${batch(traces)}`, shape: 'batch-get-traces' },
];

for (const s of shapes) {
  for (const parallel of [false, true]) {
    test(`ingests ${s.name}${parallel ? ' (parsed on a worker thread)' : ''}`, async (t) => {
      const { store, summary } = await ingestText(s.text(), s.file, parallel);
      t.is(summary.rejected, 0, JSON.stringify(summary.results[0]?.error));
      t.is(summary.results[0]?.shape, s.shape);
      t.deepEqual(counts(store), { traces: 2, segments: 2, calls: 3, workloads: 1 });
      const ops = calls(store)
        .map((c) => `${c.service}:${c.operation}`)
        .sort();
      t.deepEqual(ops, ['dynamodb:GetItem', 's3:GetObject', 'sqs:SendMessage']);
      t.true(calls(store).every((c) => c.workload_id !== null));
    });
  }
}

test('the worker thread reports rejections with the same position, and the next input still ingests', async (t) => {
  const { store, dir } = tempStore();
  const [a, b] = traces;
  const full = batch([a!]) + batch([b!]);
  const cut = writeFile(dir, 'cut.json', full.slice(0, full.length - 40));
  const summary = await ingest(store, {
    inputs: [
      cut,
      writeFile(dir, 'sum.json', '{"TraceSummaries": []}'),
      writeFile(dir, 'ok.json', batch([a!])),
    ],
    parallel: true,
  });
  t.deepEqual(
    summary.results.map((r) => r.status),
    ['rejected', 'rejected', 'ingested'],
  );
  t.regex(summary.results[0]!.error!.message, /truncated/);
  t.is(summary.results[0]!.error!.offset, Buffer.byteLength(full) - 40);
  t.regex(summary.results[1]!.error!.message, /trace summaries/);
  t.regex(summary.results[1]!.error!.hint!, /batch-get-traces/);
  t.deepEqual(counts(store), { traces: 1, segments: 1, calls: 2, workloads: 1 });
});

test('worker and inline parsing store identical rows', async (t) => {
  const many = Array.from({ length: 60 }, (_, i) => {
    const id = traceId(5000 + i);
    return {
      id,
      segments: [
        lambdaSegment(id, `fn-${i % 5}`, [
          awsCall('DynamoDB', 'PutItem', { table_name: `t${i % 4}` }),
          awsCall('S3', 'GetObject', { bucket_name: 'b', key: `k/${i}` }),
        ]),
      ],
    };
  });
  const text = batch(many);
  const dump = (store: Store): unknown =>
    store
      .prepare('SELECT trace_id, sub_id, start_time, outcome, via FROM calls ORDER BY trace_id, sub_id')
      .all();
  const inline = await ingestText(text, 'a.json', false);
  const worker = await ingestText(text, 'a.json', true);
  t.deepEqual(dump(worker.store), dump(inline.store));
  t.is((dump(inline.store) as unknown[]).length, 120);
});

test('a huge single document is read member by member with the same result', async (t) => {
  const many = Array.from({ length: 200 }, (_, i) => {
    const id = traceId(1000 + i);
    return {
      id,
      segments: [
        lambdaSegment(id, `fn-${i % 7}`, [awsCall('DynamoDB', 'PutItem', { table_name: `t${i % 3}` })]),
      ],
    };
  });
  const { store, dir } = tempStore();
  const file = writeFile(dir, 'big.json', batch(many));
  const summary = await ingest(store, { inputs: [file], wholeLimit: 4096 });
  t.is(summary.rejected, 0);
  t.deepEqual(counts(store), { traces: 200, segments: 200, calls: 200, workloads: 7 });
});

test('a huge single Trace object in parts keeps its trace metadata', async (t) => {
  const id = traceId(77);
  const segs = Array.from({ length: 30 }, (_, i) =>
    lambdaSegment(id, 'fn', [
      awsCall('SNS', 'Publish', { topic_arn: `arn:aws:sns:eu-west-1:123456789012:t${i}` }),
    ]),
  );
  const text = JSON.stringify({
    Segments: segs.map((s) => ({ Id: s.id, Document: JSON.stringify(s) })),
    Id: id,
    Duration: 9.5,
    LimitExceeded: true,
  });
  const { store, dir } = tempStore();
  const summary = await ingest(store, { inputs: [writeFile(dir, 'one.json', text)], wholeLimit: 1024 });
  t.is(summary.rejected, 0);
  t.deepEqual(store.prepare('SELECT id, duration, limit_exceeded FROM traces').all(), [
    { id, duration: 9.5, limit_exceeded: 1 },
  ]);
  t.is(counts(store).calls, 30);
});

test('reads standard input with -', async (t) => {
  const { store } = tempStore();
  const summary = await ingest(store, { inputs: ['-'], stdin: Readable.from([Buffer.from(batch(traces))]) });
  t.is(summary.ingested, 1);
  t.is(counts(store).calls, 3);
});

test('walks directories recursively, picking dump-like names only', async (t) => {
  const { store, dir } = tempStore();
  const [a, b] = traces;
  writeFile(dir, 'in/a.json', batch([a!]));
  writeFile(dir, 'in/deeper/b.json.gz', zlib.gzipSync(batch([b!])));
  writeFile(dir, 'in/README.md', '# not a dump');
  writeFile(dir, 'in/.hidden.json', 'garbage');
  const summary = await ingest(store, { inputs: [path.join(dir, 'in')] });
  t.deepEqual(
    summary.results.map((r) => path.relative(dir, r.input)),
    ['in/a.json', 'in/deeper/b.json.gz'],
  );
  t.is(counts(store).calls, 3);
});

// ---- rejected shapes -------------------------------------------------------------------------

const rejected: { name: string; text: string; message: RegExp; hint?: RegExp }[] = [
  {
    name: 'get-trace-summaries output',
    text: JSON.stringify({
      TraceSummaries: [{ Id: traceId(1), HasFault: false, ResponseTime: 1 }],
      ApproximateTime: 1,
    }),
    message: /trace summaries/,
    hint: /pass their ids to `aws xray batch-get-traces/,
  },
  {
    name: 'a service graph',
    text: JSON.stringify({ Services: [{ Name: 'x' }], StartTime: 1, EndTime: 2 }),
    message: /service graph/,
  },
  {
    name: '--output yaml',
    text: 'Traces:\n- Duration: 1.0\n  Id: 1-abc\n',
    message: /expected '\{' or '\[' but found 'T'/,
  },
  { name: '--output text', text: 'TRACES\t1.0\t1-5f1\tFalse\nSEGMENTS\t{"id":"1"}\n', message: /found 'T'/ },
  { name: 'binary garbage', text: '\u0000\u0001\u00ff', message: /not a JSON document/ },
  {
    name: 'OTEL-format retrieved traces',
    text: JSON.stringify({
      RetrievalStatus: 'COMPLETE',
      TraceFormat: 'OTEL',
      Traces: [{ Id: 'x', Spans: [{ Id: 'a', Document: '{"traceId":"a","spanId":"b"}' }] }],
    }),
    message: /OpenTelemetry-format retrieved traces are not supported yet/,
    hint: /--trace-format XRAY/,
  },
  {
    name: 'OTEL span documents without TraceFormat',
    text: JSON.stringify({
      Traces: [{ Id: 'x', Spans: [{ Id: 'a', Document: '{"traceId":"a","spanId":"b","name":"n"}' }] }],
    }),
    message: /OpenTelemetry/,
  },
  { name: 'an empty file', text: '', message: /the input is empty/ },
  { name: 'whitespace only', text: '  \n\n', message: /holds no JSON value/ },
  {
    name: 'a Document string that is not JSON',
    text: JSON.stringify({ Traces: [{ Id: 'x', Segments: [{ Id: 'a', Document: '{"id": oops}' }] }] }),
    message: /invalid JSON in a segment Document string/,
  },
  {
    name: 'some other JSON',
    text: JSON.stringify({ hello: 'world' }),
    message: /not an X-Ray trace export \(found keys: hello\)/,
  },
];

for (const r of rejected) {
  test(`rejects ${r.name}, leaving the database unchanged`, async (t) => {
    const { store, dir } = tempStore();
    const good = writeFile(dir, 'good.json', batch(traces));
    await ingest(store, { inputs: [good] });
    const before = counts(store);
    const sourcesBefore = store.prepare('SELECT count(*) AS n FROM sources').get();
    const bad = writeFile(dir, 'bad.json', r.text);
    const summary = await ingest(store, { inputs: [bad] });
    t.is(summary.rejected, 1);
    const res = summary.results[0]!;
    t.is(res.status, 'rejected');
    t.regex(res.error!.message, r.message);
    if (r.hint) t.regex(res.error!.hint ?? '', r.hint);
    t.deepEqual(counts(store), before);
    t.deepEqual(store.prepare('SELECT count(*) AS n FROM sources').get(), sourcesBefore);
  });
}

test('a file truncated mid-way contributes nothing, names the position, and the others still ingest', async (t) => {
  const { store, dir } = tempStore();
  const [a, b] = traces;
  const full = batch([a!]) + batch([b!]);
  const cut = full.slice(0, full.length - 40);
  const truncated = writeFile(dir, 'cut.json', cut);
  const other = writeFile(dir, 'other.json', batch([a!]));
  const summary = await ingest(store, { inputs: [truncated, other] });
  t.is(summary.rejected, 1);
  t.is(summary.ingested, 1);
  const err = summary.results[0]!.error!;
  t.regex(err.message, /truncated/);
  t.is(err.offset, Buffer.byteLength(cut));
  t.is(err.line, cut.split('\n').length);
  // Only the other file's single trace is stored, although the first document of the cut file was complete.
  t.deepEqual(counts(store), { traces: 1, segments: 1, calls: 2, workloads: 1 });
});

test('a missing input is reported and the rest is ingested', async (t) => {
  const { store, dir } = tempStore();
  const good = writeFile(dir, 'good.json', batch(traces));
  const summary = await ingest(store, { inputs: [path.join(dir, 'nope.json'), good] });
  t.is(summary.rejected, 1);
  t.regex(summary.results[0]!.error!.message, /no such file/);
  t.is(counts(store).calls, 3);
});

test('a gzip bomb stops with a clear error', async (t) => {
  const bomb = zlib.gzipSync(Buffer.alloc(300 * 1024 * 1024, 0x20), { level: 9 });
  const { summary, store } = await ingestText(bomb, 'bomb.json.gz');
  t.is(summary.rejected, 1);
  t.regex(summary.results[0]!.error!.message, /gzip bomb/);
  t.is(counts(store).traces, 0);
});

test('corrupt gzip data is rejected', async (t) => {
  const gz = zlib.gzipSync(batch(traces));
  const { summary } = await ingestText(gz.subarray(0, gz.length - 30), 'cut.json.gz');
  t.is(summary.rejected, 1);
  t.regex(summary.results[0]!.error!.message, /gzip|truncated|unexpected end/);
});

// ---- exactly once ----------------------------------------------------------------------------

test('ingesting the same file twice changes no counts', async (t) => {
  const { store, file } = await ingestText(batch(traces));
  const first = counts(store);
  const again = await ingest(store, { inputs: [file] });
  t.deepEqual(counts(store), first);
  t.is(again.newCalls, 0);
  t.is(again.newSegments, 0);
  t.is(again.duplicateSegments, 2);
});

test('overlapping dumps and a trace split across files store each segment and call once', async (t) => {
  const id = traceId(9);
  const fn = lambdaSegment(id, 'a', [awsCall('DynamoDB', 'GetItem', { table_name: 'x' })]);
  const ecs = {
    id: hexId(),
    name: 'worker',
    origin: 'AWS::ECS::Container',
    trace_id: id,
    start_time: T0,
    end_time: T0 + 1,
    aws: { ecs: { container: 'worker-1' }, account_id: '123456789012' },
    subsegments: [
      awsCall('SQS', 'ReceiveMessage', { queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' }),
    ],
  };
  const { store, dir } = tempStore();
  const f1 = writeFile(dir, '1.json', batch([{ id, segments: [fn] }]));
  const f2 = writeFile(dir, '2.json', batch([{ id, segments: [fn, ecs] }]));
  await ingest(store, { inputs: [f1, f2, f1, f2] });
  t.deepEqual(counts(store), { traces: 1, segments: 2, calls: 2, workloads: 2 });
});

test('a complete segment replaces an in-progress one', async (t) => {
  const id = traceId(10);
  const complete = lambdaSegment(id, 'fn', [
    awsCall('S3', 'PutObject', { bucket_name: 'b', key: 'k' }),
    awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' }),
  ]);
  const partial = {
    ...complete,
    end_time: undefined,
    in_progress: true,
    subsegments: [
      {
        id: 'ffff000000000001',
        name: 'Invocation',
        start_time: T0,
        in_progress: true,
        subsegments: [awsCall('S3', 'PutObject', { bucket_name: 'b', key: 'k' })],
      },
    ],
  };
  const { store, dir } = tempStore();
  const p = writeFile(dir, 'p.json', JSON.stringify(partial));
  const c = writeFile(dir, 'c.json', JSON.stringify(complete));
  await ingest(store, { inputs: [p] });
  t.is(counts(store).calls, 1);
  await ingest(store, { inputs: [c, p] });
  t.deepEqual(counts(store), { traces: 1, segments: 1, calls: 2, workloads: 1 });
  t.deepEqual(store.prepare('SELECT in_progress FROM segments').get(), { in_progress: 0 });
});

// ---- what is extracted -----------------------------------------------------------------------

test('an inferred segment is not a second call; it fills in what the caller lacked', async (t) => {
  const id = traceId(11);
  const call = awsCall('SNS', 'Publish', {});
  const seg = lambdaSegment(id, 'fn', [call]);
  const inferred = inferredFor(call, id, 'AWS::SNS', {
    operation: 'Publish',
    topic_arn: 'arn:aws:sns:eu-west-1:123456789012:events',
  });
  for (const order of [
    [seg, inferred],
    [inferred, seg],
  ]) {
    const { store } = await ingestText(batch([{ id, segments: order }]));
    const rows = calls(store);
    t.is(rows.length, 1);
    t.is(rows[0]!.via, 'sdk');
    t.deepEqual(JSON.parse(rows[0]!.params!), { topic_arn: 'arn:aws:sns:eu-west-1:123456789012:events' });
  }
});

test('an inferred segment whose caller is absent is the call itself, replaced when the caller arrives later', async (t) => {
  const id = traceId(12);
  const call = awsCall('DynamoDB', 'UpdateItem', { table_name: 'orders' });
  const seg = lambdaSegment(id, 'fn', [call]);
  const inferred = inferredFor(call, id, 'AWS::DynamoDB::Table', {
    operation: 'UpdateItem',
    table_name: 'orders',
  });
  const { store, dir } = tempStore();
  await ingest(store, { inputs: [writeFile(dir, 'inferred.json', JSON.stringify(inferred))] });
  let rows = calls(store);
  t.is(rows.length, 1);
  t.is(rows[0]!.via, 'inferred');
  t.is(rows[0]!.workload_id, null);
  t.is(rows[0]!.service, 'dynamodb');
  await ingest(store, { inputs: [writeFile(dir, 'seg.json', JSON.stringify(seg))] });
  rows = calls(store);
  t.is(rows.length, 1);
  t.is(rows[0]!.via, 'sdk');
  t.not(rows[0]!.workload_id, null);
});

test('an independent subsegment in another file is joined to its parent workload', async (t) => {
  const id = traceId(13);
  const seg = lambdaSegment(id, 'fn', []);
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
    subsegments: [awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' })],
  };
  const { store, dir } = tempStore();
  const a = writeFile(dir, 'a.json', `${JSON.stringify(nested)}\n${JSON.stringify(indep)}`);
  const b = writeFile(dir, 'b.json', JSON.stringify(seg));
  await ingest(store, { inputs: [a] });
  t.is(
    (store.prepare('SELECT count(*) AS n FROM calls WHERE workload_id IS NULL').get() as { n: number }).n,
    2,
  );
  await ingest(store, { inputs: [b] });
  const rows = calls(store);
  t.is(rows.length, 2);
  t.true(rows.every((r) => r.workload_id !== null));
});

test('the Lambda service segment and the function segment are one workload; aliases are attributes', async (t) => {
  const id = traceId(14);
  const fnArn = 'arn:aws:lambda:eu-west-1:123456789012:function:orders';
  const service = {
    id: hexId(),
    name: 'orders',
    origin: 'AWS::Lambda',
    trace_id: id,
    start_time: T0,
    end_time: T0 + 3,
    resource_arn: fnArn,
    http: { response: { status: 200 } },
  };
  const fn = lambdaSegment(id, 'orders', [awsCall('DynamoDB', 'GetItem', { table_name: 'o' })], {
    qualifier: 'live',
  });
  const fn2 = lambdaSegment(traceId(15), 'orders', [], { qualifier: '7' });
  const { store } = await ingestText(
    batch([
      { id, segments: [service, fn] },
      { id: traceId(15), segments: [fn2] },
    ]),
  );
  const p = principals(store);
  t.is(p.length, 1);
  t.like(p[0]!, {
    key: fnArn,
    kind: 'lambda',
    name: 'orders',
    arn: fnArn,
    account: '123456789012',
    region: 'eu-west-1',
  });
  t.deepEqual(JSON.parse(p[0]!.attrs), { qualifiers: ['7', 'live'] });
});

test('workload kinds from origins and aws blocks', async (t) => {
  const id = traceId(16);
  const base = { trace_id: id, start_time: T0, end_time: T0 + 1 };
  const segs = [
    {
      ...base,
      id: hexId(),
      name: 'billing',
      origin: 'AWS::ECS::Container',
      aws: {
        ecs: {
          container: 'billing-1',
          cluster_arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
          task_family: 'billing',
        },
      },
    },
    {
      ...base,
      id: hexId(),
      name: 'web',
      origin: 'AWS::EKS::Container',
      aws: { eks: { cluster_name: 'k', pod: 'web-1' }, account_id: '123456789012' },
    },
    {
      ...base,
      id: hexId(),
      name: 'api',
      origin: 'AWS::EC2::Instance',
      aws: { ec2: { instance_id: 'i-1', availability_zone: 'us-east-1c' } },
    },
    {
      ...base,
      id: hexId(),
      name: 'Scorekeep',
      origin: 'AWS::ElasticBeanstalk::Environment',
      aws: { elastic_beanstalk: { environment_name: 'scorekeep-dev' } },
    },
    {
      ...base,
      id: hexId(),
      name: 'flow',
      origin: 'AWS::StepFunctions::StateMachine',
      resource_arn: 'arn:aws:states:eu-west-1:123456789012:execution:flow:run-1',
    },
    {
      ...base,
      id: hexId(),
      name: 'app/Prod',
      origin: 'AWS::ApiGateway::Stage',
      resource_arn: 'arn:aws:apigateway:us-east-1::/restapis/abc/stages/Prod',
      aws: { api_gateway: { account_id: '123456789012', rest_api_id: 'abc', stage: 'Prod' } },
    },
    { ...base, id: hexId(), name: 'plain-service' },
  ];
  const { store } = await ingestText(batch([{ id, segments: segs }]));
  const p = principals(store).map((r) => [r.kind, r.name, r.account, r.region]);
  t.deepEqual(
    p.sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    [
      ['apigateway', 'app/Prod', '123456789012', 'us-east-1'],
      ['beanstalk', 'scorekeep-dev', null, null],
      ['ec2', 'api', null, 'us-east-1'],
      ['ecs', 'billing', '123456789012', 'eu-west-1'],
      ['eks', 'web', '123456789012', null],
      ['service', 'plain-service', null, null],
      ['stepfunctions', 'flow', '123456789012', 'eu-west-1'],
    ],
  );
  t.truthy(
    principals(store).find(
      (r) =>
        r.kind === 'stepfunctions' && r.arn === 'arn:aws:states:eu-west-1:123456789012:stateMachine:flow',
    ),
  );
});

test('inferred segments are never workloads', async (t) => {
  const id = traceId(17);
  const inferred = {
    id: hexId(),
    name: 'DynamoDB',
    inferred: true,
    parent_id: hexId(),
    trace_id: id,
    origin: 'AWS::DynamoDB::Table',
    start_time: T0,
    end_time: T0 + 1,
    aws: { operation: 'GetItem', table_name: 't' },
  };
  const { store } = await ingestText(JSON.stringify(inferred));
  t.is(counts(store).workloads, 0);
});

test('AWS calls at any depth are found; children of a call are not calls', async (t) => {
  const id = traceId(18);
  const goCall = awsCall(
    'dynamodb',
    'PutItem',
    { table_name: 't' },
    {
      subsegments: [
        { id: hexId(), name: 'marshal', start_time: T0, end_time: T0 },
        {
          id: hexId(),
          name: 'attempt',
          start_time: T0,
          end_time: T0,
          subsegments: [{ id: hexId(), name: 'connect', start_time: T0, end_time: T0 }],
        },
      ],
    },
  );
  const sfnTask = awsCall('Lambda', 'Invoke', { function_name: 'f' });
  const sm = {
    id: hexId(),
    name: 'flow',
    origin: 'AWS::StepFunctions::StateMachine',
    resource_arn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:flow',
    trace_id: id,
    start_time: T0,
    end_time: T0 + 5,
    subsegments: [
      {
        id: hexId(),
        name: 'Map',
        start_time: T0,
        subsegments: [
          {
            id: hexId(),
            name: 'Iteration 0',
            start_time: T0,
            subsegments: [{ id: hexId(), name: 'Invoke task', start_time: T0, subsegments: [sfnTask] }],
          },
        ],
      },
    ],
  };
  const seg = lambdaSegment(id, 'fn', [goCall]);
  const { store } = await ingestText(batch([{ id, segments: [seg, sm] }]));
  t.deepEqual(
    calls(store)
      .map((c) => `${c.service}:${c.operation}`)
      .sort(),
    ['dynamodb:PutItem', 'lambda:Invoke'],
  );
});

test('service names are normalised through the alias table; unknown ones fall back on the URL host', async (t) => {
  const names: [string, string][] = [
    ['dynamodb', 'dynamodb'],
    ['DynamoDb', 'dynamodb'],
    ['DynamoDBv2', 'dynamodb'],
    ['AmazonDynamoDBv2', 'dynamodb'],
    ['Amazon S3', 's3'],
    ['states', 'states'],
    ['SFN', 'states'],
    ['Sfn', 'states'],
    ['StepFunctions', 'states'],
    ['Events', 'events'],
    ['EventBridge', 'events'],
    ['SimpleNotificationService', 'sns'],
    ['CloudWatchLogs', 'logs'],
    ['runtime.sagemaker', 'sagemaker'],
    ['AWSLambda', 'lambda'],
  ];
  const id = traceId(19);
  const subs = names.map(([n]) => awsCall(n, 'Op'));
  subs.push(
    awsCall(
      'MysteryClient',
      'DescribeThing',
      {},
      { http: { request: { url: 'https://kinesis.us-east-2.amazonaws.com/' }, response: { status: 200 } } },
    ),
  );
  const { store } = await ingestText(batch([{ id, segments: [lambdaSegment(id, 'fn', subs)] }]));
  const byName = new Map(calls(store).map((c) => [c.service_name, c.service]));
  for (const [n, prefix] of names) t.is(byName.get(n), prefix, n);
  t.is(byName.get('MysteryClient'), 'kinesis');
});

test('outcomes: ok, error, fault, throttle, denied; denied messages give the exact action and ARN', async (t) => {
  const id = traceId(20);
  const denyMsg =
    'User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: dynamodb:DeleteItem on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/orders because no identity-based policy allows the dynamodb:DeleteItem action';
  const ex = (type: string, message = 'm'): Record<string, unknown> => ({
    cause: { exceptions: [{ id: 'e', type, message, remote: true }] },
  });
  const subs = [
    awsCall('DynamoDB', 'GetItem', { table_name: 'a' }),
    awsCall(
      'DynamoDB',
      'PutItem',
      { table_name: 'a' },
      {
        error: true,
        fault: true,
        http: { response: { status: 400 } },
        ...ex('ConditionalCheckFailedException'),
      },
    ),
    awsCall(
      'DynamoDB',
      'Query',
      { table_name: 'a' },
      { fault: true, http: { response: { status: 503 } }, ...ex('ServiceUnavailable') },
    ),
    awsCall(
      'DynamoDB',
      'Scan',
      { table_name: 'a' },
      {
        error: true,
        throttle: true,
        http: { response: { status: 400 } },
        ...ex('ProvisionedThroughputExceededException'),
      },
    ),
    awsCall(
      'DynamoDB',
      'DeleteItem',
      { table_name: 'orders' },
      {
        error: true,
        fault: true,
        http: { response: { status: 400 } },
        ...ex('AccessDeniedException', denyMsg),
      },
    ),
    awsCall(
      'S3',
      'PutObject',
      { bucket_name: 'b', key: 'k' },
      { error: true, http: { response: { status: 403 } } },
    ),
    awsCall(
      'DynamoDB',
      'UpdateItem',
      { table_name: 'a' },
      {
        error: true,
        http: { response: { status: 400 } },
        ...ex(
          'ClientError',
          `An error occurred (AccessDeniedException) when calling the UpdateItem operation: ${denyMsg.replace('DeleteItem', 'UpdateItem')}`,
        ),
      },
    ),
    awsCall(
      'EC2',
      'DescribeInstances',
      {},
      {
        error: true,
        http: { response: { status: 403 } },
        ...ex('UnauthorizedOperation', 'You are not authorized to perform this operation.'),
      },
    ),
    awsCall(
      'SNS',
      'Publish',
      {},
      {
        error: true,
        http: { response: { status: 403 } },
        ...ex(
          'AuthorizationError',
          'User: x is not authorized to perform: SNS:Publish on resource: arn:aws:sns:eu-west-1:123456789012:t',
        ),
      },
    ),
  ];
  subs.forEach((s, i) => (s.start_time = T0 + i));
  const { store } = await ingestText(batch([{ id, segments: [lambdaSegment(id, 'fn', subs)] }]));
  t.deepEqual(
    calls(store).map((c) => [c.operation, c.outcome, c.denied_action, c.denied_resource]),
    [
      ['GetItem', 'ok', null, null],
      ['PutItem', 'error', null, null],
      ['Query', 'fault', null, null],
      ['Scan', 'throttle', null, null],
      ['DeleteItem', 'denied', 'dynamodb:DeleteItem', 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders'],
      ['PutObject', 'denied', null, null],
      ['UpdateItem', 'denied', 'dynamodb:UpdateItem', 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders'],
      ['DescribeInstances', 'denied', null, null],
      ['Publish', 'denied', 'SNS:Publish', 'arn:aws:sns:eu-west-1:123456789012:t'],
    ],
  );
});

test('remote subsegments to AWS endpoints are calls with an unknown operation; other HTTP and local work is not', async (t) => {
  const id = traceId(21);
  const subs = [
    {
      id: hexId(),
      name: 'kms.eu-west-1.amazonaws.com',
      namespace: 'remote',
      start_time: T0,
      end_time: T0,
      http: {
        request: { url: 'https://kms.eu-west-1.amazonaws.com/', method: 'POST' },
        response: { status: 200 },
      },
    },
    {
      id: hexId(),
      name: 'api.stripe.com',
      namespace: 'remote',
      start_time: T0,
      end_time: T0,
      http: { request: { url: 'https://api.stripe.com/v1/charges' }, response: { status: 200 } },
    },
    { id: hexId(), name: 'work', namespace: 'local', start_time: T0, end_time: T0 },
  ];
  const { store } = await ingestText(batch([{ id, segments: [lambdaSegment(id, 'fn', subs)] }]));
  const rows = calls(store);
  t.is(rows.length, 1);
  t.like(rows[0]!, { service: 'kms', operation: null, region: 'eu-west-1', via: 'remote' });
});

test('recorded resource parameters are kept; region and account come from the call, the identifier, then the workload', async (t) => {
  const id = traceId(22);
  const subs = [
    awsCall('DynamoDB', 'BatchGetItem', { table_names: ['a', 'b'], region: undefined }),
    awsCall('S3', 'CopyObject', { bucket: 'dst', key: 'k2', copy_source: 'src/k1' }),
    awsCall('SQS', 'SendMessage', {
      queue_url: 'https://sqs.us-east-2.amazonaws.com/210987654321/q',
      region: undefined,
    }),
    awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k', region: 'not a region' }),
    awsCall('Lambda', 'Invoke', { function_name: 'f', qualifier: 'live', invocation_type: 'Event' }),
  ];
  const { store } = await ingestText(
    batch([
      { id, segments: [lambdaSegment(id, 'fn', subs, { account: '123456789012', region: 'eu-west-1' })] },
    ]),
  );
  const rows = calls(store);
  t.deepEqual(
    rows.map((r) => JSON.parse(r.params ?? 'null')),
    [
      { table_names: ['a', 'b'] },
      { bucket: 'dst', key: 'k2', copy_source: 'src/k1' },
      { queue_url: 'https://sqs.us-east-2.amazonaws.com/210987654321/q' },
      { bucket_name: 'b', key: 'k' },
      { function_name: 'f', qualifier: 'live' },
    ],
  );
  t.deepEqual(
    rows.map((r) => [r.region, r.account]),
    [
      ['eu-west-1', '123456789012'],
      ['eu-west-1', '123456789012'],
      ['us-east-2', '210987654321'],
      ['eu-west-1', '123456789012'],
      ['eu-west-1', '123456789012'],
    ],
  );
});

test('ids recorded by OpenTelemetry under metadata.default are kept', async (t) => {
  const id = traceId(23);
  const otelCall = awsCall(
    'S3',
    'PutObject',
    {},
    {
      metadata: {
        default: { 'aws.s3.bucket': 'otel-bucket', 'rpc.system': 'aws-api', 'aws.region': 'eu-west-1' },
      },
    },
  );
  const { store } = await ingestText(batch([{ id, segments: [lambdaSegment(id, 'fn', [otelCall])] }]));
  t.deepEqual(JSON.parse(calls(store)[0]!.params!), { 'aws.s3.bucket': 'otel-bucket' });
});

test('segments without an id are problems reported as data, not silently dropped', async (t) => {
  const id = traceId(24);
  const noId = { name: 'x', trace_id: id, start_time: T0, end_time: T0 + 1 };
  const text = JSON.stringify({
    Traces: [
      {
        Id: id,
        Segments: [
          { Id: 'a', Document: JSON.stringify(noId) },
          { Id: 'b', Document: JSON.stringify(lambdaSegment(id, 'fn', [])) },
        ],
      },
    ],
  });
  const { summary, store } = await ingestText(text);
  t.is(summary.ingested, 1);
  t.is(summary.problems, 1);
  t.regex(summary.results[0]!.problems[0]!.message, /no id/);
  t.is((store.prepare('SELECT count(*) AS n FROM problems').get() as { n: number }).n, 1);
});

test('UnprocessedTraceIds are recorded and cleared when the trace arrives later', async (t) => {
  const [a] = traces;
  const { store, dir } = tempStore();
  await ingest(store, {
    inputs: [writeFile(dir, 'u.json', JSON.stringify({ Traces: [], UnprocessedTraceIds: [a!.id] }))],
  });
  t.is((store.prepare('SELECT count(*) AS n FROM unprocessed_traces').get() as { n: number }).n, 1);
  await ingest(store, { inputs: [writeFile(dir, 'a.json', batch([a!]))] });
  t.is((store.prepare('SELECT count(*) AS n FROM unprocessed_traces').get() as { n: number }).n, 0);
});

test('sources record path, size, sha256, shape and counts', async (t) => {
  const text = batch(traces);
  const { store, file } = await ingestText(text);
  const row = store.prepare('SELECT * FROM sources').get() as Record<string, unknown>;
  const sha = (await import('node:crypto')).createHash('sha256').update(text).digest('hex');
  t.like(row, {
    path: file,
    size: Buffer.byteLength(text),
    sha256: sha,
    shape: 'batch-get-traces',
    traces: 2,
    segments: 2,
    calls: 3,
    new_calls: 3,
  });
  t.true(fs.existsSync(file));
});

test('a file read on the worker thread gives the same results as one read here: good, gzip, corrupt and hostile inputs', async (t) => {
  const dir = tempDir();
  const [a, b] = traces;
  const good = batch([a!]) + batch([b!]);
  const gz = zlib.gzipSync(Buffer.from(good));
  const inputs = [
    writeFile(dir, 'good.json', good),
    writeFile(dir, 'good.json.gz', gz),
    writeFile(dir, 'cut.json.gz', gz.subarray(0, gz.length - 20)),
    writeFile(
      dir,
      'corrupt.json.gz',
      Buffer.concat([gz.subarray(0, 12), Buffer.alloc(40, 0xab), gz.subarray(52)]),
    ),
    writeFile(dir, 'bomb.json.gz', zlib.gzipSync(Buffer.alloc(80 * 1024 * 1024, 0x20), { level: 9 })),
    writeFile(dir, 'cut.json', good.slice(0, good.length - 40)),
    writeFile(dir, 'summaries.json', '{"TraceSummaries": []}'),
  ];
  const run = async (parallel: boolean): Promise<unknown[]> => {
    const { store } = tempStore();
    const summary = await ingest(store, { inputs, parallel });
    return summary.results.map(({ elapsedMs: _e, ...r }) => r);
  };
  const inline = await run(false);
  const worker = await run(true);
  t.deepEqual(worker, inline);
  t.deepEqual(
    (inline as { status: string }[]).map((r) => r.status),
    ['ingested', 'ingested', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected'],
  );
  t.is((inline[0] as { sha256: string }).sha256, createHash('sha256').update(good).digest('hex'));
  t.is((inline[1] as { bytes: number }).bytes, gz.length);
});

test('an input abandoned part-way on the worker thread does not disturb the next one', async (t) => {
  // The second input fails to write (a bug-free way: it is rejected by shape after many batches),
  // then the worker, still reading the first file ahead, must not leak batches into the next input.
  const dir = tempDir();
  const many = Array.from({ length: 3000 }, (_, i) => {
    const id = traceId(70_000 + i);
    return {
      id,
      segments: [
        lambdaSegment(id, `fn-${i % 3}`, [
          awsCall('SQS', 'SendMessage', { queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' }),
        ]),
      ],
    };
  });
  const big = many.map((tr) => batch([tr])).join('');
  const bad = writeFile(dir, 'bad.json', big + '{"TraceSummaries": []}\n' + big);
  const ok = writeFile(dir, 'ok.json', batch(many.slice(0, 10)));
  const { store } = tempStore();
  const summary = await ingest(store, { inputs: [bad, ok], parallel: true });
  t.deepEqual(
    summary.results.map((r) => r.status),
    ['rejected', 'ingested'],
  );
  t.deepEqual(counts(store), { traces: 10, segments: 10, calls: 10, workloads: 3 });
});

test('a full disk part-way through a group of inputs: the group is rolled back whole, and a re-run stores everything once', async (t) => {
  const { store, dir } = tempStore();
  const [a] = traces;
  const first = writeFile(dir, 'first.json', batch([a!]));
  const many = Array.from({ length: 2000 }, (_, i) => {
    const id = traceId(80_000 + i);
    return {
      id,
      segments: [
        lambdaSegment(id, 'big', [
          awsCall('SNS', 'Publish', { topic_arn: `arn:aws:sns:eu-west-1:123456789012:t${i}` }),
        ]),
      ],
    };
  });
  const big = writeFile(dir, 'big.json', batch(many));
  // The database may not grow past a few pages: the first input fits, the second cannot.
  const pages = store.pragma('page_count', { simple: true }) as number;
  store.pragma(`max_page_count = ${pages + 60}`);
  const err = await ingest(store, { inputs: [first, big] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.is((err as { code?: string } | undefined)?.code, 'SQLITE_FULL');
  // SQLite rolls a transaction back whole on a full disk: the first input, uncommitted, went too.
  t.false(store.inTransaction);
  t.deepEqual(counts(store), { traces: 0, segments: 0, calls: 0, workloads: 0 });
  t.is(store.pragma('integrity_check', { simple: true }), 'ok');
  store.pragma('max_page_count = 1073741823');
  const summary = await ingest(store, { inputs: [first, big, first] });
  t.is(summary.ingested, 3);
  t.deepEqual(counts(store), { traces: 2001, segments: 2001, calls: 2002, workloads: 2 });
});

test('many inputs read ahead on the worker give the same results and rows as one by one on this thread', async (t) => {
  const dir = tempDir();
  const bad = path.join(fixturesDir, 'bad');
  const corpus = fs
    .readdirSync(bad)
    .filter((f) => !f.endsWith('.md'))
    .sort()
    .map((f) => path.join(bad, f));
  const generated = [
    ...generateDumpSync({ sizeBytes: 200_000, seed: 4, workloads: 6, layout: 'concatenated' }),
  ];
  const small = generated.map((doc, i) => writeFile(dir, `g${String(i).padStart(3, '0')}.json`, doc));
  // Good and bad interleaved, with repeats, and standard input in the middle.
  const inputs = [...small.slice(0, 4), ...corpus, '-', ...small.slice(2), small[0]!];
  const dump = (store: Store): unknown => ({
    calls: store
      .prepare('SELECT trace_id, sub_id, workload_id, target_id, outcome FROM calls ORDER BY 1, 2')
      .all(),
    segments: store
      .prepare('SELECT trace_id, id, workload_id, in_progress FROM segments ORDER BY 1, 2')
      .all(),
    sources: store.prepare('SELECT path, sha256, size, traces, new_calls FROM sources ORDER BY id').all(),
    days: store.prepare('SELECT * FROM workload_day_targets ORDER BY 1, 2, 3, 4').all(),
  });
  const run = async (parallel: boolean): Promise<{ results: unknown[]; rows: unknown }> => {
    const { store } = tempStore();
    // Standard input arrives late: by then the worker has read the files after it ahead.
    const stdin = Readable.from(
      (async function* () {
        await new Promise((r) => setTimeout(r, 150));
        yield Buffer.from(batch([traces[0]!]));
      })(),
    );
    const summary = await ingest(store, { inputs, parallel, stdin });
    return { results: summary.results.map(({ elapsedMs: _e, ...r }) => r), rows: dump(store) };
  };
  const inline = await run(false);
  const worker = await run(true);
  t.deepEqual(worker.results, inline.results);
  t.deepEqual(worker.rows, inline.rows);
  const statuses = (inline.results as { status: string }[]).map((r) => r.status);
  t.true(statuses.filter((s) => s === 'rejected').length >= 8, statuses.join(' '));
  t.true(statuses.filter((s) => s === 'ingested').length >= small.length + 5, statuses.join(' '));
});
