/** What inputs are recognised, read in parts when huge, or refused with a hint (src/ingest/shapes.ts, src/json/split.ts). */
import zlib from 'node:zlib';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { awsCall, batch, counts, lambdaSegment, tempStore, traceId, writeFile } from '../support/helpers.js';
import { calls, ingestText, traces } from './support.js';

// ---- accepted shapes -------------------------------------------------------------------------

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
  t.deepEqual(store.prepare('SELECT xray_id AS id, duration, limit_exceeded FROM traces').all(), [
    { id, duration: 9.5, limit_exceeded: 1 },
  ]);
  t.is(counts(store).calls, 30);
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
  { name: 'an empty file', text: '', message: /the input is empty/ },
  { name: 'whitespace only', text: '  \n\n', message: /holds no JSON value/ },
  {
    name: 'a Document string that is not JSON',
    text: JSON.stringify({ Traces: [{ Id: 'x', Segments: [{ Id: 'a', Document: '{"id": oops}' }] }] }),
    message: /invalid JSON in Segments\[0\]\.Document/,
  },
  {
    name: 'some other JSON',
    text: JSON.stringify({ hello: 'world' }),
    message: /not a trace export \(found keys: hello\)/,
    hint: /OpenTelemetry spans/,
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
