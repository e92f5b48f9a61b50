/** The ingest run: each input whole or not at all, groups of inputs committed together (src/ingest/ingest.ts). */
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { awsCall, batch, counts, lambdaSegment, tempStore, traceId, writeFile } from '../support/helpers.js';
import { traces } from './support.js';

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
