/**
 * Ingest's memory is bounded by design, not by the parse worker's heap cap: one input naming
 * 200,000 distinct S3 object keys (a thumbnail function's daily export) is ingested whole, by the
 * built binary (only it runs the worker with its heap limit), in both layouts users export.
 * Peak RSS of these runs is in docs/memory.md, not asserted here.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { BATCH_HEAD, batchTail, documentText, traceText } from '../support/aws-cli.js';
import { counts, mainJs, repoRoot, tempDir, tempStore, writeFile } from '../support/helpers.js';
import { openStore } from '../../src/store/db.js';

const SEGMENTS = 20_000;
const CALLS_PER_SEGMENT = 10;
const KEYS = SEGMENTS * CALLS_PER_SEGMENT;
const T0 = 1_763_500_000;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Segment `i` of a thumbnail function: ten S3 GetObject calls, each on a key of its own. */
function segment(i: number): Record<string, unknown> {
  const calls = [];
  for (let j = 0; j < CALLS_PER_SEGMENT; j++) {
    const k = i * CALLS_PER_SEGMENT + j;
    calls.push({
      id: hex(k + 1, 16),
      name: 'S3',
      start_time: T0 + i + 0.1,
      end_time: T0 + i + 0.2,
      namespace: 'aws',
      http: { response: { status: 200 } },
      aws: {
        operation: 'GetObject',
        region: 'eu-west-1',
        request_id: `r${k}`,
        bucket_name: 'thumbs',
        key: `in/${hex(k, 10)}.jpg`,
      },
    });
  }
  return {
    id: hex(0x1000000000 + i, 16),
    name: 'thumbnailer',
    origin: 'AWS::Lambda::Function',
    trace_id: `1-${T0.toString(16)}-${hex(i, 24)}`,
    start_time: T0 + i,
    end_time: T0 + i + 1,
    parent_id: hex(0x2000000000 + i, 16),
    aws: {
      function_arn: 'arn:aws:lambda:eu-west-1:123456789012:function:thumbnailer',
      account_id: '123456789012',
    },
    subsegments: [
      {
        id: hex(0x3000000000 + i, 16),
        name: 'Invocation',
        start_time: T0 + i,
        end_time: T0 + i + 1,
        subsegments: calls,
      },
    ],
  };
}

/** Writes the dump in `layout`, streaming (never whole in memory). */
async function writeDump(
  file: string,
  layout: 'segment-lines' | 'batch-get-traces',
  segments = SEGMENTS,
): Promise<void> {
  const out = fs.createWriteStream(file);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  if (layout === 'batch-get-traces') await write(BATCH_HEAD);
  for (let i = 0; i < segments; i++) {
    const doc = segment(i);
    if (layout === 'segment-lines') await write(`${documentText(doc)}\n`);
    else
      await write(
        (i > 0 ? ',\n' : '') +
          traceText({
            id: doc.trace_id as string,
            duration: 1,
            limitExceeded: false,
            docs: [[doc.id as string, documentText(doc)]],
          }),
      );
  }
  if (layout === 'batch-get-traces') await write(batchTail([]));
  out.end();
  await once(out, 'close');
}

function run(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, err }));
  });
}

// One at a time: each is a child process writing 200,000 targets, on a machine the suite shares.
for (const layout of ['segment-lines', 'batch-get-traces'] as const) {
  test.serial(
    `one ${layout} input naming ${KEYS.toLocaleString('en')} distinct S3 keys is ingested, every call once`,
    async (t) => {
      const dir = tempDir();
      const dump = path.join(dir, `thumbnails.${layout === 'segment-lines' ? 'jsonl' : 'json'}`);
      await writeDump(dump, layout);
      const db = path.join(dir, 'x.db');
      const r = await run(['--db', db, 'ingest', '-q', dump]);
      t.is(r.code, 0, r.err);
      t.is(r.err, '');
      const store = openStore({ path: db, readonly: true });
      try {
        const one = (sql: string): number => (store.prepare(sql).get() as { n: number }).n;
        t.is(one('SELECT count(*) AS n FROM calls'), KEYS);
        t.is(one('SELECT count(*) AS n FROM (SELECT DISTINCT trace_id, sub_id FROM calls)'), KEYS);
        t.is(one(`SELECT count(DISTINCT params) AS n FROM targets WHERE operation = 'GetObject'`), KEYS);
        t.is(one('SELECT count(*) AS n FROM workloads'), 1);
      } finally {
        store.close();
      }
    },
  );
}

test('an input that still exhausts the parse worker is refused alone, named, with what to do; the others are ingested', async (t) => {
  // Only the built code runs the worker with its heap limit; lowered here so that the interning
  // tables, bounded for the real limit, exhaust it.
  const { ingest } = (await import(
    path.join(repoRoot, 'dist/ingest/ingest.js')
  )) as typeof import('../../src/ingest/ingest.js');
  const dir = tempDir();
  const small = (name: string, n: number): string => writeFile(dir, name, `${documentText(segment(n))}\n`);
  const first = small('a.jsonl', 1);
  const heavy = path.join(dir, 'b.jsonl');
  await writeDump(heavy, 'segment-lines', 5_000);
  const last = small('c.jsonl', 2);
  const { store } = tempStore();
  const summary = await ingest(store, { inputs: [first, heavy, last], parallel: true, workerHeapMb: 12 });
  t.deepEqual(
    summary.results.map((r) => [path.basename(r.input), r.status]),
    [
      ['a.jsonl', 'ingested'],
      ['b.jsonl', 'rejected'],
      ['c.jsonl', 'ingested'],
    ],
  );
  const error = summary.results[1]?.error;
  t.regex(
    error?.message ?? '',
    /^ran out of memory reading this input \(the parse worker's heap is limited to 12 MiB\); the last value started at byte \d+$/,
  );
  t.regex(error?.hint ?? '', /split the input into smaller files/);
  t.true((error?.line ?? 0) > 1);
  t.is(counts(store).calls, 2 * CALLS_PER_SEGMENT);
});
