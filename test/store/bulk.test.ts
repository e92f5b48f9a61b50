/**
 * Bulk loads (store/bulk.ts): a run that adds more calls than the database holds drops the
 * secondary indexes of calls and builds them at its end. It must store exactly what a run that
 * maintains them stores, leave every index in place, and be chosen only where it pays.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { bulkLoadPays } from '../../src/store/bulk.js';
import { openStore, type Store } from '../../src/store/db.js';
import { fixturesDir, repoRoot, tempDir, tempStore, writeFile } from '../support/helpers.js';
import { content, rollupsFromCalls, scenarios } from '../support/shards.js';

const cases: [stored: number, added: number, pays: boolean][] = [
  [0, 1, true],
  [0, 0, false],
  [999, 1000, true],
  [1000, 1000, false],
  [10_000_000, 131_072, false],
];
for (const [stored, added, pays] of cases) {
  test(`bulkLoadPays(${stored} stored, ${added} added) is ${pays}`, (t) => {
    t.is(bulkLoadPays(stored, added), pays);
  });
}

/** The indexes a database has (name and definition). */
function indexes(store: Store): unknown[] {
  return store
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
    .all();
}

const schemaIndexes = (): unknown[] => {
  const { store } = tempStore();
  const out = indexes(store);
  store.close();
  return out;
};

test('every scenario stores the same in a bulk load, with indexes maintained, and run by run', async (t) => {
  const inputs = Object.values(scenarios());
  const bulk = tempStore().store;
  const incremental = tempStore().store;
  const runByRun = tempStore().store;
  const a = await ingest(bulk, { inputs, bulk: true });
  const b = await ingest(incremental, { inputs, bulk: false });
  t.true(a.bulk);
  t.false(b.bulk);
  for (const input of inputs) await ingest(runByRun, { inputs: [input] });
  t.is(a.rejected + b.rejected, 0);
  const expected = content(incremental);
  t.true((expected.calls?.length ?? 0) > 100);
  t.deepEqual(content(bulk), expected);
  t.deepEqual(content(runByRun), expected);
  t.deepEqual(rollupsFromCalls(bulk), rollupsFromCalls(incremental));
  for (const s of [bulk, incremental, runByRun]) {
    t.deepEqual(indexes(s), schemaIndexes());
    t.deepEqual(s.prepare('PRAGMA integrity_check').all(), [{ integrity_check: 'ok' }]);
  }
});

test('auto: a first load is a bulk load; an append smaller than the database is not', async (t) => {
  const { store } = tempStore();
  const big = path.join(repoRoot, 'samples', 'traces');
  const first = await ingest(store, { inputs: [big] });
  t.true(first.bulk);
  const small = writeFile(
    tempDir(),
    'one.jsonl',
    JSON.stringify({
      id: 'b000000000000001',
      trace_id: '1-6930b000-000000000000000000000001',
      name: 'one',
      origin: 'AWS::EC2::Instance',
      start_time: 1795132800,
      end_time: 1795132801,
      subsegments: [
        {
          id: 'b000000000000002',
          name: 'S3',
          namespace: 'aws',
          start_time: 1795132800.1,
          end_time: 1795132800.2,
          aws: { operation: 'ListBuckets', region: 'eu-west-1' },
        },
      ],
    }),
  );
  const second = await ingest(store, { inputs: [small] });
  t.false(second.bulk);
  t.is(second.newCalls, 1);
  t.deepEqual(indexes(store), schemaIndexes());
  // Standard input has no size: never a bulk load under auto.
  const fresh = tempStore().store;
  const piped = await ingest(fresh, { inputs: ['-'], stdin: Readable.from([Buffer.from('[]')]) });
  t.false(piped.bulk);
});

test('a bulk load with a rejected input keeps the others, and its indexes', async (t) => {
  const dir = tempDir();
  const { store } = tempStore();
  const good = Object.values(scenarios()).slice(0, 3);
  const bad = writeFile(dir, 'bad.json', '{"Traces": [{"Id": "1-2-3", "Segments": [');
  const r = await ingest(store, { inputs: [good[0]!, bad, ...good.slice(1)], bulk: true });
  t.is(r.rejected, 1);
  t.is(r.ingested, 3);
  t.deepEqual(indexes(store), schemaIndexes());
  const alone = tempStore().store;
  await ingest(alone, { inputs: good, bulk: false });
  t.deepEqual(content(store), content(alone));
});

test('a database left by older code opens with the same indexes as a new one', (t) => {
  // Guards the migrations: a bulk load rebuilds exactly what sqlite_master says, so a migration
  // that lost an index would silently lose it for good.
  const file = path.join(tempDir(), 'v2.db');
  fs.copyFileSync(path.join(fixturesDir, 'store', 'v2-samples.db'), file);
  const migrated = openStore({ path: file });
  t.deepEqual(indexes(migrated), schemaIndexes());
  migrated.close();
});
