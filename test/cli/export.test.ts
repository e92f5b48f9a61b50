/**
 * `xray-lp export`: the Hive layout, the Parquet types, codec and statistics (read back with
 * hyparquet and DuckDB), filters, `--tables`, `--file-prefix`, `--json`, an empty selection, a
 * folder that already holds an export, and bad options (exit 2, nothing written).
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { cli, repoRoot, tempDir } from '../support/helpers.js';
import { Duck, lit } from '../support/duckdb.js';

const samples = path.join(repoRoot, 'samples/traces');

const db = (async () => {
  const file = path.join(tempDir(), 's.db');
  const r = await cli(['--db', file, 'ingest', '-q', samples]);
  if (r.code !== 0) throw new Error(r.err);
  return file;
})();

/** Runs `export` into a new folder; the folder and the result. */
async function exportTo(
  args: string[] = [],
  out = path.join(tempDir(), 'exp'),
): Promise<{ out: string; code: number; stdout: string; err: string }> {
  const r = await cli(['--db', await db, 'export', '--out', out, ...args]);
  return { out, code: r.code, stdout: r.out, err: r.err };
}

/** Every file under `dir`, relative, sorted. */
function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

/** Files and their contents: equal before and after means untouched. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    files(dir).map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]),
  );
}

/** What `usage --json` prints for the database, with the filter args. */
async function usageCalls(args: string[]): Promise<number> {
  const r = await cli(['--db', await db, 'usage', '--json', ...args]);
  return (JSON.parse(r.out || '[]') as { calls: number }[]).reduce((n, u) => n + u.calls, 0);
}

test('the Hive layout: usage and calls by UTC day, workloads in one folder; the summary counts what is there', async (t) => {
  const { out, code, stdout, err } = await exportTo();
  t.is(code, 0, err);
  const all = files(out);
  t.true(all.length > 3);
  for (const f of all)
    t.regex(
      f,
      /^(usage|calls)\/day=\d{4}-\d{2}-\d{2}\/part-\d{5}\.parquet$|^workloads\/part-00000\.parquet$/,
    );
  // The samples span the week of 2026-11-16: a partition per day with calls, no other.
  const days = (table: string): string[] => [
    ...new Set(all.filter((f) => f.startsWith(`${table}/`)).map((f) => f.split('/')[1] ?? '')),
  ];
  t.deepEqual(days('usage'), [
    'day=2026-11-16',
    'day=2026-11-17',
    'day=2026-11-18',
    'day=2026-11-19',
    'day=2026-11-20',
    'day=2026-11-21',
    'day=2026-11-22',
  ]);
  t.deepEqual(days('calls'), days('usage'));
  t.regex(
    stdout,
    /^usage: 148 rows in 7 files \(7 days\), .*\ncalls: 175 rows in 7 files \(7 days\), .*\nworkloads: 5 rows in 1 file, .*\nWrote /,
  );
  // No staging folder is left behind.
  t.deepEqual(fs.readdirSync(out).sort(), ['calls', 'usage', 'workloads']);
});

/** The column types as DuckDB reads them (`day` from the path), per table. */
const TYPES: Record<string, Record<string, string>> = {
  usage: {
    principal: 'VARCHAR',
    kind: 'VARCHAR',
    name: 'VARCHAR',
    account: 'VARCHAR',
    region: 'VARCHAR',
    service: 'VARCHAR',
    operation: 'VARCHAR',
    mapping: 'VARCHAR',
    action: 'VARCHAR',
    resource: 'VARCHAR',
    resource_type: 'VARCHAR',
    resource_unknown: 'BOOLEAN',
    note: 'VARCHAR',
    outcome: 'VARCHAR',
    denied: 'BOOLEAN',
    calls: 'BIGINT',
    first_seen: 'TIMESTAMP WITH TIME ZONE',
    last_seen: 'TIMESTAMP WITH TIME ZONE',
    sample_trace_id: 'VARCHAR',
    sample_trace_id_max: 'VARCHAR',
    day: 'DATE',
  },
  calls: {
    principal: 'VARCHAR',
    kind: 'VARCHAR',
    name: 'VARCHAR',
    start_time: 'TIMESTAMP WITH TIME ZONE',
    end_time: 'TIMESTAMP WITH TIME ZONE',
    service: 'VARCHAR',
    operation: 'VARCHAR',
    region: 'VARCHAR',
    account: 'VARCHAR',
    params: 'VARCHAR',
    mapping: 'VARCHAR',
    outcome: 'VARCHAR',
    http_status: 'INTEGER',
    error_type: 'VARCHAR',
    trace_id: 'VARCHAR',
    via: 'VARCHAR',
    day: 'DATE',
  },
  workloads: {
    principal: 'VARCHAR',
    key: 'VARCHAR',
    kind: 'VARCHAR',
    name: 'VARCHAR',
    arn: 'VARCHAR',
    account: 'VARCHAR',
    region: 'VARCHAR',
    attrs: 'VARCHAR',
    calls: 'BIGINT',
    traces: 'BIGINT',
    denied: 'BIGINT',
    errors: 'BIGINT',
    faults: 'BIGINT',
    throttles: 'BIGINT',
    first_seen: 'TIMESTAMP WITH TIME ZONE',
    last_seen: 'TIMESTAMP WITH TIME ZONE',
    active_days: 'INTEGER',
    actions: 'INTEGER',
  },
};

test('DuckDB reads every table with its column types (docs/scale.md declares the same)', async (t) => {
  const { out } = await exportTo();
  const duck = await Duck.open();
  try {
    for (const [table, want] of Object.entries(TYPES)) {
      const glob = table === 'workloads' ? `${out}/${table}/*.parquet` : `${out}/${table}/*/*.parquet`;
      const rows = await duck.rows(
        `DESCRIBE SELECT * FROM read_parquet(${lit(glob)}, hive_partitioning = true)`,
      );
      t.deepEqual(Object.fromEntries(rows.map((r) => [r.column_name, r.column_type])), want, table);
    }
    // The docs' Athena, Trino and Spark DDL lists the same columns in the same order.
    const doc = fs.readFileSync(path.join(repoRoot, 'docs/scale.md'), 'utf8');
    for (const table of Object.keys(TYPES)) {
      const ddl = new RegExp(`CREATE EXTERNAL TABLE xray_${table} \\(([^)]*)\\)`).exec(doc);
      t.truthy(ddl, `Athena DDL of ${table}`);
      const columns = [...(ddl?.[1] ?? '').matchAll(/^\s*`?(\w+)`?\s+\w+/gm)].map((m) => m[1]);
      t.deepEqual(
        columns,
        Object.keys(TYPES[table] as object).filter((c) => c !== 'day'),
        table,
      );
    }
  } finally {
    duck.close();
  }
});

test('Parquet metadata: GZIP, statistics on every column, UTC microsecond timestamps, created_by', async (t) => {
  const { out } = await exportTo();
  let principalBounds = 0;
  for (const f of files(out)) {
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(path.join(out, f)));
    t.regex(meta.created_by ?? '', /^xray-lp version \d/);
    t.true(meta.row_groups.length >= 1, f);
    for (const group of meta.row_groups)
      for (const column of group.columns) {
        const m = column.meta_data;
        t.is(m?.codec, 'GZIP', `${f} ${m?.path_in_schema.join('.')}`);
        const s = m?.statistics;
        t.truthy(s, `${f} ${m?.path_in_schema.join('.')}: statistics`);
        t.is(typeof s?.null_count, 'bigint');
        // A column with a value has its minimum and maximum.
        if (s && m && (s.null_count ?? 0n) < m.num_values)
          t.true(s.min_value !== undefined && s.max_value !== undefined);
        // Whole ARNs in the principal's bounds (not the 16-byte default every ARN shares), so
        // that engines can skip row groups on `principal = …`. Every principal here is longer.
        if (m?.path_in_schema.join('.') === 'principal' && s?.max_value !== undefined) {
          t.is(typeof s.max_value, 'string');
          t.true(
            String(s.max_value).length > 16 && String(s.min_value).length > 16,
            `${f}: ${String(s.max_value)}`,
          );
          principalBounds++;
        }
      }
    for (const e of meta.schema.filter((x) => /_seen$|_time$/.test(x.name)))
      t.deepEqual(
        e.logical_type,
        { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
        `${f} ${e.name}`,
      );
    const count = meta.schema.find((x) => x.name === 'calls');
    if (count) t.is(count.type, 'INT64');
  }
  t.true(principalBounds > 0, 'principal statistics were checked');
});

const FILTERS: { name: string; args: string[] }[] = [
  { name: '--workload', args: ['--workload', 'orders-api'] },
  { name: '--service', args: ['--service', 'dynamodb'] },
  { name: '--since/--until', args: ['--since', '2026-11-18', '--until', '2026-11-20T12:00:00Z'] },
  { name: '--outcome', args: ['--outcome', 'denied'] },
  { name: '--action', args: ['--action', 's3:*'] },
];

for (const { name, args } of FILTERS) {
  test(`filters narrow the rows: ${name} exports what usage selects`, async (t) => {
    const all = await exportTo();
    const some = await exportTo(args);
    t.is(some.code, 0, some.err);
    const duck = await Duck.open();
    try {
      const sum = async (dir: string): Promise<{ rows: number; calls: number }> =>
        (
          await duck.rows(
            `SELECT count(*)::INTEGER AS rows, coalesce(sum(calls), 0)::BIGINT AS calls FROM read_parquet(${lit(`${dir}/usage/*/*.parquet`)})`,
          )
        )[0] as { rows: number; calls: number };
      const a = await sum(all.out);
      const s = await sum(some.out);
      t.true(s.rows > 0 && s.rows < a.rows, `${s.rows} of ${a.rows}`);
      // One row per permission (or per call needing none), as `usage` counts: the same calls.
      t.is(s.calls, await usageCalls(args));
    } finally {
      duck.close();
    }
  });
}

test('--tables writes only the tables named (comma-separated, repeatable, any order)', async (t) => {
  const a = await exportTo(['--tables', 'workloads,usage']);
  t.is(a.code, 0, a.err);
  t.deepEqual(fs.readdirSync(a.out).sort(), ['usage', 'workloads']);
  const b = await exportTo(['--tables', 'calls', '--tables', 'calls']);
  t.deepEqual(fs.readdirSync(b.out).sort(), ['calls']);
});

for (const [args, message] of [
  [
    ['--tables', 'usage,bogus'],
    /--tables "bogus" is not a table\. Use a comma-separated list of: usage, calls, workloads\./,
  ],
  [['--tables', ','], /--tables needs at least one of: usage, calls, workloads\./],
  [['--file-prefix', '../escape'], /--file-prefix "\.\.\/escape": letters, digits/],
  [['--file-prefix', ''], /--file-prefix "": letters, digits/],
  [['--since', 'yesterday-ish'], /yesterday-ish/],
] as const) {
  test(`bad options exit 2 and write nothing: ${args.join(' ')}`, async (t) => {
    const out = path.join(tempDir(), 'exp');
    const r = await exportTo([...args], out);
    t.is(r.code, 2);
    t.regex(r.err, message);
    t.false(fs.existsSync(out));
  });
}

test('--out that is a file is refused', async (t) => {
  const r = await exportTo([], await db);
  t.is(r.code, 2);
  t.regex(r.err, /--out .*s\.db: not a folder\./);
});

test('--json prints what was written: every file with its rows and bytes', async (t) => {
  const { out, code, stdout } = await exportTo(['--json']);
  t.is(code, 0);
  const summary = JSON.parse(stdout) as {
    dir: string;
    tables: {
      table: string;
      rows: number;
      bytes: number;
      files: { path: string; rows: number; bytes: number }[];
    }[];
  };
  t.is(summary.dir, out);
  t.deepEqual(
    summary.tables.map((x) => [x.table, x.rows]),
    [
      ['usage', 148],
      ['calls', 175],
      ['workloads', 5],
    ],
  );
  const listed = summary.tables.flatMap((x) => x.files);
  t.deepEqual(listed.map((f) => f.path.split(path.sep).join('/')).sort(), files(out));
  for (const f of listed) t.is(f.bytes, fs.statSync(path.join(out, f.path)).size);
  for (const x of summary.tables)
    t.is(
      x.rows,
      x.files.reduce((n, f) => n + f.rows, 0),
    );
});

test('--file-prefix lets shards share a folder; an export onto existing files is refused and changes nothing', async (t) => {
  const out = path.join(tempDir(), 'exp');
  const a = await exportTo(['--file-prefix', 'shard-a'], out);
  t.is(a.code, 0, a.err);
  const b = await exportTo(['--file-prefix', 'shard-b', '--tables', 'usage'], out);
  t.is(b.code, 0, b.err);
  t.true(files(out).every((f) => /\/shard-[ab]-\d{5}\.parquet$/.test(f)));
  t.is(files(out).filter((f) => f.includes('shard-b')).length, 7);
  const before = snapshot(out);
  const again = await exportTo(['--file-prefix', 'shard-a'], out);
  t.is(again.code, 2);
  t.regex(
    again.err,
    /shard-a-00000\.parquet already exists: export into an empty folder, or give this export's files their own names with --file-prefix/,
  );
  t.deepEqual(snapshot(out), before);
  // The staging folder is gone too.
  t.deepEqual(fs.readdirSync(out).sort(), ['calls', 'usage', 'workloads']);
  // Unrelated files in the folder are left alone.
  fs.writeFileSync(path.join(out, 'README.txt'), 'mine');
  const c = await exportTo(['--file-prefix', 'shard-c', '--tables', 'workloads'], out);
  t.is(c.code, 0, c.err);
  t.is(fs.readFileSync(path.join(out, 'README.txt'), 'utf8'), 'mine');
});

test('an empty selection writes no file, says 0 rows, and exits 0', async (t) => {
  const { out, code, stdout } = await exportTo(['--action', 'no-such:Action']);
  t.is(code, 0);
  t.regex(
    stdout,
    /^usage: 0 rows in 0 files \(0 days\), 0 B\ncalls: 0 rows in 0 files \(0 days\), 0 B\nworkloads: 0 rows in 0 files, 0 B\n/,
  );
  t.deepEqual(files(out), []);
});

test('small parts: a day larger than --part-rows has several numbered parts, and nothing is lost', async (t) => {
  const { exportTables } = await import('../../src/export/export.js');
  const { openStore } = await import('../../src/store/db.js');
  const store = openStore({ path: await db, readonly: true });
  const out = path.join(tempDir(), 'exp');
  try {
    const s = await exportTables(store, {
      dir: out,
      filter: {},
      createdBy: 'test',
      partRows: 7,
      tables: ['calls'],
    });
    t.is(s.tables[0]?.rows, 175);
  } finally {
    store.close();
  }
  t.true(files(out).some((f) => f.endsWith('-00002.parquet')));
  const duck = await Duck.open();
  try {
    const [r] = await duck.rows(
      `SELECT count(*)::INTEGER AS n FROM read_parquet(${lit(`${out}/calls/*/*.parquet`)})`,
    );
    t.is(r?.n, 175);
  } finally {
    duck.close();
  }
});
