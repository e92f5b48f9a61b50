/** Parsing on a worker thread or on this thread gives the same rows, positions and errors (src/ingest/pipeline.ts, worker.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import test from 'ava';
import { generateDumpSync } from '../support/generator.js';
import { ingest } from '../../src/ingest/ingest.js';
import type { Store } from '../../src/store/db.js';
import {
  awsCall,
  batch,
  counts,
  fixturesDir,
  lambdaSegment,
  tempDir,
  tempStore,
  traceId,
  writeFile,
} from '../support/helpers.js';
import { ingestText, traces } from './support.js';

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
      .prepare(
        'SELECT tr.xray_id, c.sub_id, c.start_time, c.outcome, c.via FROM calls c JOIN traces tr ON tr.id = c.trace_id ORDER BY 1, 2',
      )
      .all();
  const inline = await ingestText(text, 'a.json', false);
  const worker = await ingestText(text, 'a.json', true);
  t.deepEqual(dump(worker.store), dump(inline.store));
  t.is((dump(inline.store) as unknown[]).length, 120);
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
      .prepare(
        'SELECT tr.xray_id, c.sub_id, c.workload_id, c.target_id, c.outcome FROM calls c JOIN traces tr ON tr.id = c.trace_id ORDER BY 1, 2',
      )
      .all(),
    segments: store
      .prepare(
        'SELECT tr.xray_id, g.id, g.workload_id, g.in_progress FROM segments g JOIN traces tr ON tr.id = g.trace_id ORDER BY 1, 2',
      )
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
