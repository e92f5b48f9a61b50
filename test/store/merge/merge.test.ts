/**
 * `mergeShards` (src/store/merge/merge.ts): databases ingested apart and merged hold exactly what one
 * database fed every input holds, row for row (ids aside), rollups included; a second merge of
 * the same shards changes nothing; shards that are not xray-lp databases, or newer, are refused
 * by name and the target is left as it was; an older shard is read from a migrated copy.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import test, { type ExecutionContext } from 'ava';
import { ingest } from '../../../src/ingest/ingest.js';
import { UserInputError } from '../../../src/shared/errors.js';
import { bulkLoadPays } from '../../../src/store/merge/bulk.js';
import { openStore, type Store } from '../../../src/store/db.js';
import { checkShards, MAX_SHARDS, mergeShards, type MergeSummary } from '../../../src/store/merge/merge.js';
import { SCHEMA_VERSION } from '../../../src/store/schema.js';
import { counts, fixturesDir, tempDir } from '../../support/helpers.js';
import {
  allInputs,
  content,
  fileHash,
  ingestShard,
  rollupsFromCalls,
  samples,
  scenarios,
} from '../../support/shards.js';

const files = scenarios();
const V1 = path.join(fixturesDir, 'store', 'v1-samples.db');

interface Case {
  name: string;
  /** Each shard's inputs, by name (see test/support/shards.ts). */
  shards: string[][];
  /** Inputs ingested into the target before the merge (else it is new). */
  target?: string[];
  /** Whether the merge must be a bulk load (store/merge/bulk.ts), where the case is about that. */
  bulk?: boolean;
}

const CASES: Case[] = [
  {
    name: 'the samples, over overlapping shards',
    shards: [
      ['orders', 'pipeline', 'spans'],
      ['pipeline', 'reports', 'thumbnailer', 'otlp'],
      ['thumbnailer', 'otlp', 'orders'],
    ],
  },
  { name: 'an independent subsegment, its parent in a later shard', shards: [['subsegments'], ['parent']] },
  {
    name: 'an independent subsegment, its parent in an earlier shard',
    shards: [['parent'], ['subsegments']],
  },
  { name: "spans, their Lambda function's SERVER span in a later shard", shards: [['others'], ['server']] },
  {
    name: "spans, their Lambda function's SERVER span in an earlier shard",
    shards: [['server'], ['others']],
  },
  { name: 'in progress in one shard, then complete in another', shards: [['partial'], ['complete']] },
  { name: 'complete in one shard, then in progress in another', shards: [['complete'], ['partial']] },
  { name: 'inferred-only in one shard, then its caller in another', shards: [['inferred'], ['caller']] },
  { name: 'a caller in one shard, then its inferred segment in another', shards: [['caller'], ['inferred']] },
  { name: 'unprocessed in one shard, returned in another', shards: [['missing'], ['returned']] },
  {
    name: 'configuration exports in one shard, the traces of the function in another, and again',
    shards: [
      ['fnConfig', 'taskDef'],
      ['triggerA', 'mappings'],
      ['mappings', 'fnConfig'],
    ],
  },
  {
    name: 'CloudTrail records delivered in several forms over shards: once each by eventID',
    shards: [['trailTree', 'orders'], ['trailLookup'], ['trailRecords', 'trailTree']],
  },
  {
    name: 'a function triggered by one queue in one shard, by another in the next: both triggers',
    shards: [['triggerA'], ['triggerB', 'triggerA']],
  },
  {
    name: 'all of it, over three shards',
    shards: [
      ['orders', 'spans', 'subsegments', 'others', 'partial', 'inferred', 'missing'],
      ['pipeline', 'parent', 'server', 'complete', 'caller', 'returned', 'otlp'],
      ['reports', 'thumbnailer', 'spans', 'inferred'],
    ],
  },
  {
    // Fewer calls in the target than the shards bring: their indexes are built at the end, and
    // the touched days recomputed after that.
    name: 'into a target that holds a little: a bulk load',
    target: ['partial', 'caller'],
    shards: [
      ['orders', 'pipeline', 'complete'],
      ['thumbnailer', 'inferred', 'parent', 'server', 'partial'],
    ],
    bulk: true,
  },
  {
    name: 'into a target that holds inputs already',
    target: ['orders', 'others', 'partial', 'inferred', 'subsegments'],
    shards: [
      ['pipeline', 'server', 'orders'],
      ['complete', 'caller', 'parent', 'thumbnailer'],
    ],
  },
];

const paths = (names: string[]): string[] => names.map((n) => files[n] as string);

/** One database fed every input of the case, in one ingest run. */
async function single(c: Case): Promise<Store> {
  const file = await ingestShard(tempDir(), 'single.db', paths(allInputs([c.target ?? [], ...c.shards])));
  return openStore({ path: file });
}

/** The case's shards, each ingested into its own database. */
async function shardFiles(c: Case): Promise<string[]> {
  const dir = tempDir();
  return Promise.all(c.shards.map((names, i) => ingestShard(dir, `shard-${i}.db`, paths(names))));
}

async function targetFor(c: Case): Promise<Store> {
  const file = path.join(tempDir(), 'target.db');
  const store = openStore({ path: file });
  if (c.target) await ingest(store, { inputs: paths(c.target) });
  return store;
}

/** Calls a database holds (by the largest id, as bulk.ts counts them); closes it unless `keep`. */
function callsIn(store: Store, close = true): number {
  const n = (store.prepare('SELECT coalesce(max(id), 0) AS n FROM calls').get() as { n: number }).n;
  if (close) store.close();
  return n;
}

function checkIntegrity(t: ExecutionContext, store: Store, when: string): void {
  t.deepEqual(store.prepare('PRAGMA integrity_check').all(), [{ integrity_check: 'ok' }], when);
  t.deepEqual(store.prepare('PRAGMA foreign_key_check').all(), [], `${when}: foreign keys`);
  const { workloadDays, workloadDayTargets, workloadDayActions } = content(store);
  t.deepEqual(
    { workloadDays, workloadDayTargets, workloadDayActions },
    rollupsFromCalls(store),
    `${when}: rollups`,
  );
}

for (const c of CASES) {
  test(`${c.name}: merged, the target holds what one database fed every input holds`, async (t) => {
    const reference = await single(c);
    const shards = await shardFiles(c);
    const target = await targetFor(c);
    const shardCalls = shards.reduce((n, f) => n + callsIn(openStore({ path: f, readonly: true })), 0);
    const targetCalls = callsIn(target, false);
    const summary = mergeShards(target, { shards });
    t.is(summary.shards.length, shards.length);
    t.is(summary.rollups.method, c.target ? 'touched' : 'rebuilt');
    // A bulk load (indexes built at the end) when the shards hold more calls than the target.
    t.is(summary.bulk, bulkLoadPays(targetCalls, shardCalls));
    if (!c.target) t.true(summary.bulk);
    if (c.bulk !== undefined) t.is(summary.bulk, c.bulk);
    checkIntegrity(t, reference, 'one database');
    checkIntegrity(t, target, 'merged');
    t.deepEqual(content(target), content(reference));
    // Indexes dropped for the copy into a new target are all back, as the schema defines them.
    const schema = (db: Store): unknown[] =>
      db.prepare(`SELECT type, name, tbl_name, sql FROM main.sqlite_master ORDER BY type, name`).all();
    t.deepEqual(schema(target), schema(reference), 'the schema, indexes included');

    // Once more: nothing new, nothing changed (the inputs' provenance included).
    const before = {
      rows: content(target),
      sources: target.prepare('SELECT * FROM sources ORDER BY id').all(),
    };
    const again = mergeShards(target, { shards });
    t.like(again, {
      newTraces: 0,
      newSegments: 0,
      newCalls: 0,
      newInputs: 0,
      newWorkloads: 0,
      replacedCalls: 0,
    });
    t.is(again.duplicateCalls, again.calls);
    t.is(again.bulk, bulkLoadPays(callsIn(target, false), shardCalls));
    t.deepEqual(
      { rows: content(target), sources: target.prepare('SELECT * FROM sources ORDER BY id').all() },
      before,
      'a second merge changes nothing',
    );
    checkIntegrity(t, target, 'merged twice');
    reference.close();
    target.close();
  });
}

test('the rollups recomputed for the touched days equal the rollups rebuilt whole', async (t) => {
  const c = CASES.find((x) => x.name.startsWith('all of it')) as Case;
  const shards = await shardFiles(c);
  const results = (['rebuild', 'touched'] as const).map((rollups) => {
    const store = openStore({ path: path.join(tempDir(), `${rollups}.db`) });
    const summary = mergeShards(store, { shards, rollups });
    const rows = content(store);
    store.close();
    return { summary, rows };
  });
  t.is(results[0]!.summary.rollups.method, 'rebuilt');
  t.is(results[1]!.summary.rollups.method, 'touched');
  t.true(results[1]!.summary.rollups.days > 0);
  t.deepEqual(results[1]!.rows, results[0]!.rows);
});

test('what the summary says: new against already stored, replacements, attribution across shards', async (t) => {
  const dir = tempDir();
  const run = async (names: string[][]): Promise<MergeSummary> => {
    const shards = await Promise.all(
      names.map((n, i) => ingestShard(dir, `${names.flat().join('-')}-${i}.db`, paths(n))),
    );
    const store = openStore({ path: path.join(dir, `${names.flat().join('-')}.target.db`) });
    const s = mergeShards(store, { shards });
    store.close();
    return s;
  };
  const progress = await run([['partial'], ['complete']]);
  t.like(progress, { replacedSegments: 1, newSegments: 1, newCalls: 3 });
  t.like(progress.shards[1], { newSegments: 0, replacedSegments: 1, newCalls: 2 });

  const late = await run([['complete'], ['partial']]);
  t.like(late.shards[1], { duplicateSegments: 1, newCalls: 0, duplicateCalls: 1 });

  const caller = await run([['inferred'], ['caller']]);
  t.like(caller.shards[1], { replacedCalls: 1, newCalls: 1 });
  t.is(caller.attributedCalls, 0);
  const filled = await run([['caller'], ['inferred']]);
  t.like(filled.shards[1], { filledCalls: 1, newCalls: 0, duplicateCalls: 1 });

  const indep = await run([['subsegments'], ['parent']]);
  t.is(indep.attributedCalls, 2);

  const server = await run([['others'], ['server']]);
  t.true(server.attributedCalls > 0);
  t.deepEqual(server.fallbacks, { calls: 0, workloads: [] });
  const alone = await run([['others']]);
  t.deepEqual(alone.fallbacks.workloads, ['lambda::eu-west-1:orders-api', 'lambda::eu-west-1:thumbnailer']);
});

test('inputs in several shards are reported once each, with every database that held them', async (t) => {
  const c = CASES[0] as Case;
  const shards = await shardFiles(c);
  const target = openStore({ path: path.join(tempDir(), 't.db') });
  const s = mergeShards(target, { shards });
  const byPath = new Map(s.overlap.map((o) => [o.stored.path, o]));
  t.deepEqual(
    [...byPath.keys()].sort(),
    [samples.orders, samples.otlp, samples.pipeline, samples.thumbnailer].sort(),
  );
  t.deepEqual(
    byPath.get(samples.pipeline)!.stored.database,
    shards[0],
    'stored from the first shard that held it',
  );
  t.deepEqual(
    byPath.get(samples.pipeline)!.alsoIn.map((x) => x.database),
    [shards[1]],
  );
  t.deepEqual(
    byPath.get(samples.orders)!.alsoIn.map((x) => x.database),
    [shards[2]],
  );
  t.is(s.inputs, 10);
  t.is(s.newInputs, 6);
  // Each input is one source, its path noting the shards that held it.
  const rows = target.prepare('SELECT path FROM sources ORDER BY id').all() as { path: string }[];
  t.is(rows.length, 6);
  t.true(
    rows.some((r) => r.path === `${samples.pipeline} [merged from ${shards[0]}] [also in ${shards[1]}]`),
  );
  t.true(rows.some((r) => r.path === `${samples.reports} [merged from ${shards[1]}]`));
  target.close();
});

test('shards of mixed schema versions: an older one is read from a migrated copy and left as it is', async (t) => {
  const v1 = path.join(tempDir(), 'v1.db');
  fs.copyFileSync(V1, v1);
  const v1Hash = fileHash(V1);
  const copyHash = fileHash(v1);
  const spans = await ingestShard(tempDir(), 'spans.db', [samples.spans]);
  const target = openStore({ path: path.join(tempDir(), 'mixed.db') });
  const s = mergeShards(target, { shards: [v1, spans] });
  t.like(s.shards[0], { schemaVersion: 1, migrated: true });
  t.like(s.shards[1], { schemaVersion: SCHEMA_VERSION, migrated: false });
  t.is(fileHash(v1), copyHash, 'the shard itself is not migrated');
  t.is(fileHash(V1), v1Hash);
  const raw = new Database(v1, { readonly: true });
  t.is(raw.pragma('user_version', { simple: true }), 1);
  raw.close();
  // The v1 fixture holds today's samples/traces (but for the formatting of one field: other checksums).
  const reference = openStore({
    path: await ingestShard(tempDir(), 'ref.db', [path.dirname(samples.orders), samples.spans]),
  });
  checkIntegrity(t, target, 'mixed');
  t.deepEqual(content(target, { sources: false }), content(reference, { sources: false }));
  t.is(counts(target).calls, counts(reference).calls);
  target.close();
  reference.close();
});

/** A file of each kind merge must refuse, and what the error says. */
const BAD: { name: string; make: (dir: string, good: string) => string; error: RegExp }[] = [
  {
    name: 'a file that is not SQLite',
    make: (dir) => {
      const f = path.join(dir, 'notes.db');
      fs.writeFileSync(f, 'not a database, just some text long enough to have a header '.repeat(20));
      return f;
    },
    error: /notes\.db is not an xray-lp database \(not even SQLite/,
  },
  {
    name: 'a SQLite database of another program',
    make: (dir) => {
      const f = path.join(dir, 'other.db');
      const db = new Database(f);
      db.exec('CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)');
      db.close();
      return f;
    },
    error:
      /other\.db is a SQLite database but not an xray-lp one \(no xray-lp schema version; its tables: things\)/,
  },
  {
    name: 'an empty SQLite file',
    make: (dir) => {
      const f = path.join(dir, 'empty.db');
      fs.writeFileSync(f, '');
      return f;
    },
    error: /empty\.db is a SQLite database but not an xray-lp one \(an empty database\)/,
  },
  {
    name: 'a database claiming a schema version without its tables',
    make: (dir) => {
      const f = path.join(dir, 'claims.db');
      const db = new Database(f);
      db.exec('CREATE TABLE sources (id INTEGER PRIMARY KEY)');
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      db.close();
      return f;
    },
    error:
      /claims\.db is a SQLite database but not an xray-lp one \((table sources lacks|schema version \d+ but no table)/,
  },
  {
    name: 'a database of a newer schema',
    make: (dir, good) => {
      const f = path.join(dir, 'newer.db');
      const src = new Database(good, { readonly: true });
      src.prepare('VACUUM INTO ?').run(f);
      src.close();
      const db = new Database(f);
      db.pragma(`user_version = ${SCHEMA_VERSION + 7}`);
      db.close();
      return f;
    },
    error: new RegExp(
      `newer\\.db has schema version ${SCHEMA_VERSION + 7}, newer than this xray-lp understands \\(${SCHEMA_VERSION}\\); upgrade xray-lp`,
    ),
  },
  {
    name: 'a missing file',
    make: (dir) => path.join(dir, 'missing.db'),
    error: /no such file: .*missing\.db/,
  },
  { name: 'a directory', make: (dir) => dir, error: /is not a file/ },
  { name: 'the same shard twice', make: (_dir, good) => good, error: /is given twice/ },
];

for (const bad of BAD) {
  test(`${bad.name} is refused by name, and the target is left as it was`, async (t) => {
    const dir = tempDir();
    const good = await ingestShard(dir, 'good.db', [samples.pipeline]);
    const targetFile = await ingestShard(dir, 'target.db', [samples.orders]);
    const shard = bad.make(dir, good);
    const before = fileHash(targetFile);
    const target = openStore({ path: targetFile });
    const rows = counts(target);
    const err = t.throws(() => mergeShards(target, { shards: [good, shard] }), {
      instanceOf: UserInputError,
    });
    t.regex(err!.message, bad.error);
    t.is(err!.exitCode, 2);
    t.throws(() => checkShards([good, shard]), { message: bad.error });
    t.deepEqual(counts(target), rows);
    target.close();
    t.is(fileHash(targetFile), before);
  });
}

test('the target is not a shard of itself, and one merge reads at most MAX_SHARDS', async (t) => {
  const dir = tempDir();
  const targetFile = await ingestShard(dir, 'target.db', [samples.orders]);
  const target = openStore({ path: targetFile });
  t.throws(() => mergeShards(target, { shards: [targetFile] }), { message: /is the target database itself/ });
  const many = Array.from({ length: MAX_SHARDS + 1 }, (_x, i) => path.join(dir, `s${i}.db`));
  t.throws(() => mergeShards(target, { shards: many }), {
    message: /11 shards given; one merge reads at most 10/,
  });
  t.throws(() => mergeShards(target, { shards: [] }), { message: /no shard given/ });
  target.close();
});

test('MAX_SHARDS shards in one merge', async (t) => {
  const dir = tempDir();
  const inputs = [
    'orders',
    'pipeline',
    'reports',
    'thumbnailer',
    'spans',
    'otlp',
    'parent',
    'subsegments',
    'server',
    'others',
  ];
  t.is(inputs.length, MAX_SHARDS);
  const shards = await Promise.all(inputs.map((n, i) => ingestShard(dir, `s${i}.db`, paths([n]))));
  const target = openStore({ path: path.join(dir, 'target.db') });
  mergeShards(target, { shards });
  const reference = openStore({ path: await ingestShard(dir, 'ref.db', paths(inputs)) });
  t.deepEqual(content(target), content(reference));
  t.deepEqual(
    (target.prepare('SELECT name FROM pragma_database_list ORDER BY seq').all() as { name: string }[]).map(
      (d) => d.name,
    ),
    ['main', 'temp'],
    'every shard detached',
  );
  target.close();
  reference.close();
});
