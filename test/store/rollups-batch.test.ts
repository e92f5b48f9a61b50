/**
 * The writer adds new calls to the rollups aggregated in JavaScript (RollupBatch, one upsert per
 * rollup key) where it used to run each rollup's SQL (`addCallsSql`: INSERT … SELECT … GROUP BY …
 * ON CONFLICT) over the new calls. Both come from the one definition in store/rollups.ts; these
 * cases prove they give the same rows, every rollup table, every column: on the same calls,
 * added in chunks of several sizes onto the same stored rows, and against a rebuild from scratch.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ingest } from '../../src/ingest/ingest.js';
import { openStore, type Store } from '../../src/store/db.js';
import {
  addCallsSql,
  aggregateSql,
  compareBinary,
  rebuildRollups,
  RollupBatch,
  rollupColumns,
  ROLLUPS,
  upsertRowSql,
  WORKLOAD_DAY_ACTIONS,
  WORKLOAD_DAY_TARGETS,
  WORKLOAD_DAYS,
  type RollupCall,
} from '../../src/store/rollups.js';
import { generateDumpSync } from '../support/generator.js';
import {
  awsCall,
  batch,
  lambdaSegment,
  repoRoot,
  T0,
  tempDir,
  tempStore,
  writeFile,
} from '../support/helpers.js';

/** Every rollup table's rows, every column, in key order. */
function tables(store: Store): Record<string, unknown[]> {
  return Object.fromEntries(
    ROLLUPS.map((r) => {
      const cols = rollupColumns(r);
      const pk = 2 + r.keys.length;
      return [
        r.table,
        store
          .prepare(`SELECT ${cols.join(', ')} FROM ${r.table} ORDER BY ${cols.slice(0, pk).join(', ')}`)
          .raw()
          .all(),
      ];
    }),
  );
}

/** The calls with a workload and an id in [lo, hi), as the writer hands them to RollupBatch. */
function callsBetween(store: Store, lo: number, hi: number): RollupCall[] {
  return store
    .prepare(
      `SELECT c.workload_id AS workloadId, c.start_time AS startTime, c.trace_id AS traceKey, tr.xray_id AS traceId,
         c.target_id AS targetId, c.outcome FROM calls c JOIN traces tr ON tr.id = c.trace_id
       WHERE c.id >= ? AND c.id < ? AND c.workload_id IS NOT NULL ORDER BY c.id`,
    )
    .all(lo, hi) as RollupCall[];
}

function actionsOf(store: Store): (targetId: number) => string[] {
  const st = store.prepare('SELECT action FROM target_permissions WHERE target_id = ?').pluck();
  return (id) => st.all(id) as string[];
}

/** Adds the calls to the rollups in chunks of `chunk` ids: by the SQL path, or by RollupBatch. */
function addInChunks(store: Store, how: 'sql' | 'batch', chunk: number): void {
  const max = (store.prepare('SELECT max(id) FROM calls').pluck().get() as number) + 1;
  const sql = ROLLUPS.map((r) =>
    store.prepare(addCallsSql(r, 'calls c', 'c.id >= ? AND c.id < ? AND c.workload_id IS NOT NULL')),
  );
  const upserts = ROLLUPS.map((r) => store.prepare(upsertRowSql(r)));
  const b = new RollupBatch(actionsOf(store));
  for (let lo = 1; lo < max; lo += chunk) {
    if (how === 'sql') for (const st of sql) st.run(lo, lo + chunk);
    else {
      for (const c of callsBetween(store, lo, lo + chunk)) b.add(c);
      b.rows().forEach(({ rows }, i) => rows.forEach((row) => upserts[i]?.run(...row)));
      b.clear();
    }
  }
}

/** Unicode trace ids where UTF-16 order and SQLite's byte order disagree, and a call on each side of midnight. */
function unicodeInput(dir: string): string {
  const midnight = Math.ceil(T0 / 86400) * 86400;
  const ids = [
    '1-aaaaaaaa-é',
    '1-aaaaaaaa-\u{e000}',
    '1-aaaaaaaa-\u{1f600}',
    '1-aaaaaaaa-\ud800x',
    '1-aaaaaaaa-z',
  ];
  const traces = ids.map((id, i) => ({
    id,
    segments: [
      lambdaSegment(id, 'fn', [
        awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' }, { start_time: midnight - 1 + i }),
        awsCall('DynamoDB', 'BatchWriteItem', { table_names: ['t1', 't2'] }),
        awsCall(
          'SQS',
          'SendMessage',
          { queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' },
          i % 2 ? { http: { response: { status: 403 } }, error: true } : {},
        ),
      ]),
    ],
  }));
  return writeFile(dir, 'unicode.json', batch(traces));
}

const CASES: { name: string; inputs: (dir: string) => string[] }[] = [
  {
    name: 'a generated dump, 12 workloads over 3 days',
    inputs: (dir) => [
      writeFile(
        dir,
        'g.json',
        [
          ...generateDumpSync({
            sizeBytes: 600_000,
            seed: 7,
            workloads: 12,
            days: 3,
            layout: 'concatenated',
          }),
        ].join(''),
      ),
    ],
  },
  {
    name: 'a generated dump, 3 workloads on one day (many calls per key)',
    inputs: (dir) => [
      writeFile(
        dir,
        'g.json',
        [
          ...generateDumpSync({ sizeBytes: 400_000, seed: 3, workloads: 3, days: 1, layout: 'concatenated' }),
        ].join(''),
      ),
    ],
  },
  {
    name: 'the bundled X-Ray and OpenTelemetry samples',
    inputs: () => [
      path.join(repoRoot, 'samples/traces'),
      path.join(repoRoot, 'samples/otel/aws-spans.jsonl'),
    ],
  },
  {
    name: 'unicode trace ids, midnight, a target with one action twice',
    inputs: (dir) => [unicodeInput(dir)],
  },
];

for (const c of CASES) {
  test(`RollupBatch gives the rows the SQL gives: ${c.name}`, async (t) => {
    const { store, file, dir } = tempStore();
    await ingest(store, { inputs: c.inputs(dir) });
    const ingested = tables(store);
    t.true((ingested.workload_days?.length ?? 0) > 0, 'the case has attributed calls');
    rebuildRollups(store);
    t.deepEqual(tables(store), ingested, 'ingest (RollupBatch) = rebuilt from scratch');
    // The same calls, group by group, both ways.
    const max = (store.prepare('SELECT max(id) FROM calls').pluck().get() as number) + 1;
    const b = new RollupBatch(actionsOf(store));
    for (const call of callsBetween(store, 1, max)) b.add(call);
    const byJs = b.rows();
    for (const [i, r] of ROLLUPS.entries()) {
      const pk = 2 + r.keys.length;
      const order = Array.from({ length: pk }, (_x, k) => k + 1).join(', ');
      const bySql = store
        .prepare(`${aggregateSql(r, 'calls c', 'c.workload_id IS NOT NULL')} ORDER BY ${order}`)
        .raw()
        .all();
      t.deepEqual(byJs[i]?.rows, bySql, `${r.table}: the same rows, columns and order`);
    }
    // Added in chunks onto an empty rollup (keys met again in later chunks), both ways.
    store.close();
    for (const chunk of [1, 7, 1000]) {
      const results = (['sql', 'batch'] as const).map((how) => {
        const copy = path.join(tempDir(), `${how}.db`);
        fs.copyFileSync(file, copy);
        const s = openStore({ path: copy });
        for (const r of ROLLUPS) s.exec(`DELETE FROM ${r.table}`);
        addInChunks(s, how, chunk);
        const got = tables(s);
        s.close();
        return got;
      });
      t.deepEqual(results[1], results[0], `chunks of ${chunk} ids: RollupBatch upserts = addCallsSql`);
    }
  });
}

test('the unicode case covers what it says', async (t) => {
  const { store, dir } = tempStore();
  await ingest(store, { inputs: [unicodeInput(dir)] });
  const twice = store
    .prepare(
      'SELECT count(*) FROM (SELECT target_id, action FROM target_permissions GROUP BY 1, 2 HAVING count(*) > 1)',
    )
    .pluck()
    .get() as number;
  t.true(twice > 0, 'a target needs one action on two resources');
  t.is(store.prepare('SELECT count(*) FROM workload_days').pluck().get(), 2, 'two days');
  t.true((store.prepare("SELECT count(*) FROM calls WHERE outcome <> 'ok'").pluck().get() as number) > 0);
});

test('compareBinary orders as SQLite does', (t) => {
  const { store } = tempStore();
  const words = [
    '',
    'a',
    'b',
    'ab',
    'é',
    '\u{e000}',
    '\u{ffff}',
    '\u{10000}',
    '\u{1f600}',
    '\ud800',
    '\udc00',
    '\ud800x',
    '\ud800\udc00',
    'z\ud83d',
    'z\ud83d\ude00',
    'Z',
  ];
  store.exec('CREATE TEMP TABLE w (s TEXT)');
  const ins = store.prepare('INSERT INTO w VALUES (?)');
  words.forEach((w) => ins.run(w));
  const bySqlite = store.prepare('SELECT hex(s) FROM w ORDER BY s').pluck().all();
  const hex = store.prepare('SELECT hex(?)').pluck();
  const byJs = [...words].sort(compareBinary).map((w) => hex.get(w));
  t.deepEqual(byJs, bySqlite);
});

test('the rollups SQL is what it was (the per-call forms changed no expression)', (t) => {
  const sql = (r: (typeof ROLLUPS)[number]): string => aggregateSql(r, 'calls c', '1').replace(/\s+/g, ' ');
  t.is(
    sql(WORKLOAD_DAYS),
    "SELECT c.workload_id AS workload_id, CAST(floor(c.start_time / 86400.0) AS INTEGER) AS day, count(*) AS calls, count(DISTINCT c.trace_id) AS traces, sum(c.outcome = 'denied') AS denied, sum(c.outcome = 'error') AS errors, sum(c.outcome = 'fault') AS faults, sum(c.outcome = 'throttle') AS throttles, min(c.start_time) AS first_time, max(c.start_time) AS last_time FROM calls c WHERE 1 GROUP BY 1, 2",
  );
  t.is(
    sql(WORKLOAD_DAY_TARGETS),
    'SELECT c.workload_id AS workload_id, CAST(floor(c.start_time / 86400.0) AS INTEGER) AS day, c.target_id AS target_id, c.outcome AS outcome, count(*) AS calls, min(c.start_time) AS first_time, max(c.start_time) AS last_time, min(tr.xray_id) AS trace_min, max(tr.xray_id) AS trace_max FROM calls c JOIN traces tr ON tr.id = c.trace_id WHERE 1 GROUP BY 1, 2, 3, 4',
  );
  t.is(
    sql(WORKLOAD_DAY_ACTIONS),
    'SELECT c.workload_id AS workload_id, CAST(floor(c.start_time / 86400.0) AS INTEGER) AS day, tp.action AS action, count(*) AS calls FROM calls c JOIN target_permissions tp ON tp.target_id = c.target_id WHERE 1 GROUP BY 1, 2, 3',
  );
});
