/**
 * Large files are read and hashed on the writer's thread and handed to the parse worker in
 * transferred chunks; smaller ones are read by the worker itself (src/ingest/ingest.ts
 * readOnWorker, pipeline.ts ownBytes). Either way an input must give the same rows, counts,
 * sha256 and rejections: each case is ingested both ways and every table compared.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import test from 'ava';
import { generateDumpSync } from '../support/generator.js';
import { ingest, READ_HERE_MIN_BYTES, readOnWorker, type IngestSummary } from '../../src/ingest/ingest.js';
import type { Store } from '../../src/store/db.js';
import { repoRoot, tempStore, writeFile } from '../support/helpers.js';

/** Every table's rows in key order, hashed (the times and paths of `sources` apart). */
function tableHashes(store: Store): Record<string, string> {
  const out: Record<string, string> = {};
  const tables = store
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  for (const name of tables) {
    const cols = (store.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[])
      .map((c) => c.name)
      .filter((c) => name !== 'sources' || !['ingested_at', 'elapsed_ms', 'path'].includes(c));
    const h = createHash('sha256');
    const rows = store
      .prepare(`SELECT ${cols.join(', ')} FROM ${name} ORDER BY ${cols.map((_c, i) => i + 1).join(', ')}`)
      .raw()
      .iterate();
    for (const r of rows) h.update(JSON.stringify(r));
    out[name] = h.digest('hex');
  }
  return out;
}

/** What a summary says of each input, times and paths apart. */
function outcome(s: IngestSummary): unknown[] {
  return s.results.map((r) => ({
    status: r.status,
    shape: r.shape,
    bytes: r.bytes,
    sha256: r.sha256,
    counts: r.counts,
    problems: r.problems,
    error: r.error,
  }));
}

const dump = (seed: number, sizeBytes: number): string =>
  [...generateDumpSync({ sizeBytes, seed, workloads: 20, days: 2, layout: 'concatenated' })].join('');

const CASES: { name: string; inputs: (dir: string) => string[] }[] = [
  { name: 'a concatenated dump', inputs: (dir) => [writeFile(dir, 'a.json', dump(1, 1_500_000))] },
  {
    name: 'the same, gzipped (inflated chunks handed over)',
    inputs: (dir) => [writeFile(dir, 'a.json.gz', zlib.gzipSync(dump(1, 1_500_000)))],
  },
  {
    name: 'OpenTelemetry spans, JSON lines',
    inputs: () => [path.join(repoRoot, 'samples/otel/aws-spans.jsonl')],
  },
  {
    name: 'several files, overlapping',
    inputs: (dir) => {
      const text = dump(2, 900_000);
      return [
        writeFile(dir, '1.json', text),
        writeFile(dir, '2.json', dump(3, 700_000)),
        writeFile(dir, '3.json', text.slice(0, text.indexOf('}\n{', text.length / 2) + 2)),
      ];
    },
  },
  {
    name: 'a file cut off, then a good one',
    inputs: (dir) => {
      const text = dump(4, 600_000);
      return [writeFile(dir, 'cut.json', text.slice(0, text.length - 100)), writeFile(dir, 'ok.json', text)];
    },
  },
];

for (const c of CASES) {
  test(`read on the worker or on the writer's thread, the same store: ${c.name}`, async (t) => {
    const runs = await Promise.all(
      [Infinity, 0].map(async (readHereMinBytes) => {
        const { store, dir } = tempStore();
        const inputs = c.inputs(dir);
        const summary = await ingest(store, { inputs, parallel: true, readHereMinBytes });
        return { summary: outcome(summary), tables: tableHashes(store), inputs };
      }),
    );
    const [onWorker, here] = runs as [(typeof runs)[0], (typeof runs)[0]];
    t.true(
      onWorker.inputs.every((f) => readOnWorker({ file: f, size: fs.statSync(f).size }, Infinity)) &&
        onWorker.inputs.every((f) => !readOnWorker({ file: f, size: fs.statSync(f).size }, 0)),
      'the two runs took the two paths',
    );
    t.deepEqual(here.summary, onWorker.summary);
    t.deepEqual(here.tables, onWorker.tables);
  });
}

test('which inputs the worker reads itself', (t) => {
  const table: [spec: { file: string | undefined; size?: number }, onWorker: boolean][] = [
    [{ file: '/x/small.json', size: 25_000 }, true],
    [{ file: '/x/just-under.json', size: READ_HERE_MIN_BYTES - 1 }, true],
    [{ file: '/x/large.json', size: READ_HERE_MIN_BYTES }, false],
    [{ file: '/x/huge.json.gz', size: 4 * READ_HERE_MIN_BYTES }, false],
    [{ file: '/x/unknown-size.json' }, true],
    [{ file: undefined }, false], // standard input: its chunks are handed over
  ];
  for (const [spec, want] of table) t.is(readOnWorker(spec), want, JSON.stringify(spec));
});
