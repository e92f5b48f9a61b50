/**
 * `xray-lp merge`: every command answers on the merged database exactly as on one database fed
 * every input (internal ids, timings and paths aside); the summary names the shards and the
 * inputs they shared; bad shards exit 2 by name and leave the target as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import type { MergeSummary } from '../../src/store/merge/merge.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { cli, fixturesDir, repoRoot, tempDir } from '../support/helpers.js';
import { allInputs, fileHash, scenarios } from '../support/shards.js';

const files = scenarios();
const granted = [
  'account-123456789012.json',
  'account-210987654321.json',
  'functions-eu-west-1.json',
  'functions-us-east-1.json',
].map((f) => path.join(repoRoot, 'samples/granted', f));

/**
 * Overlapping shards of the X-Ray samples, and the cases that cross shards: independent
 * subsegments and their parent, the OpenTelemetry sample's spans and their Lambda functions'
 * SERVER spans, in progress and complete, inferred-only and caller, unprocessed and returned.
 */
const SHARDS = [
  ['orders', 'pipeline', 'subsegments', 'others', 'partial', 'inferred'],
  ['pipeline', 'reports', 'thumbnailer', 'parent', 'complete'],
  ['thumbnailer', 'server', 'orders', 'caller', 'missing', 'returned'],
];

const run = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code}: ${r.err}`);
  return r;
};

const dir = tempDir();
const dbs = (async () => {
  const shards: string[] = [];
  for (const [i, names] of SHARDS.entries()) {
    const db = path.join(dir, `shard-${i}.db`);
    await run(['--db', db, 'ingest', '--quiet', ...names.map((n) => files[n] as string)]);
    shards.push(db);
  }
  const single = path.join(dir, 'single.db');
  await run(['--db', single, 'ingest', '--quiet', ...allInputs(SHARDS).map((n) => files[n] as string)]);
  const merged = path.join(dir, 'merged.db');
  const r = await run(['merge', '--db', merged, ...shards]);
  return { shards, single, merged, output: r.out };
})();

/** What each command prints that depends on how the database was built, not on what it holds. */
const NORMALISE: Record<string, (v: unknown) => unknown> = {
  workloads: (v) => (v as { id: number }[]).map(({ id: _id, ...w }) => w),
  sources: (v) =>
    (v as Record<string, unknown>[])
      .map(
        ({
          id: _i,
          path: _p,
          ingestedAt: _a,
          elapsedMs: _e,
          newSegments: _s,
          newCalls: _c,
          traces: _t,
          calls: _k,
          ...r
        }) => r,
      )
      .sort((a, b) => String(a.sha256).localeCompare(String(b.sha256))),
};

const COMMANDS: string[][] = [
  ['workloads'],
  ['usage'],
  ['usage', '--group-by', 'day,outcome'],
  ['usage', '--group-by', 'workload,action,resource,region,account'],
  ['calls', '--limit', '10000'],
  ['timeline'],
  ['timeline', '--by', 'hour', '--since', '3d'],
  ['policy'],
  ['policy', '--by', 'role', '--roles', granted[2] as string],
  ['compare', '--granted', ...granted],
  ['stats'],
  ['sources'],
];

for (const command of COMMANDS) {
  const name = command.map((a) => (a.includes('/') ? path.basename(a) : a)).join(' ');
  test(`${name} --json: the merged database answers as one fed every input`, async (t) => {
    const { single, merged } = await dbs;
    const answer = async (db: string): Promise<unknown> => {
      const r = await run(['--db', db, ...command, '--json']);
      const v = JSON.parse(r.out) as unknown;
      return (NORMALISE[command[0] as string] ?? ((x: unknown) => x))(v);
    };
    const want = await answer(single);
    t.true(JSON.stringify(want).length > 50, 'the command has something to say');
    t.deepEqual(await answer(merged), want);
  });
}

test('the summary: every shard, what was new, the inputs shards shared (stored once), the workloads', async (t) => {
  const { shards, output } = await dbs;
  t.regex(output, /^Merged 3 shards into .*merged\.db \(\d+\.\d\d s\)\n/);
  for (const s of shards)
    t.regex(
      output,
      new RegExp(`  ${s.replace(/[.]/g, '\\.')} \\(schema ${SCHEMA_VERSION}\\): \\d+ inputs \\(\\d+ new\\)`),
    );
  t.regex(
    output,
    /traces \d+ \(\d+ new, \d+ already stored\), segments \d+ \(\d+ new, \d+ already stored, 1 complete replacing in-progress\), AWS calls \d+ \(\d+ new, \d+ already stored, 1 replacing inferred-only\)/,
  );
  t.regex(output, /\d+ calls found their workload in another database/);
  t.regex(
    output,
    /3 inputs were in more than one database \(same sha256\); their content was stored once:\n/,
  );
  t.regex(output, /pipeline\.json \(sha256 [0-9a-f]{12}\): .*shard-0\.db, .*shard-1\.db\n/);
  t.regex(output, /thumbnailer-2018\.json \(sha256 [0-9a-f]{12}\): .*shard-1\.db, .*shard-2\.db\n/);
  t.regex(output, /workloads in the database: \d+ \(\d+ new\)\n$/);
  t.notRegex(output, /without the function's account/);
});

test('--json: the summary as data; a second merge adds nothing', async (t) => {
  const { shards } = await dbs;
  const db = path.join(tempDir(), 'again.db');
  const first = JSON.parse((await run(['--db', db, 'merge', '--json', ...shards])).out) as MergeSummary;
  t.is(first.shards.length, 3);
  t.is(first.overlap.length, 3);
  t.true(first.attributedCalls > 2, 'independent subsegments and spans found their workloads');
  t.true(first.newCalls > 0);
  t.deepEqual(first.fallbacks, { calls: 0, workloads: [] });
  const second = JSON.parse((await run(['--db', db, 'merge', '--json', ...shards])).out) as MergeSummary;
  t.like(second, { newTraces: 0, newSegments: 0, newCalls: 0, newInputs: 0, newWorkloads: 0 });
  t.is((await run(['--db', db, 'merge', '--quiet', ...shards])).out, '');
});

test('a shard of an older schema is read from a migrated copy; the file itself is left as it was', async (t) => {
  const v1 = path.join(tempDir(), 'v1.db');
  fs.copyFileSync(path.join(fixturesDir, 'store', 'v1-samples.db'), v1);
  const before = fileHash(v1);
  const { shards } = await dbs;
  const db = path.join(tempDir(), 'mixed.db');
  const r = await run(['--db', db, 'merge', v1, shards[0] as string]);
  t.regex(r.out, /v1\.db \(schema 1, read from a migrated temporary copy\)/);
  t.is(fileHash(v1), before);
});

const BAD: { name: string; make: (d: string) => string; error: RegExp }[] = [
  {
    name: 'not SQLite',
    make: (d) => {
      const f = path.join(d, 'dump.json');
      fs.copyFileSync(files.pipeline as string, f);
      return f;
    },
    error: /xray-lp: merge: .*dump\.json is not an xray-lp database \(not even SQLite/,
  },
  {
    name: 'SQLite, not xray-lp',
    make: (d) => {
      const f = path.join(d, 'app.sqlite');
      const db = new Database(f);
      db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY)');
      db.close();
      return f;
    },
    error: /xray-lp: merge: .*app\.sqlite is a SQLite database but not an xray-lp one/,
  },
  {
    name: 'a newer schema',
    make: (d) => {
      const f = path.join(d, 'future.db');
      const db = new Database(f);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      return f;
    },
    error: /xray-lp: merge: .*future\.db has schema version \d+, newer than this xray-lp understands/,
  },
];

for (const bad of BAD) {
  test(`a shard that is ${bad.name}: exit 2, named; the target is left as it was (or not created)`, async (t) => {
    const { shards } = await dbs;
    const d = tempDir();
    const shard = bad.make(d);
    // An existing target: byte for byte the same after.
    const target = path.join(d, 'target.db');
    await run(['--db', target, 'merge', '--quiet', shards[2] as string]);
    const before = fileHash(target);
    const r = await cli(['--db', target, 'merge', shards[0] as string, shard, shards[1] as string]);
    t.is(r.code, 2);
    t.regex(r.err, bad.error);
    t.is(r.out, '');
    t.is(fileHash(target), before);
    // No target yet: none is created.
    const none = path.join(d, 'none.db');
    const r2 = await cli(['merge', '--db', none, shard]);
    t.is(r2.code, 2);
    t.false(fs.existsSync(none));
  });
}

test('--help names the command and its exit codes; the target cannot be one of the shards', async (t) => {
  const help = await cli(['merge', '--help']);
  t.is(help.code, 0);
  t.regex(help.out, /Usage: xray-lp merge \[options\] <shard\.\.\.>/);
  t.regex(help.out, /Exit codes: 0 merged; 2 a shard is missing/);
  const { shards } = await dbs;
  const r = await cli(['--db', shards[0] as string, 'merge', shards[0] as string, shards[1] as string]);
  t.is(r.code, 2);
  t.regex(r.err, /shard-0\.db is the target database itself/);
});
