/** Finding and reading inputs: standard input, directories, gzip (src/ingest/read.ts). */
import fs from 'node:fs';
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

test('a directory walk follows symbolic links to files and directories, once, and names a broken one', async (t) => {
  const { store, dir } = tempStore();
  const [a, b] = traces;
  // The dumps live elsewhere; the folder handed to ingest holds links to them.
  const elsewhere = writeFile(dir, 'store/a.json', batch([a!]));
  writeFile(dir, 'store/more/b.json', batch([b!]));
  const inDir = path.join(dir, 'in');
  fs.mkdirSync(inDir);
  fs.symlinkSync(elsewhere, path.join(inDir, 'a.json'));
  fs.symlinkSync(path.join(dir, 'store/more'), path.join(inDir, 'more'));
  // A loop (a link to the folder itself) is walked once; a link to nothing is a named problem.
  fs.symlinkSync(inDir, path.join(inDir, 'again'));
  fs.symlinkSync(path.join(dir, 'gone.json'), path.join(inDir, 'gone.json'));
  // Not dump-like names are skipped whatever they point to, as files are.
  fs.symlinkSync(elsewhere, path.join(inDir, 'notes.md'));
  const summary = await ingest(store, { inputs: [inDir] });
  t.deepEqual(
    summary.results.map((r) => [path.relative(dir, r.input), r.status]),
    [
      ['in/gone.json', 'rejected'],
      ['in/a.json', 'ingested'],
      ['in/more/b.json', 'ingested'],
    ],
  );
  t.regex(
    summary.results[0]!.error!.message,
    /^symbolic link to nothing readable: its target does not exist$/,
  );
  t.is(counts(store).calls, 3);
});
