/**
 * Query-side safety through the CLI: filters with SQL, LIKE and glob metacharacters are literal;
 * very long or pathological patterns are refused or stay fast.
 */
import path from 'node:path';
import test from 'ava';
import { listWorkloads } from '../../src/query/workloads.js';
import { openStore } from '../../src/store/db.js';
import { cli, tempDir } from '../support/helpers.js';
import { bad } from './common.js';

async function database(): Promise<string> {
  const db = path.join(tempDir(), 'x.db');
  const r = await cli([
    '--db',
    db,
    'ingest',
    '-q',
    bad('good-1.json'),
    bad('good-2.json'),
    bad('control-characters.json'),
  ]);
  if (r.code !== 0) throw new Error(r.err);
  return db;
}

/**
 * Workload names `principals --json` returns for the arguments. A `--principal` that matches no
 * workload is refused (exit 2, "matches nothing") before any query: then the same filter is run
 * against the database directly, so that the SQL stays tested with the hostile pattern.
 */
async function names(db: string, args: string[]): Promise<string[]> {
  const r = await cli(['--db', db, 'principals', '--json', ...args]);
  if (r.code === 2 && /matches nothing in the database/.test(r.err)) {
    const store = openStore({ path: db, readonly: true });
    try {
      const patterns = args.filter((_, i) => args[i - 1] === '--principal');
      return listWorkloads(store, { filter: { workloads: patterns } })
        .map((w) => w.name)
        .sort();
    } finally {
      store.close();
    }
  }
  if (r.code !== 0) throw new Error(r.err);
  const rows = JSON.parse(r.out) as { name: string }[] | { principals: { name: string }[] };
  return (Array.isArray(rows) ? rows : rows.principals).map((p) => p.name).sort();
}

const literal: { name: string; args: string[]; expect: string[] }[] = [
  { name: 'a glob matches', args: ['--principal', 'ord*'], expect: ['orders'] },
  { name: 'SQL quote and comment', args: ['--principal', "x' OR 1=1 --"], expect: [] },
  { name: 'SQL statement terminator', args: ['--principal', 'orders"; DROP TABLE calls; --'], expect: [] },
  { name: 'LIKE % is literal', args: ['--principal', '%'], expect: [] },
  { name: 'LIKE _ is literal', args: ['--principal', 'o_ders'], expect: [] },
  { name: 'glob [ is literal', args: ['--principal', '[o]rders'], expect: [] },
  { name: 'backslash is literal', args: ['--principal', 'orders\\'], expect: [] },
  { name: 'resource with SQL', args: ['--resource', "arn:aws:dynamodb:*' OR '1'='1"], expect: [] },
];

for (const c of literal) {
  test(`filter is literal: ${c.name}`, async (t) => {
    const db = await database();
    t.deepEqual(await names(db, c.args), c.expect);
  });
}

test('a filter never alters the database', async (t) => {
  const db = await database();
  await names(db, ['--principal', "'; DELETE FROM calls; --"]);
  const stats = await cli(['--db', db, 'stats', '--json']);
  t.like(JSON.parse(stats.out), { calls: 8, traces: 3 });
});

test('a very long pattern is refused as a usage error (exit 2)', async (t) => {
  const db = await database();
  const r = await cli(['--db', db, 'usage', '--principal', `${'a'.repeat(5000)}*`]);
  t.is(r.code, 2);
  t.regex(r.err, /at most 2048/);
});

test('a pathological glob within the limit stays fast', async (t) => {
  // Hang guard only: backtracking over 1,000 stars would take minutes if it were exponential.
  t.timeout(20_000);
  const db = await database();
  const pattern = `${'*a'.repeat(1000)}*b`;
  for (const cmd of ['principals', 'usage', 'calls', 'timeline']) {
    // In SQL: on resources (a workload name that matches nothing is refused before any query)...
    const r = await cli(['--db', db, cmd, '--json', '--resource', pattern]);
    t.is(r.code, 0, r.err);
    // ...and in the check that a workload pattern matches something.
    const w = await cli(['--db', db, cmd, '--json', '--principal', pattern]);
    t.is(w.code, 2, w.err);
    t.regex(w.err, /matches nothing in the database/);
  }
  const store = openStore({ path: db, readonly: true });
  try {
    t.deepEqual(listWorkloads(store, { filter: { workloads: [pattern] } }), []);
  } finally {
    store.close();
  }
});
