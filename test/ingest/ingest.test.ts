/** The ingest run: each input whole or not at all, groups of inputs committed together (src/ingest/ingest.ts). */
import { isUtf8 } from 'node:buffer';
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

// An escaped lone surrogate (`\ud800`) is half a UTF-16 pair: no UTF-8 holds it. Stored as is,
// SQLite would keep bytes that are not UTF-8 (ED A0 80); it is stored as U+FFFD (EF BF BD) and
// counted as a problem of the data. A whole pair (an emoji) is kept; `params` is JSON text, so an
// escaped backslash stays escaped there.
const surrogates: { name: string; escaped: string; stored: string; problems: number }[] = [
  { name: 'a lone high surrogate', escaped: '\\ud800', stored: 'EFBFBD', problems: 1 },
  { name: 'a lone low surrogate', escaped: '\\uDC00', stored: 'EFBFBD', problems: 1 },
  { name: 'a reversed pair', escaped: '\\udc00\\ud800', stored: 'EFBFBDEFBFBD', problems: 1 },
  { name: 'a whole pair', escaped: '\\ud83d\\ude00', stored: 'F09F9880', problems: 0 },
  { name: 'an escaped backslash before ud800', escaped: '\\\\ud800', stored: '5C5C7564383030', problems: 0 },
];

for (const c of surrogates) {
  for (const layout of ['segment document', 'batch-get-traces'] as const) {
    test(`${c.name} in a ${layout} is stored as valid UTF-8 (${c.stored})`, async (t) => {
      const id = traceId(900);
      const seg = lambdaSegment(id, 'fn', [awsCall('DynamoDB', 'GetItem', { table_name: 'TABLE' })]);
      // The escape written into the JSON text itself (inside the Document string for batch-get-traces).
      const text =
        layout === 'segment document'
          ? JSON.stringify(seg).replace('TABLE', `t${c.escaped}`)
          : batch([{ id, segments: [seg] }], { pretty: false }).replace(
              'TABLE',
              `t${c.escaped.replaceAll('\\', '\\\\')}`,
            );
      const { store, dir } = tempStore();
      const summary = await ingest(store, { inputs: [writeFile(dir, 'in.json', text)] });
      t.is(summary.rejected, 0);
      t.is(summary.problems, c.problems);
      const { hex } = store
        .prepare(`SELECT hex(params) AS hex FROM targets WHERE operation = 'GetItem'`)
        .get() as {
        hex: string;
      };
      t.true(hex.includes(Buffer.from('"t').toString('hex').toUpperCase() + c.stored), hex);
      t.true(isUtf8(Buffer.from(hex, 'hex')), 'valid UTF-8');
      store.close();
    });
  }
}
