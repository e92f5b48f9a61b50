/**
 * An older database migrates to the current schema with the same query results: databases
 * written by release 0.1.0 (schema 1) and 0.2.0 (schema 2) (test/fixtures/store) are opened by
 * this build, and every command answers as on a fresh ingest of the same inputs.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
const V2 = path.join(fixturesDir, 'store', 'v2-samples.db');
/** What 0.2.0 ingested into V2, in this order. */
const V2_INPUTS = [
  path.join(repoRoot, 'samples/traces'),
  path.join(repoRoot, 'samples/otel'),
  path.join(fixturesDir, 'store', 'v2-loose.jsonl'),
];

function copyOf(fixture: string = V1): string {
  const file = path.join(tempDir(), 'old.db');
  fs.copyFileSync(fixture, file);
  return file;
}

const copyOfV1 = (): string => copyOf(V1);

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
  t.regex(err!.message, /schema version 1; this xray-lp needs \d+\. Run `xray-lp migrate`/);
  const raw = openStore({ path: file, readonly: true, allowOlder: true });
  t.is(raw.pragma('user_version', { simple: true }), 1);
  raw.close();
});

/** Every stored call, segment and node with its trace id as text, in a schema 2 or 3 database. */
function byTraceId(store: Store, version: number): unknown {
  const trace = (alias: string): string =>
    version >= 3 ? `(SELECT xray_id FROM traces WHERE id = ${alias}.trace_id)` : `${alias}.trace_id`;
  const traces = version >= 3 ? 'xray_id' : 'id';
  return {
    traces: store
      .prepare(`SELECT ${traces} AS id, duration, limit_exceeded, source_id FROM traces ORDER BY 1`)
      .all(),
    calls: store
      .prepare(
        `SELECT c.id, ${trace('c')} AS trace, c.sub_id, c.segment_id, c.workload_id, c.start_time, c.end_time, c.target_id,
           c.http_status, c.outcome, c.error_type, c.via, c.source_id FROM calls c ORDER BY c.id`,
      )
      .all(),
    segments: store
      .prepare(
        `SELECT ${trace('s')} AS trace, s.id, s.type, s.parent_id, s.workload_id, s.name, s.origin, s.start_time, s.end_time,
           s.in_progress, s.source_id, s.fallback_id FROM segments s ORDER BY 1, 2`,
      )
      .all(),
    nodes: store
      .prepare(`SELECT ${trace('n')} AS trace, n.id, n.segment_id FROM nodes n ORDER BY 1, 2`)
      .all(),
    rollups: store.prepare('SELECT * FROM workload_day_targets ORDER BY 1, 2, 3, 4').all(),
  };
}

test('a schema 2 database from release 0.2.0 migrates to integer trace keys, keeps every row, and answers as a fresh ingest', async (t) => {
  const file = copyOf(V2);
  const old = openStore({ path: file, readonly: true, allowOlder: true });
  t.is(old.pragma('user_version', { simple: true }), 2);
  const before = byTraceId(old, 2);
  old.close();

  const migrated = openStore({ path: file });
  t.is(migrated.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.deepEqual(byTraceId(migrated, 3), before);
  t.deepEqual(migrated.prepare('PRAGMA integrity_check').all(), [{ integrity_check: 'ok' }]);
  t.deepEqual(migrated.prepare('PRAGMA foreign_key_check').all(), []);
  const calls = (migrated.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n;
  t.true(calls > 250, `${calls} calls`);
  t.is((migrated.prepare('SELECT count(*) AS n FROM nodes').get() as { n: number }).n, 1);

  const fresh = tempStore().store;
  await ingest(fresh, { inputs: V2_INPUTS });
  t.deepEqual(answers(migrated), answers(fresh));

  // The migrated database goes on as a fresh one does: a later input brings the parent of the
  // independent subsegment that waited, and an in-progress segment's complete copy.
  const later = path.join(tempDir(), 'later.jsonl');
  fs.writeFileSync(
    later,
    [
      {
        id: 'a0000000000000ff',
        trace_id: '1-6930a000-000000000000000000000002',
        name: 'billing',
        origin: 'AWS::EC2::Instance',
        start_time: 1795132900.1,
        end_time: 1795132901,
      },
      {
        id: 'a000000000000005',
        trace_id: '1-6930a000-000000000000000000000003',
        name: 'jobs',
        origin: 'AWS::ECS::Container',
        start_time: 1795133000.1,
        end_time: 1795133001,
        subsegments: [
          {
            id: 'a000000000000006',
            name: 'SQS',
            namespace: 'aws',
            start_time: 1795133000.2,
            end_time: 1795133000.3,
            aws: {
              operation: 'SendMessage',
              queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
              region: 'eu-west-1',
            },
          },
          {
            id: 'a000000000000007',
            name: 'SQS',
            namespace: 'aws',
            start_time: 1795133000.4,
            end_time: 1795133000.5,
            aws: {
              operation: 'DeleteMessage',
              queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
              region: 'eu-west-1',
            },
          },
        ],
      },
    ]
      .map((d) => JSON.stringify(d))
      .join('\n'),
  );
  await ingest(migrated, { inputs: [later] });
  await ingest(fresh, { inputs: [later] });
  t.deepEqual(answers(migrated), answers(fresh));
  const billing = listWorkloads(migrated).find((w) => w.name === 'billing');
  t.is(billing?.calls, 1, 'the waiting S3 call found its workload');
  migrated.close();
  fresh.close();
});

test('migrating to schema 3 loses no row whose trace id is missing from traces', (t) => {
  // Calls and segments name their trace by its id; a document whose trace_id differs from the
  // Trace object holding it was stored under its own id, with no `traces` row of its own.
  const file = copyOf(V2);
  const raw = new Database(file);
  const trace = (raw.prepare('SELECT trace_id AS id FROM calls ORDER BY id LIMIT 1').get() as { id: string })
    .id;
  raw.prepare('DELETE FROM traces WHERE id = ?').run(trace);
  const before = byTraceId(raw, 2) as { calls: unknown[]; segments: unknown[] };
  raw.close();
  const migrated = openStore({ path: file });
  const after = byTraceId(migrated, 3) as { calls: unknown[]; segments: unknown[] };
  t.deepEqual(after.calls, before.calls);
  t.deepEqual(after.segments, before.segments);
  t.truthy(migrated.prepare('SELECT 1 FROM traces WHERE xray_id = ?').get(trace));
  migrated.close();
});

test('schema 4: an older database gains an empty configs table, and configuration exports ingest into it', async (t) => {
  const migrated = openStore({ path: copyOfV1() });
  t.deepEqual(migrated.prepare('SELECT count(*) AS n FROM configs').get(), { n: 0 });
  const r = await ingest(migrated, {
    inputs: [path.join(repoRoot, 'test/fixtures/config/list-event-source-mappings.json')],
  });
  t.is(r.rejected, 0);
  t.deepEqual(migrated.prepare('SELECT kind, count(*) AS n FROM configs GROUP BY kind').all(), [
    { kind: 'mapping', n: 2 },
  ]);
});
