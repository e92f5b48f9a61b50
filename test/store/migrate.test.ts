/**
 * An older database migrates to the current schema with the same query results: a database
 * written by release 0.1.0 (schema 1, test/fixtures/store) is opened by this build, and every
 * command answers as on a fresh ingest of the same samples.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies } from '../../src/policy/build.js';
import { listCalls } from '../../src/query/calls.js';
import { storeStats } from '../../src/query/stats.js';
import { queryTimeline } from '../../src/query/timeline.js';
import { queryUsage } from '../../src/query/usage.js';
import { listWorkloads } from '../../src/query/workloads.js';
import { StoreError } from '../../src/shared/errors.js';
import { openStore, type Store } from '../../src/store/db.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { fixturesDir, repoRoot, tempDir, tempStore } from '../support/helpers.js';

const V1 = path.join(fixturesDir, 'store', 'v1-samples.db');

function copyOfV1(): string {
  const file = path.join(tempDir(), 'old.db');
  fs.copyFileSync(V1, file);
  return file;
}

/** What every query command answers (sources aside: they record the files as they were then). */
function answers(store: Store): unknown {
  const { sources: _s, ...stats } = storeStats(store);
  return {
    stats,
    workloads: listWorkloads(store).map(({ id: _id, ...w }) => w),
    usage: queryUsage(store, { filter: {} }),
    byDay: queryUsage(store, { filter: {}, groupBy: ['day', 'outcome', 'service'] }),
    timeline: queryTimeline(store, { filter: {}, by: 'hour' }),
    calls: listCalls(store, { filter: {}, limit: 1000 }),
    policies: buildPolicies(store, { filter: {} }),
    week: buildPolicies(store, { filter: { since: Date.parse('2026-11-18T06:30:00Z') / 1000 } }),
  };
}

test('a schema 1 database from release 0.1.0 migrates, keeps every row, and answers as a fresh ingest', async (t) => {
  const file = copyOfV1();
  const old = openStore({ path: file, readonly: true, allowOlder: true });
  t.is(old.pragma('user_version', { simple: true }), 1);
  const before = (old.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n;
  old.close();

  const migrated = openStore({ path: file });
  t.is(migrated.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.is((migrated.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n, before);
  t.deepEqual(migrated.prepare('PRAGMA integrity_check').all(), [{ integrity_check: 'ok' }]);
  t.deepEqual(migrated.prepare('PRAGMA foreign_key_check').all(), []);

  const fresh = tempStore().store;
  await ingest(fresh, { inputs: [path.join(repoRoot, 'samples/traces')] });
  t.deepEqual(answers(migrated), answers(fresh));
});

test('a query on an older database says how to upgrade it, and leaves it as it is', (t) => {
  const file = copyOfV1();
  const err = t.throws(() => openStore({ path: file, readonly: true }), { instanceOf: StoreError });
  t.regex(err!.message, /schema version 1; this xray-lp needs \d+\. Run `xray-lp ingest`/);
  const raw = openStore({ path: file, readonly: true, allowOlder: true });
  t.is(raw.pragma('user_version', { simple: true }), 1);
  raw.close();
});
