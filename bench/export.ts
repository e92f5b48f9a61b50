/**
 * Export benchmark: `export` of a large database to Parquet, and `policy --usage` from the
 * aggregated usage rows against `policy` on the database.
 *
 *   node --import tsx bench/export.ts [--db bench/out/queries-10000000-seed1.db] [--runs 1]
 *     [--policy-runs 3] [--keep]
 *
 * The database is bench/queries.ts's (10 M calls, 1,000 workloads, 30 days; build it with that
 * script first); it is only read. Timed, each in its own process (wall clock, peak RSS):
 *   read       the baseline: the three readers `export` uses (readUsageRows, readCallRows,
 *              readWorkloads, from dist/) iterated to the end with every row discarded. Same SQL,
 *              same rows, no Parquet: export / read is what encoding and writing Parquet add, the
 *              part a choice of writer can change (a count(*) or `stats` would time neither).
 *   export     `export --out DIR --json` of every table; the time of each table is taken from
 *              the last modification time of its files (written in table order)
 *   aggregate  DuckDB (@duckdb/node-api) reading the exported `usage` table and writing one
 *              Parquet file grouped per principal, action, resource and denied
 *              ({@link aggregateSql}), as an engine would for `policy --usage`; also checked:
 *              sum(calls) of `usage` and count(*) of `calls` equal the database's calls
 *   policy     `policy --json` on the database (the baseline) and `policy --usage AGG --json`,
 *              (`> file`, as a user runs them), best of `--policy-runs`, alternating; the
 *              `document` of every entry compared
 * The database is read once first (page cache warm). Ratios are against the baseline of the same
 * run, so that runs on a noisy shared machine compare. Results: bench/out/export-results.json.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { docSql, exportViews, lit } from '../test/support/duckdb.js';
import { dbSize, runChild, timing, warm, type ChildRun, type Timing } from './child.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench', 'out');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const SELF = fileURLToPath(import.meta.url);
const MB = 1024 * 1024;
const TABLES = ['usage', 'calls', 'workloads'] as const;
type Table = (typeof TABLES)[number];

/** Options of {@link runExportBench}. */
export interface ExportBenchOptions {
  /** The database (bench/queries.ts's). */
  db: string;
  /** Runs of the read baseline and the export (the fastest of each is kept). */
  runs: number;
  /** Runs of each policy timing (the fastest is kept). */
  policyRuns: number;
  /** Keep the export, the aggregate and the policies (in the printed folder). */
  keep: boolean;
  log?: (line: string) => void;
}

export const DEFAULT_EXPORT_BENCH: ExportBenchOptions = {
  db: path.join(OUT, 'queries-10000000-seed1.db'),
  runs: 1,
  policyRuns: 3,
  keep: false,
};

/** One timed step. */
export type ExportTiming = Timing;

/** One exported table. */
export interface ExportedTable {
  table: Table;
  rows: number;
  files: number;
  bytes: number;
  /** bytes / the database's bytes. */
  ofDb: number;
  /** Seconds spent on the table inside `export` (from its files' times; the first includes start-up). */
  seconds: number;
  /** Seconds the read baseline spent on the same rows. */
  readSeconds: number;
}

/** What {@link runExportBench} measured. */
export interface ExportBenchResult {
  db: string;
  /** The database file with its WAL. */
  dbBytes: number;
  calls: number;
  workloads: number;
  /** Baseline: the export's readers, rows discarded. */
  read: ExportTiming;
  export: ExportTiming & {
    tables: ExportedTable[];
    bytes: number;
    /** bytes / dbBytes. */
    ofDb: number;
    callsPerSecond: number;
    /** export.seconds / read.seconds. */
    vsRead: number;
  };
  aggregate: ExportTiming & {
    /** The query alone, inside the process. */
    querySeconds: number;
    inputRows: number;
    rows: number;
    bytes: number;
    /** sum(calls) of the exported `usage` and count(*) of `calls` equal the database's calls. */
    totalsMatch: boolean;
  };
  policyDb: ExportTiming & { outputBytes: number };
  policyUsage: ExportTiming & { outputBytes: number };
  /** policyUsage.seconds / policyDb.seconds. */
  usageVsDb: number;
  policies: {
    db: number;
    usage: number;
    /** Entries whose `document` is byte-identical (and `documents` too). */
    sameDocument: number;
    /** Principals whose documents differ, or in one output only (at most 10). */
    different: string[];
    /** Fields other than the documents that differ in some entry (expected: what the rows cannot carry). */
    otherFieldsDiffering: string[];
  };
}

/**
 * The aggregation of the exported `usage` table into the input of `policy --usage`: the SQL
 * docs/scale.md documents (the block marked `-- xray-lp:aggregate`, as the tests run it), over a
 * view of the exported folder, written as one Parquet file.
 */
export function aggregateSql(exportDir: string, out: string): string {
  return `${exportViews(exportDir, ['usage'])}
COPY (${docSql('xray-lp:aggregate')}) TO ${lit(out)} (FORMAT parquet)`;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => f.endsWith('.parquet'));
}

/** Seconds per table from the files' times: each table's last file ends it. */
function tableSeconds(dir: string, startedMs: number): Record<Table, number> {
  const out = {} as Record<Table, number>;
  let previous = startedMs;
  for (const t of TABLES) {
    const last = Math.max(previous, ...filesUnder(path.join(dir, t)).map((f) => statSync(f).mtimeMs));
    out[t] = (last - previous) / 1000;
    previous = last;
  }
  return out;
}

interface ReadChildOutput {
  tables: Record<Table, { rows: number; seconds: number }>;
}

interface AggregateChildOutput {
  querySeconds: number;
  inputRows: number;
  usageCalls: number;
  callRows: number;
  rows: number;
}

interface ExportSummaryJson {
  tables: { table: Table; rows: number; files: unknown[]; bytes: number }[];
}

interface PolicyEntry {
  principal: string;
  document: unknown;
  documents?: unknown;
  [k: string]: unknown;
}

/** Compares two `policy --json` outputs entry by entry (see {@link ExportBenchResult.policies}). */
function comparePolicies(fromDb: PolicyEntry[], fromUsage: PolicyEntry[]): ExportBenchResult['policies'] {
  const u = new Map(fromUsage.map((e) => [e.principal, e]));
  const d = new Map(fromDb.map((e) => [e.principal, e]));
  const different: string[] = [];
  const other = new Set<string>();
  let same = 0;
  for (const [principal, a] of d) {
    const b = u.get(principal);
    if (!b) {
      different.push(principal);
      continue;
    }
    if (
      JSON.stringify(a.document) === JSON.stringify(b.document) &&
      JSON.stringify(a.documents) === JSON.stringify(b.documents)
    )
      same++;
    else different.push(principal);
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      if (k !== 'document' && k !== 'documents' && !isDeepStrictEqual(a[k], b[k])) other.add(k);
  }
  for (const principal of u.keys()) if (!d.has(principal)) different.push(principal);
  return {
    db: fromDb.length,
    usage: fromUsage.length,
    sameDocument: same,
    different: different.slice(0, 10),
    otherFieldsDiffering: [...other].sort(),
  };
}

/** Runs the export benchmark (see the comment at the top). */
export async function runExportBench(partial: Partial<ExportBenchOptions> = {}): Promise<ExportBenchResult> {
  const o = { ...DEFAULT_EXPORT_BENCH, ...partial };
  const log = o.log ?? ((): void => undefined);
  if (!existsSync(CLI)) throw new Error(`${CLI} not found (run npm run build)`);
  if (!existsSync(o.db)) throw new Error(`${o.db} not found (build it with bench/queries.ts)`);
  const node = process.execPath;
  const dir = mkdtempSync(path.join(tmpdir(), 'xray-lp-export-bench-'));
  try {
    const stats = JSON.parse(
      timingOut(await runChild(node, [CLI, '--db', o.db, 'stats', '--json']), 'stats'),
    ) as { calls: number; workloads: number };
    const dbBytes = dbSize(o.db);
    log(
      `${o.db}: ${(dbBytes / MB).toFixed(0)} MiB, ${stats.calls.toLocaleString('en')} calls; warming the page cache ...`,
    );
    warm(o.db);

    const exportDir = path.join(dir, 'export');
    let read: (ExportTiming & ReadChildOutput) | undefined;
    let exp: (ExportTiming & { summary: ExportSummaryJson; perTable: Record<Table, number> }) | undefined;
    for (let i = 0; i < o.runs; i++) {
      log(`run ${i + 1}/${o.runs}: read baseline ...`);
      const r = await runChild(node, ['--import', 'tsx', SELF, 'child-read', o.db]);
      const rt = { ...timing(r, 'read'), ...(JSON.parse(r.stdout) as ReadChildOutput) };
      if (!read || rt.seconds < read.seconds) read = rt;
      log(`  ${rt.seconds.toFixed(1)} s; export ...`);
      rmSync(exportDir, { recursive: true, force: true });
      const started = Date.now();
      const e = await runChild(node, [CLI, '--db', o.db, 'export', '--out', exportDir, '--json']);
      const et = {
        ...timing(e, 'export'),
        summary: JSON.parse(e.stdout) as ExportSummaryJson,
        perTable: tableSeconds(exportDir, started),
      };
      if (!exp || et.seconds < exp.seconds) exp = et;
      log(`  ${et.seconds.toFixed(1)} s`);
    }
    if (!read || !exp) throw new Error('--runs must be at least 1');
    const readT = read;
    const tables: ExportedTable[] = exp.summary.tables.map((t) => ({
      table: t.table,
      rows: t.rows,
      files: t.files.length,
      bytes: t.bytes,
      ofDb: t.bytes / dbBytes,
      seconds: (exp as { perTable: Record<Table, number> }).perTable[t.table],
      readSeconds: readT.tables[t.table].seconds,
    }));
    const exportBytes = tables.reduce((a, t) => a + t.bytes, 0);

    log('aggregating the usage table with DuckDB ...');
    const agg = path.join(dir, 'usage-aggregate.parquet');
    const a = await runChild(node, ['--import', 'tsx', SELF, 'child-aggregate', exportDir, agg]);
    const at = { ...timing(a, 'aggregate'), ...(JSON.parse(a.stdout) as AggregateChildOutput) };
    log(`  ${at.seconds.toFixed(1)} s; policy --json (database) and policy --usage ...`);

    // Output redirected to a file, as a user runs it: through a pipe, a child writing faster
    // than the parent reads holds the backlog in memory and its peak RSS says nothing.
    const toFile = (file: string, args: string[]): Promise<ChildRun> =>
      runChild('/bin/sh', ['-c', `exec "$0" "$@" > '${file.replace(/'/g, "'\\''")}'`, node, ...args]);
    const dbOut = path.join(dir, 'policy-db.json');
    const usageOut = path.join(dir, 'policy-usage.json');
    let policyDb: ExportTiming | undefined;
    let policyUsage: ExportTiming | undefined;
    for (let i = 0; i < o.policyRuns; i++) {
      const pt = timing(await toFile(dbOut, [CLI, '--db', o.db, 'policy', '--json']), 'policy');
      if (!policyDb || pt.seconds < policyDb.seconds) policyDb = pt;
      warm(agg);
      const qt = timing(await toFile(usageOut, [CLI, 'policy', '--usage', agg, '--json']), 'policy --usage');
      if (!policyUsage || qt.seconds < policyUsage.seconds) policyUsage = qt;
      log(
        `  run ${i + 1}/${o.policyRuns}: database ${pt.seconds.toFixed(1)} s, --usage ${qt.seconds.toFixed(1)} s`,
      );
    }
    if (!policyDb || !policyUsage) throw new Error('--policy-runs must be at least 1');
    const policies = comparePolicies(
      JSON.parse(readFileSync(dbOut, 'utf8')) as PolicyEntry[],
      JSON.parse(readFileSync(usageOut, 'utf8')) as PolicyEntry[],
    );
    const { summary: _s, perTable: _p, ...exportTiming } = exp;
    const { tables: _t, ...readTiming } = readT;
    return {
      db: o.db,
      dbBytes,
      calls: stats.calls,
      workloads: stats.workloads,
      read: readTiming,
      export: {
        ...exportTiming,
        tables,
        bytes: exportBytes,
        ofDb: exportBytes / dbBytes,
        callsPerSecond: stats.calls / exp.seconds,
        vsRead: exp.seconds / readT.seconds,
      },
      aggregate: {
        seconds: at.seconds,
        ...(at.peakRssMB === undefined ? {} : { peakRssMB: at.peakRssMB }),
        querySeconds: at.querySeconds,
        inputRows: at.inputRows,
        rows: at.rows,
        bytes: statSync(agg).size,
        totalsMatch: at.usageCalls === stats.calls && at.callRows === stats.calls,
      },
      policyDb: { ...policyDb, outputBytes: statSync(dbOut).size },
      policyUsage: { ...policyUsage, outputBytes: statSync(usageOut).size },
      usageVsDb: policyUsage.seconds / policyDb.seconds,
      policies,
    };
  } finally {
    if (o.keep) log(`kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function timingOut(r: ChildRun, what: string): string {
  timing(r, what);
  return r.stdout;
}

/** The lines bench/run.ts and this script print. */
export function exportBenchLines(r: ExportBenchResult): string[] {
  const mib = (b: number): string => `${(b / MB).toFixed(1)} MiB`;
  const t = (m: ExportTiming): string =>
    `${m.seconds.toFixed(2).padStart(7)} s${m.peakRssMB === undefined ? '' : `, peak RSS ${m.peakRssMB.toFixed(0)} MB`}`;
  const p = r.policies;
  return [
    `export of ${r.calls.toLocaleString('en')} calls, ${r.workloads.toLocaleString('en')} workloads (database ${mib(r.dbBytes)}):`,
    `  baseline: the export's readers, rows discarded ${t(r.read)}`,
    `  export --out DIR (every table)                 ${t(r.export)}  = ${r.export.vsRead.toFixed(2)}x the baseline, ${Math.round(r.export.callsPerSecond).toLocaleString('en')} calls/s`,
    ...r.export.tables.map(
      (x) =>
        `    ${x.table.padEnd(9)} ${x.rows.toLocaleString('en').padStart(11)} rows, ${String(x.files).padStart(3)} files, ${mib(x.bytes).padStart(10)} = ${(x.ofDb * 100).toFixed(1).padStart(5)}% of the database; ${x.seconds.toFixed(1)} s (reading alone ${x.readSeconds.toFixed(1)} s)`,
    ),
    `    all       ${mib(r.export.bytes)} = ${(r.export.ofDb * 100).toFixed(1)}% of the database`,
    `  DuckDB: usage aggregated per principal, action, resource, denied ${t(r.aggregate)} (query ${r.aggregate.querySeconds.toFixed(2)} s): ${r.aggregate.inputRows.toLocaleString('en')} rows -> ${r.aggregate.rows.toLocaleString('en')}, ${mib(r.aggregate.bytes)}; totals equal the database's: ${r.aggregate.totalsMatch ? 'yes' : 'NO'}`,
    `  policy --json (database, baseline)             ${t(r.policyDb)}, ${mib(r.policyDb.outputBytes)}`,
    `  policy --usage AGGREGATE --json                ${t(r.policyUsage)}, ${mib(r.policyUsage.outputBytes)}  = ${r.usageVsDb.toFixed(2)}x the baseline`,
    `  documents byte-identical: ${p.sameDocument} of ${p.db} (from usage: ${p.usage} entries)${p.different.length > 0 ? `; DIFFERENT: ${p.different.join(', ')}` : ''}; other fields differing: ${p.otherFieldsDiffering.join(', ') || 'none'}`,
  ];
}

function parseArgs(argv: string[]): Partial<ExportBenchOptions> {
  const out: Partial<ExportBenchOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--db') out.db = path.resolve(v());
    else if (a === '--runs') out.runs = Math.max(1, Number(v()));
    else if (a === '--policy-runs') out.policyRuns = Math.max(1, Number(v()));
    else if (a === '--keep') out.keep = true;
    else throw new Error(`unknown option ${a}; see the comment at the top of bench/export.ts`);
  }
  return out;
}

/** `child-read DB`: the export's readers (the built ones, as the CLI runs them), rows discarded. */
async function childRead([db]: string[]): Promise<void> {
  const dist = (p: string): string => pathToFileURL(path.join(ROOT, 'dist', p)).href;
  const { openStore } = (await import(dist('store/db.js'))) as typeof import('../src/store/db.js');
  const usage = (await import(dist('store/usage.js'))) as typeof import('../src/store/usage.js');
  const { readCallRows } = (await import(dist('store/calls.js'))) as typeof import('../src/store/calls.js');
  const store = openStore({ path: db as string, readonly: true });
  try {
    const tables = {} as ReadChildOutput['tables'];
    const time = (table: Table, rows: Iterable<unknown>): void => {
      const t = performance.now();
      let n = 0;
      for (const _r of rows) n++;
      tables[table] = { rows: n, seconds: (performance.now() - t) / 1000 };
    };
    time('usage', usage.readUsageRows(store, { filter: {} }));
    time('calls', readCallRows(store, {}));
    time('workloads', usage.readWorkloads(store, { filter: {} }));
    process.stdout.write(`${JSON.stringify({ tables } satisfies ReadChildOutput)}\n`);
  } finally {
    store.close();
  }
}

/** `child-aggregate EXPORT_DIR OUT`: {@link aggregateSql} with DuckDB, and the totals of the export. */
async function childAggregate([exportDir, out]: string[]): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  const one = async (sql: string): Promise<number> =>
    Number((await c.runAndReadAll(sql)).getRows()[0]?.[0] ?? Number.NaN);
  const usage = `read_parquet('${path.join(exportDir as string, 'usage', '**', '*.parquet')}', hive_partitioning = true)`;
  const t = performance.now();
  await c.run(aggregateSql(exportDir as string, out as string));
  const querySeconds = (performance.now() - t) / 1000;
  const result: AggregateChildOutput = {
    querySeconds,
    inputRows: await one(`SELECT count(*) FROM ${usage}`),
    usageCalls: await one(`SELECT sum(calls) FROM ${usage}`),
    callRows: await one(
      `SELECT count(*) FROM read_parquet('${path.join(exportDir as string, 'calls', '**', '*.parquet')}', hive_partitioning = true)`,
    ),
    rows: await one(`SELECT count(*) FROM read_parquet('${out as string}')`),
  };
  c.closeSync();
  instance.closeSync();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const [command, ...rest] = process.argv.slice(2);
  const main =
    command === 'child-read'
      ? childRead(rest)
      : command === 'child-aggregate'
        ? childAggregate(rest)
        : runExportBench({ ...parseArgs(process.argv.slice(2)), log: (l) => console.error(l) }).then((r) => {
            for (const l of exportBenchLines(r)) console.log(l);
            writeFileSync(path.join(OUT, 'export-results.json'), `${JSON.stringify(r, null, 2)}\n`);
          });
  main.catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
