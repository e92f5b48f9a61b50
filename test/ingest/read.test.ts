/** Finding and reading inputs: standard input, directories, gzip (src/ingest/read.ts). */
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { batch, counts, tempStore, writeFile } from '../support/helpers.js';
import { ingestText, traces } from './support.js';

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
