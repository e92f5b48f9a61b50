/**
 * OpenTelemetry input end to end (src/ingest/spans.ts, extract-span.ts, shapes.ts): every layout
 * of the bundled OTel samples (samples/otel, real instrumentation output), the same spans giving
 * byte-identical policies in every layout, one workload across X-Ray and OTel, a Lambda
 * function's account found through its trace (also when the trace's SERVER span comes in a later
 * run), exact nanosecond times, and malformed input refused whole with its position.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import test from 'ava';
import { ingest, type IngestSummary } from '../../src/ingest/ingest.js';
import { buildPolicies } from '../../src/policy/build.js';
import { listWorkloads } from '../../src/query/workloads.js';
import type { Store } from '../../src/store/db.js';
import { counts, repoRoot, tempDir, tempStore, writeFile } from '../support/helpers.js';
import { calls } from './support.js';

const otel = path.join(repoRoot, 'samples/otel');
const xray = path.join(repoRoot, 'samples/traces');

/** Every layout of the same 30 traces (122 spans, 92 AWS calls), and the shape it is read as. */
const LAYOUTS: { input: string; shape: string }[] = [
  { input: 'aws-spans.jsonl', shape: 'otel-spans' },
  { input: 'filter-log-events-aws-spans.json', shape: 'cloudwatch-log-events' },
  { input: 's3-export', shape: 'otel-spans' },
  { input: 'list-retrieved-traces-otel.json', shape: 'list-retrieved-traces' },
  { input: 'otlp-traces.jsonl', shape: 'otlp' },
];
const ADOT_LAYOUTS = [
  { input: 'adot/aws-spans.jsonl', shape: 'otel-spans' },
  { input: 'adot/otlp-traces.jsonl', shape: 'otlp' },
];

const FUNCTIONS = {
  orders: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api',
  thumbnailer: 'arn:aws:lambda:eu-west-1:123456789012:function:thumbnailer',
  billing: 'ecs:123456789012:eu-west-1:payments/billing-worker',
};

async function ingestInto(store: Store, inputs: string[]): Promise<IngestSummary> {
  return ingest(store, { inputs });
}

/** The policies as `policy --json` would print them: the bytes compared across layouts. */
function policyBytes(store: Store): string {
  return JSON.stringify(buildPolicies(store, { filter: {} }).policies);
}

const reference = (async () => {
  const { store } = tempStore();
  await ingestInto(store, [path.join(otel, 'aws-spans.jsonl')]);
  const bytes = policyBytes(store);
  store.close();
  return bytes;
})();

for (const layout of [...LAYOUTS, ...ADOT_LAYOUTS]) {
  test(`${layout.input}: every span ingests, as ${layout.shape}, under the functions' ARNs`, async (t) => {
    const { store } = tempStore();
    const s = await ingestInto(store, [path.join(otel, layout.input)]);
    t.is(s.rejected, 0);
    t.deepEqual(
      s.results.map((r) => r.shape),
      [layout.shape],
    );
    t.is(s.newTraces, 30);
    t.is(s.newCalls, 92);
    t.deepEqual(s.fallbacks, { calls: 0, workloads: [] });
    const workloads = listWorkloads(store);
    t.deepEqual(workloads.map((w) => w.key).sort(), Object.values(FUNCTIONS).sort());
    t.true(workloads.every((w) => w.formats.join() === 'opentelemetry'));
    // Every call has its workload and an account: the Lambda calls took theirs from the SERVER span.
    t.true(calls(store).every((c) => c.workload_id !== null && c.account === '123456789012'));
    store.close();
  });
}

for (const layout of LAYOUTS.slice(1)) {
  test(`${layout.input} gives byte-identical policies to aws-spans.jsonl`, async (t) => {
    const { store } = tempStore();
    await ingestInto(store, [path.join(otel, layout.input)]);
    t.is(policyBytes(store), await reference);
    store.close();
  });
}

test('the ADOT layouts agree with each other; they differ from upstream only where ADOT records more', async (t) => {
  const bytes: string[] = [];
  for (const l of ADOT_LAYOUTS) {
    const { store } = tempStore();
    await ingestInto(store, [path.join(otel, l.input)]);
    bytes.push(policyBytes(store));
    store.close();
  }
  t.is(bytes[0], bytes[1]);
  // Kinesis PutRecord by StreamARN: upstream 0.78 records no stream, ADOT 0.13 records
  // aws.kinesis.stream.arn, so only ADOT's policy names the stream.
  const adot = JSON.parse(bytes[0]!) as {
    principal: string;
    document: { Statement: { Resource: string[] }[] };
  }[];
  const upstream = JSON.parse(await reference) as typeof adot;
  const resources = (ps: typeof adot): string[] =>
    ps.flatMap((p) => p.document.Statement.flatMap((s) => s.Resource)).sort();
  t.true(resources(upstream).includes('arn:aws:kinesis:eu-west-1:123456789012:stream/*'));
  t.false(resources(adot).includes('arn:aws:kinesis:eu-west-1:123456789012:stream/*'));
  const set = (rs: string[]): string[] => [...new Set(rs)].sort();
  t.deepEqual(
    set(resources(adot)),
    set(resources(upstream).map((r) => (r.endsWith(':stream/*') ? r.replace('*', 'invoice-events') : r))),
  );
});

test('every layout into one database: each trace, span and call is stored once (W3C and X-Ray ids are one id)', async (t) => {
  const { store } = tempStore();
  const first = await ingestInto(store, [path.join(otel, 'aws-spans.jsonl')]);
  t.is(first.newCalls, 92);
  const after = counts(store);
  // list-retrieved-traces names the traces in X-Ray form (`1-…-…`), the others in W3C form.
  const rest = await ingestInto(
    store,
    LAYOUTS.slice(1).map((l) => path.join(otel, l.input)),
  );
  t.is(rest.rejected, 0);
  t.is(rest.newCalls, 0);
  t.is(rest.newTraces, 0);
  t.deepEqual(counts(store), after);
  t.is(policyBytes(store), await reference);
  store.close();
});

test('a function traced with the X-Ray SDK and then with OpenTelemetry is one workload with one history', async (t) => {
  const { store } = tempStore();
  await ingestInto(store, [xray]);
  const before = new Map(listWorkloads(store).map((w) => [w.key, w]));
  await ingestInto(store, [path.join(otel, 'aws-spans.jsonl')]);
  const after = listWorkloads(store);
  // No new workload: the OTel spans found the keys the X-Ray segments made.
  t.deepEqual(after.map((w) => w.key).sort(), [...before.keys()].sort());
  for (const key of Object.values(FUNCTIONS)) {
    const w = after.find((x) => x.key === key)!;
    t.deepEqual(w.formats, ['x-ray', 'opentelemetry'], key);
    t.is(w.firstSeen, before.get(key)!.firstSeen, `${key}: history starts with the X-Ray week`);
    t.true(w.lastSeen! > '2026-11-23', `${key}: and runs through the OTel week`);
  }
  t.deepEqual(after.find((w) => w.name === 'report-builder')!.formats, ['x-ray']);
  store.close();
});

test("a Lambda function's SERVER span in a later run moves its calls from the fallback workload to its ARN", async (t) => {
  const dir = tempDir();
  const lines = fs.readFileSync(path.join(otel, 'aws-spans.jsonl'), 'utf8').trimEnd().split('\n');
  const server = lines.filter((l) => l.includes('"kind":"SERVER"'));
  const others = lines.filter((l) => !l.includes('"kind":"SERVER"'));
  t.true(server.length > 0 && others.length > 0);
  const { store } = tempStore();

  const a = await ingestInto(store, [writeFile(dir, 'a.jsonl', `${others.join('\n')}\n`)]);
  // Without the SERVER spans nothing in these traces names the functions' account.
  t.deepEqual(a.fallbacks.workloads, ['lambda::eu-west-1:orders-api', 'lambda::eu-west-1:thumbnailer']);
  t.true(a.fallbacks.calls > 0);
  t.true(listWorkloads(store).some((w) => w.key === 'lambda::eu-west-1:orders-api' && w.calls > 0));

  const b = await ingestInto(store, [writeFile(dir, 'b.jsonl', `${server.join('\n')}\n`)]);
  t.is(b.rejected, 0);
  t.deepEqual(b.fallbacks, { calls: 0, workloads: [] });
  t.deepEqual(
    listWorkloads(store)
      .map((w) => w.key)
      .sort(),
    Object.values(FUNCTIONS).sort(),
  );
  t.is(policyBytes(store), await reference);
  store.close();
});

test('the SERVER span in an earlier run, or in the same run in another file, serves its calls too', async (t) => {
  const dir = tempDir();
  const lines = fs.readFileSync(path.join(otel, 'aws-spans.jsonl'), 'utf8').trimEnd().split('\n');
  const server = writeFile(
    dir,
    'server.jsonl',
    `${lines.filter((l) => l.includes('"kind":"SERVER"')).join('\n')}\n`,
  );
  const others = writeFile(
    dir,
    'rest.jsonl',
    `${lines.filter((l) => !l.includes('"kind":"SERVER"')).join('\n')}\n`,
  );
  for (const runs of [[[server], [others]], [[others, server]]]) {
    const { store } = tempStore();
    let fallbacks = 0;
    for (const inputs of runs) fallbacks += (await ingestInto(store, inputs)).fallbacks.calls;
    t.is(fallbacks, 0);
    t.is(policyBytes(store), await reference);
    store.close();
  }
});

test('nanosecond times are read exactly: a 19-digit bare number and the same digits as a string give the same microsecond', async (t) => {
  const dir = tempDir();
  const record = (start: string | number): string =>
    JSON.stringify({
      resource: {
        attributes: {
          'cloud.platform': 'aws_ecs',
          'aws.ecs.task.family': 'f',
          'cloud.account.id': '111122223333',
          'cloud.region': 'eu-west-1',
          'service.name': 'svc',
        },
      },
      traceId: '6b0aed6c20386badf7a6e54abb6be09b',
      spanId: '00000000000000a1',
      name: 'DynamoDB.GetItem',
      kind: 'CLIENT',
      startTimeUnixNano: start,
      endTimeUnixNano: start,
      attributes: {
        'rpc.system': 'aws-api',
        'rpc.service': 'DynamoDB',
        'rpc.method': 'GetItem',
        'aws.dynamodb.table_names': ['t'],
      },
      status: { code: 'UNSET' },
    });
  // 1795000000123456499 ns: JSON.parse rounds it to …456512 as a double, which would round up to
  // …123457 µs; its digits round down to …123456 µs.
  const digits = '1795000000123456499';
  for (const [name, text] of [
    [
      'number',
      record(0).replace(
        /"startTimeUnixNano":0,"endTimeUnixNano":0/,
        `"startTimeUnixNano":${digits},"endTimeUnixNano":${digits}`,
      ),
    ],
    ['string', record(digits)],
    // The same key earlier in the record, as an attribute name with another number: not taken
    // for the span's time (the value is parsed again keeping every time's digits).
    [
      'a resource attribute of the same name',
      record(0)
        .replace('"service.name":"svc"', '"service.name":"svc","startTimeUnixNano":1234567890123456789')
        .replace(
          /"startTimeUnixNano":0,"endTimeUnixNano":0/,
          `"startTimeUnixNano":${digits},"endTimeUnixNano":${digits}`,
        ),
    ],
  ] as const) {
    const { store } = tempStore();
    const s = await ingestInto(store, [writeFile(dir, `${name}.jsonl`, `${text}\n`)]);
    t.is(s.rejected, 0, name);
    t.is(calls(store)[0]!.start_time, 1795000000.123456, name);
    store.close();
  }
});

// ---- one huge OTLP document: streamed span by span ----------------------------------------

type ResourceSpans = {
  resource: { attributes: { key: string; value: unknown }[] };
  scopeSpans: { scope: unknown; spans: Record<string, unknown>[] }[];
};

/** Every OTLP request of the samples folded into one document: one resourceSpans entry per workload. */
function oneDocument(order: 'resource-first' | 'resource-last' = 'resource-first'): string {
  const byResource = new Map<string, ResourceSpans>();
  for (const l of fs.readFileSync(path.join(otel, 'otlp-traces.jsonl'), 'utf8').trimEnd().split('\n')) {
    for (const rs of (JSON.parse(l) as { resourceSpans: ResourceSpans[] }).resourceSpans) {
      const key = JSON.stringify(rs.resource);
      const into = byResource.get(key) ?? { resource: rs.resource, scopeSpans: [] };
      into.scopeSpans.push(...rs.scopeSpans);
      byResource.set(key, into);
    }
  }
  const entries = [...byResource.values()].map((rs) =>
    order === 'resource-first' ? rs : { scopeSpans: rs.scopeSpans, schemaUrl: '', resource: rs.resource },
  );
  return JSON.stringify({ resourceSpans: entries }, null, 2);
}

/** Ingests `text` from standard input in 4 KiB chunks, as a huge file arrives: in many reads. */
function ingestChunked(store: Store, text: string, parallel = false): Promise<IngestSummary> {
  const bytes = Buffer.from(text);
  const chunks = Array.from({ length: Math.ceil(bytes.length / 4096) }, (_, i) =>
    bytes.subarray(i * 4096, (i + 1) * 4096),
  );
  // Limits far below the document's 150 KB: part mode, then streaming, for every resource.
  return ingest(store, {
    inputs: ['-'],
    stdin: Readable.from(chunks),
    wholeLimit: 1024,
    streamLimit: 2048,
    parallel,
  });
}

for (const order of ['resource-first', 'resource-last'] as const) {
  test(`one OTLP document whose resources are too large to parse whole is read span by span (${order})`, async (t) => {
    for (const parallel of [false, true]) {
      const { store } = tempStore();
      const s = await ingestChunked(store, oneDocument(order), parallel);
      t.is(s.rejected, 0, s.results[0]?.error?.message);
      t.is(s.results[0]!.shape, 'otlp');
      t.is(s.newCalls, 92);
      t.is(policyBytes(store), await reference);
      store.close();
    }
  });
}

test('a streamed OTLP span keeps every digit of a bare-number nanosecond time', async (t) => {
  const doc = JSON.parse(oneDocument()) as { resourceSpans: ResourceSpans[] };
  const span = doc.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  const text = JSON.stringify(doc).replace(
    `"startTimeUnixNano":"${String(span.startTimeUnixNano)}"`,
    '"startTimeUnixNano":1795000000123456499',
  );
  const { store } = tempStore();
  const s = await ingestChunked(store, text);
  t.is(s.rejected, 0, s.results[0]?.error?.message);
  const row = store.prepare('SELECT start_time FROM segments WHERE id = ?').get(span.spanId) as
    { start_time: number } | undefined;
  const call = store.prepare('SELECT start_time FROM calls WHERE sub_id = ?').get(span.spanId) as
    { start_time: number } | undefined;
  t.is((row ?? call)!.start_time, 1795000000.123456);
  store.close();
});

test('a streamed OTLP resource that breaks off mid-way is refused with its position, and nothing of it is stored', async (t) => {
  const text = oneDocument();
  const cut = text.indexOf('"spanId"', text.length >> 1);
  const bad = `${text.slice(0, cut)}"spanId": oops${text.slice(cut + 8)}`;
  const { store } = tempStore();
  const s = await ingestChunked(store, bad);
  t.is(s.rejected, 1);
  // Standard input has no lines to count back to: the byte offset of the piece is given.
  const e = s.results[0]!.error!;
  t.regex(e.message, /invalid JSON in a resourceSpans entry/);
  t.true(e.offset !== undefined && e.offset > text.length / 2 - 8192 && e.offset <= cut, `${e.offset}`);
  t.deepEqual(counts(store), { traces: 0, segments: 0, calls: 0, workloads: 0 });
  store.close();
});

// ---- malformed input: refused whole, with its position ------------------------------------

const goodRecord = (): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(otel, 'aws-spans.jsonl'), 'utf8').split('\n')[0]!) as Record<
    string,
    unknown
  >;
const line = (r: Record<string, unknown>): string => JSON.stringify(r);
const otlpLine = (): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(otel, 'otlp-traces.jsonl'), 'utf8').split('\n')[0]!) as Record<
    string,
    unknown
  >;
type OtlpSpan = { traceId: string; spanId: string; startTimeUnixNano: string };
const otlpSpan = (doc: Record<string, unknown>): OtlpSpan =>
  (doc.resourceSpans as { scopeSpans: { spans: OtlpSpan[] }[] }[])[0]!.scopeSpans[0]!.spans[0]!;

const malformed: { name: string; text: () => string | Buffer; message: RegExp; at: RegExp }[] = [
  {
    name: 'a trace id that is not one',
    text: () => `${line(goodRecord())}\n${line({ ...goodRecord(), traceId: 'not-a-trace' })}\n`,
    message: /the span record: traceId "not-a-trace" is not a trace id/,
    at: /^2:1$/,
  },
  {
    name: 'an all-zero trace id',
    text: () => `${line(goodRecord())}\n${line({ ...goodRecord(), traceId: '0'.repeat(32) })}\n`,
    message: /is not a trace id/,
    at: /^2:1$/,
  },
  {
    name: 'a span id of the wrong length',
    text: () => `${line(goodRecord())}\n${line({ ...goodRecord(), spanId: 'abc' })}\n`,
    message: /spanId "abc" is not a span id/,
    at: /^2:1$/,
  },
  {
    name: 'a span record without its resource',
    text: () => {
      const r = goodRecord();
      delete r.resource;
      return `${line(goodRecord())}\n${line(r)}\n`;
    },
    message: /the span has no resource attributes/,
    at: /^2:1$/,
  },
  {
    name: 'a nanosecond time that overflows (1e30 ns)',
    text: () =>
      `${line(goodRecord())}\n${line(goodRecord()).replace(/"startTimeUnixNano":\d+/, '"startTimeUnixNano":1000000000000000000000000000000')}\n`,
    message: /startTimeUnixNano .* is not (a plausible time|a time) in nanoseconds/,
    at: /^2:1$/,
  },
  {
    name: 'a time in seconds where nanoseconds belong',
    text: () => `${line(goodRecord())}\n${line({ ...goodRecord(), startTimeUnixNano: 1795000000 })}\n`,
    message: /startTimeUnixNano 1795000000 is not a plausible time in nanoseconds/,
    at: /^2:1$/,
  },
  {
    name: 'a fractional nanosecond time',
    text: () => `${line(goodRecord())}\n${line({ ...goodRecord(), startTimeUnixNano: 1.5 })}\n`,
    message: /startTimeUnixNano 1.5 is not a time in nanoseconds/,
    at: /^2:1$/,
  },
  {
    name: 'a span without a start time',
    text: () => {
      const r = goodRecord();
      delete r.startTimeUnixNano;
      return `${line(goodRecord())}\n${line(r)}\n`;
    },
    message: /startTimeUnixNano is missing/,
    at: /^2:1$/,
  },
  {
    name: 'a list-retrieved-traces Document that is not JSON',
    text: () =>
      JSON.stringify({
        RetrievalStatus: 'COMPLETE',
        TraceFormat: 'OTEL',
        Traces: [
          {
            Id: '1-6b0aed6c-20386badf7a6e54abb6be09b',
            Spans: [
              { Id: 'a', Document: line(goodRecord()) },
              { Id: 'b', Document: '{"traceId": oops' },
            ],
          },
        ],
      }),
    message: /invalid JSON in Traces\[0\]\.Spans\[1\]\.Document|invalid JSON in Spans\[1\]\.Document/,
    at: /^1:\d+$/,
  },
  {
    name: 'a filter-log-events message that is not a span record',
    text: () =>
      JSON.stringify({
        events: [
          { timestamp: 1, message: line(goodRecord()) },
          { timestamp: 2, message: 'START RequestId: 1' },
        ],
      }),
    message: /events\[1\]\.message/,
    at: /^1:\d+$/,
  },
  {
    name: 'OTLP ids in base64 (protobuf JSON) instead of hex',
    text: () => {
      const doc = otlpLine();
      otlpSpan(doc).traceId = 'a1tBW3r8Uc2xCpm3/9OOlg==';
      return `${line(doc)}\n`;
    },
    message: /traceId "a1tBW3r8Uc2xCpm3\/9OOlg==" is not a trace id/,
    at: /^1:1$/,
  },
  {
    name: 'an OTLP resourceSpans entry without its resource',
    text: () => {
      const doc = otlpLine();
      delete (doc.resourceSpans as Record<string, unknown>[])[0]!.resource;
      return `${line(otlpLine())}\n${line(doc)}\n`;
    },
    message: /a resourceSpans entry has no resource/,
    at: /^2:1$/,
  },
  {
    name: 'an OTLP span whose attributes are an object, not a key/value list',
    text: () => {
      const doc = otlpLine();
      const span = otlpSpan(doc) as OtlpSpan & {
        attributes: { key: string; value: { stringValue?: string } }[];
      };
      (span as unknown as { attributes: unknown }).attributes = Object.fromEntries(
        span.attributes.map((a) => [a.key, a.value.stringValue ?? null]),
      );
      return `${line(otlpLine())}\n${line(doc)}\n`;
    },
    message: /the span's attributes is an object, not a list of \{key, value\} pairs/,
    at: /^2:1$/,
  },
  {
    name: 'an OTLP resource whose attributes are an object',
    text: () => {
      const doc = otlpLine();
      const rs = (doc.resourceSpans as { resource: { attributes: unknown } }[])[0]!;
      rs.resource.attributes = { 'service.name': 'x' };
      return `${line(otlpLine())}\n${line(doc)}\n`;
    },
    message: /the resource's attributes is an object, not a list of \{key, value\} pairs/,
    at: /^2:1$/,
  },
];

for (const m of malformed) {
  test(`refuses ${m.name}: the input is named with the position, and nothing of it is stored`, async (t) => {
    const { store, dir } = tempStore();
    await ingestInto(store, [path.join(otel, 'otlp-traces.jsonl')]);
    const before = counts(store);
    const sources = store.prepare('SELECT count(*) AS n FROM sources').get();
    const file = writeFile(dir, 'bad.jsonl', m.text());
    const s = await ingestInto(store, [file]);
    t.is(s.rejected, 1);
    const r = s.results[0]!;
    t.is(r.input, file);
    t.regex(r.error!.message, m.message);
    t.truthy(r.error!.hint, 'says how to fix it');
    t.regex(`${r.error!.line}:${r.error!.column}`, m.at);
    t.deepEqual(counts(store), before);
    t.deepEqual(store.prepare('SELECT count(*) AS n FROM sources').get(), sources);
    store.close();
  });
}

test('a gzip CloudWatch Logs export whose lines are not span records is refused with its line', async (t) => {
  const dir = tempDir();
  const text = `2026-11-23T08:00:00.726Z ${line(goodRecord())}\n2026-11-23T08:00:01.000Z {"hello":"world"}\n`;
  const file = writeFile(dir, '000000.gz', zlib.gzipSync(text));
  const { store } = tempStore();
  const s = await ingestInto(store, [file]);
  t.is(s.rejected, 1);
  t.regex(s.results[0]!.error!.message, /not a trace export|found keys: hello/);
  t.is(s.results[0]!.error!.line, 2);
  t.deepEqual(counts(store), { traces: 0, segments: 0, calls: 0, workloads: 0 });
  store.close();
});
