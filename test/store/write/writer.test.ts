/** Exactly once: duplicates, overlaps, in-progress documents, inferred segments, independent subsegments, provenance (src/store/write/writer.ts). */
import fs from 'node:fs';
import test from 'ava';
import { ingest } from '../../../src/ingest/ingest.js';
import {
  awsCall,
  batch,
  counts,
  hexId,
  lambdaSegment,
  T0,
  tempStore,
  traceId,
  writeFile,
  independentCall,
  inferredFor,
} from '../../support/helpers.js';
import { calls, ingestText, traces } from '../../ingest/support.js';

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

// ---- trace ids and their keys ------------------------------------------------------------------

/** A Trace object holding `segments`, with `id` (or none) as its Id. */
const traceObject = (id: string | undefined, segments: Record<string, unknown>[]): string =>
  JSON.stringify({
    Traces: [
      {
        ...(id === undefined ? {} : { Id: id }),
        Duration: 2,
        Segments: segments.map((s) => ({ Id: s.id, Document: JSON.stringify(s) })),
      },
    ],
  });

const traceCases: {
  name: string;
  objectId: (ids: [string, string]) => string | undefined;
  traces: number;
  stored: (ids: [string, string]) => string[];
}[] = [
  {
    name: 'a Trace object whose documents name its own trace',
    objectId: ([a]) => a,
    traces: 1,
    stored: ([a]) => [a],
  },
  {
    // Stored under the id it names, a trace of its own (counted, as a loose document's is).
    name: 'a Trace object holding a document that names another trace',
    objectId: ([, b]) => b,
    traces: 2,
    stored: ([a, b]) => [a, b].sort(),
  },
  {
    // The object counted the trace; its documents carry the id.
    name: 'a Trace object without an Id',
    objectId: () => undefined,
    traces: 1,
    stored: ([a]) => [a],
  },
];
for (const c of traceCases) {
  test(`trace counts and keys: ${c.name}`, async (t) => {
    const ids: [string, string] = [traceId(71), traceId(72)];
    const seg = lambdaSegment(ids[0], 'fn', [awsCall('DynamoDB', 'GetItem', { table_name: 'x' })]);
    const { store, summary } = await ingestText(traceObject(c.objectId(ids), [seg]));
    t.is(summary.traces, c.traces);
    t.is(summary.newTraces, c.traces);
    t.deepEqual(
      (store.prepare('SELECT xray_id FROM traces ORDER BY xray_id').all() as { xray_id: string }[]).map(
        (r) => r.xray_id,
      ),
      c.stored(ids),
    );
    // The call is stored under the trace its document names, and listed with that id.
    t.deepEqual(
      store.prepare('SELECT tr.xray_id AS trace FROM calls c JOIN traces tr ON tr.id = c.trace_id').all(),
      [{ trace: ids[0] }],
    );
  });
}
