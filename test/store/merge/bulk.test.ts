/**
 * Bulk loads (store/merge/bulk.ts): when building the indexes of calls once beats maintaining them, and
 * that what is built is what the schema defines (merge.test.ts checks merged databases against
 * databases ingested whole, indexes included, on both paths).
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { bulkLoadPays, buildIndexes, dropCallIndexes } from '../../../src/store/merge/bulk.js';
import { openStore, type Store } from '../../../src/store/db.js';
import { fixturesDir, tempDir, tempStore } from '../../support/helpers.js';

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

function schemaIndexes(): unknown[] {
  const { store } = tempStore();
  const out = indexes(store);
  store.close();
  return out;
}

test('the indexes dropped for a bulk load are the non-partial ones of calls, and come back as defined', (t) => {
  const { store } = tempStore();
  const before = indexes(store);
  const deferred = dropCallIndexes(store);
  t.deepEqual(deferred.indexes.map((i) => i.name).sort(), [
    'calls_target',
    'calls_time',
    'calls_workload_time',
  ]);
  t.false(JSON.stringify(indexes(store)).includes('calls_time'));
  buildIndexes(store, deferred);
  t.deepEqual(indexes(store), before);
});

test('a database migrated from schema 2 has the indexes of a new one', (t) => {
  // A bulk load rebuilds what sqlite_master lists: a migration that lost an index would lose it for good.
  const file = path.join(tempDir(), 'v2.db');
  fs.copyFileSync(path.join(fixturesDir, 'store', 'v2-samples.db'), file);
  const migrated = openStore({ path: file });
  t.deepEqual(indexes(migrated), schemaIndexes());
  migrated.close();
});
