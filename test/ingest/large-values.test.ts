/**
 * One record larger than the splitter reads whole (2 MiB): an X-Ray segment document with
 * megabytes of metadata, an OpenTelemetry span record with megabytes of attributes. It is read
 * member by member, alone in its file or among others, on this thread or the worker; one whose
 * parsing would not fit the worker's heap is refused with its position, size and a hint. Never
 * dropped (src/ingest/shapes.ts, src/json/split.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import {
  awsCall,
  counts,
  lambdaSegment,
  repoRoot,
  tempStore,
  traceId,
  writeFile,
} from '../support/helpers.js';
import { documentText } from '../support/aws-cli.js';

/** 3 MB of metadata as X-Ray SDKs record it: a long string and a list of small objects. */
function bulky(): Record<string, unknown> {
  return {
    blob: 'x'.repeat(2_500_000),
    rows: Array.from({ length: 10_000 }, (_, i) => ({ row: i, label: `item-${i}` })),
  };
}

function segment(n: number, big: boolean): Record<string, unknown> {
  const seg = lambdaSegment(traceId(5000 + n), `fn-${n}`, [
    awsCall('DynamoDB', 'PutItem', { table_name: `orders-${n}` }),
  ]);
  return big ? { ...seg, metadata: { default: { note: 'bulky' }, app: bulky() } } : seg;
}

/** The bundled aws/spans records; `big` gets 3 MB of attributes on its first AWS call. */
function spanLines(): { lines: string[]; call: number } {
  const lines = fs
    .readFileSync(path.join(repoRoot, 'samples/otel/aws-spans.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const call = lines.findIndex((l) => l.includes('"rpc.system":"aws-api"'));
  return { lines, call };
}

function bigSpan(line: string): string {
  const record = JSON.parse(line.replace(/("(?:start|end)TimeUnixNano":)(\d+)/g, '$1"$2"')) as {
    attributes: Record<string, unknown>;
  };
  record.attributes['app.payload'] = bulky().blob;
  record.attributes['app.rows'] = (bulky().rows as unknown[]).map((r) => JSON.stringify(r));
  // Flat records write nanosecond times as bare numbers: kept so.
  return JSON.stringify(record).replace(/("(?:start|end)TimeUnixNano":)"(\d+)"/g, '$1$2');
}

const cases: { name: string; text: () => string; calls: number }[] = [
  {
    name: 'an X-Ray segment document with 3 MB of metadata among others',
    text: () =>
      [segment(1, false), segment(2, true), segment(3, false)].map((d) => documentText(d)).join('\n'),
    calls: 3,
  },
  {
    name: 'an X-Ray segment document with 3 MB of metadata alone in its file',
    text: () => `${documentText(segment(2, true))}\n`,
    calls: 1,
  },
  {
    name: 'an OpenTelemetry span record with 3 MB of attributes among others',
    text: () => {
      const { lines, call } = spanLines();
      return `${lines.map((l, i) => (i === call ? bigSpan(l) : l)).join('\n')}\n`;
    },
    calls: 92,
  },
  {
    name: 'an OpenTelemetry span record with 3 MB of attributes alone in its file',
    text: () => {
      const { lines, call } = spanLines();
      return `${bigSpan(lines[call] as string)}\n`;
    },
    calls: 1,
  },
];

for (const c of cases) {
  for (const parallel of [false, true]) {
    test(`${c.name} is read member by member, its calls stored (${parallel ? 'worker' : 'this thread'})`, async (t) => {
      const { store, dir } = tempStore();
      const text = c.text();
      t.true(Buffer.byteLength(text) > 2 * 1024 * 1024);
      const s = await ingest(store, { inputs: [writeFile(dir, 'in.jsonl', text)], parallel });
      t.is(s.rejected, 0, s.results[0]?.error?.message);
      t.is(s.newCalls, c.calls);
      t.is(counts(store).calls, c.calls);
      // The bulky value itself was read: the record's own fields are what the call came from.
      store.close();
    });
  }
}

test('a big record keeps the digits of its bare nanosecond times', async (t) => {
  const { lines, call } = spanLines();
  const line = lines[call] as string;
  const nanos = /"startTimeUnixNano":(\d+)/.exec(line)?.[1] as string;
  const run = async (text: string): Promise<number> => {
    const { store, dir } = tempStore();
    await ingest(store, { inputs: [writeFile(dir, 'in.jsonl', `${text}\n`)] });
    const row = store.prepare('SELECT start_time AS t FROM calls').get() as { t: number };
    store.close();
    return row.t;
  };
  t.is(await run(bigSpan(line)), await run(line));
  t.true(nanos.length >= 19);
});

test('a value larger than the splitter holds as text is streamed: its long strings cut, its calls stored', async (t) => {
  // 13 MiB of metadata in a segment document alone in its file, and in a batch-get-traces Trace.
  const seg = { ...segment(2, false), metadata: { blob: 'y'.repeat(13 * 1024 * 1024) } };
  const { trace_id: trace, id } = seg as unknown as { trace_id: string; id: string };
  for (const text of [
    JSON.stringify(seg),
    JSON.stringify({ Traces: [{ Id: trace, Segments: [{ Id: id, Document: seg }] }] }),
  ]) {
    const { store, dir } = tempStore();
    const s = await ingest(store, { inputs: [writeFile(dir, 'in.json', text)] });
    t.is(s.rejected, 0, s.results[0]?.error?.message);
    t.is(counts(store).calls, 1);
    store.close();
  }
});

/** `n` bytes of `[{},{},…]`: tiny in bytes, twenty times that in memory once parsed. */
function dense(n: number): string {
  return `[${'{},'.repeat(Math.floor(n / 3) - 1)}{}]`;
}

const refused: { name: string; text: () => string; message: RegExp; offset: (text: string) => number }[] = [
  {
    name: 'a member whose parsing would not fit the worker',
    text: () =>
      `${documentText(segment(1, false))}\n${JSON.stringify({ ...segment(2, false), metadata: { app: JSON.parse(dense(9_000_000)) as unknown } })}\n`,
    message:
      /^member "metadata" is too large to read: \d+ bytes would take about \d+ MiB of memory, more than the 32 MiB/,
    offset: (text) => text.indexOf('"metadata"') + '"metadata":'.length,
  },
  {
    name: 'a record whose members together would not fit the worker',
    text: () => {
      const seg: Record<string, unknown> = segment(2, false);
      for (let i = 0; i < 8; i++) seg[`m${i}`] = JSON.parse(dense(300_000)) as unknown;
      return `${documentText(segment(1, false))}\n${JSON.stringify(seg)}\n`;
    },
    message: /^this value is too large to read: the first \d+ bytes of it would take about \d+ MiB of memory/,
    offset: (text) => text.indexOf('\n') + 1,
  },
  {
    name: 'a Document string larger than the 12 MiB read whole',
    text: () => {
      const seg = { ...segment(2, false), metadata: { blob: 'y'.repeat(13 * 1024 * 1024) } };
      const { trace_id: trace, id } = seg as unknown as { trace_id: string; id: string };
      return JSON.stringify({
        Traces: [{ Id: trace, Segments: [{ Id: id, Document: JSON.stringify(seg) }] }],
      });
    },
    message:
      /^an element of "Traces" holds a JSON string \("Document"\) larger than 12 MiB, the most read whole$/,
    offset: (text) => text.indexOf('{"Id"'),
  },
  {
    name: 'a Document string over 12 MiB in an {Id, Document} entry of its own',
    text: () => {
      const seg = { ...segment(2, false), metadata: { blob: 'y'.repeat(13 * 1024 * 1024) } };
      return JSON.stringify({ Id: (seg as unknown as { id: string }).id, Document: JSON.stringify(seg) });
    },
    message: /^member "Document" holds a JSON string \("Document"\) larger than 12 MiB, the most read whole$/,
    offset: (text) => text.indexOf('"Document":') + '"Document":'.length,
  },
];

for (const c of refused) {
  test(`${c.name} is refused with its position, size and a hint`, async (t) => {
    const { store, dir } = tempStore();
    const text = c.text();
    const s = await ingest(store, { inputs: [writeFile(dir, 'in.jsonl', text)] });
    t.is(s.rejected, 1);
    const error = s.results[0]?.error;
    t.regex(error?.message ?? '', c.message);
    t.is(error?.offset, c.offset(text));
    t.regex(error?.hint ?? '', /remove or shorten its largest field/);
    t.is(counts(store).calls, 0, 'nothing of the input is kept');
    store.close();
  });
}
