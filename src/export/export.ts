/**
 * `xray-lp export`: the database's usage, calls and workloads as Hive-partitioned Parquet tables
 * that Athena, Trino, Spark and DuckDB read as they are (docs/scale.md):
 *
 * - `usage/day=YYYY-MM-DD/<prefix>-NNNNN.parquet`: one row per workload × UTC day × service
 *   operation × (action, resource) permission × outcome, read through the one usage reader
 *   (`readUsageRows`, store/usage.ts), so its sums are those of `usage`;
 * - `calls/day=YYYY-MM-DD/<prefix>-NNNNN.parquet`: one row per call;
 * - `workloads/<prefix>-NNNNN.parquet`: one row per workload with its attributes and totals over
 *   the range (not partitioned: a workload spans days).
 *
 * `day` is the partition column only, not a column inside the files: Spark refuses a column
 * that is both, and Athena, Trino and DuckDB (`hive_partitioning`) take it from the path.
 *
 * All or nothing to an engine (src/shared/files.ts writes every file):
 * - every part is written into a staging folder inside `--out`, `DIR/.xray-lp-….stage/` (hidden:
 *   Hive-style engines skip names starting with `.`), named `….parquet.partial` (no
 *   `*.parquet` glob matches it);
 * - once every table is complete and no file of the same name exists in DIR, a journal
 *   (`publish.json`, in the staging folder) lists the files, then each is renamed into place (one
 *   rename each: a file is whole or absent), then the staging folder is removed;
 * - the next export into DIR removes the staging folder of a killed run and, when its journal was
 *   written (killed while publishing), first removes the files it had published (roll back): the
 *   killed export is then wholly absent and can simply be run again. A kill during the renames
 *   thus leaves a partial set visible only until the next export into DIR (docs/scale.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../shared/errors.js';
import {
  checkInterrupted,
  checkNoLinks,
  interruptionPoints,
  makeFolder,
  removeStaleTemporaries,
  temporaryName,
  writeErrorOf,
  writeFileAtomic,
  writing,
} from '../shared/files.js';
import { dayOf } from '../shared/time.js';
import type { Store } from '../store/db.js';
import type { CallFilter } from '../store/filter.js';
import { readCallRows, type CallExportRow } from '../store/calls.js';
import { readUsageRows, readWorkloads, type UsageExportRow, type WorkloadUsage } from '../store/usage.js';
import { PARTIAL, TableWriter, type ColumnSpec, type WrittenFile } from './parquet.js';

/** The tables `export` writes. */
export const EXPORT_TABLES = ['usage', 'calls', 'workloads'] as const;
export type ExportTable = (typeof EXPORT_TABLES)[number];

/** Options of {@link exportTables}. */
export interface ExportOptions {
  /** The folder the tables go into (created when missing). */
  dir: string;
  filter: CallFilter;
  /** Default: every table. */
  tables?: readonly ExportTable[];
  /** File names are `<prefix>-00000.parquet` (default `part`): one prefix per shard lets shards share a folder. */
  prefix?: string;
  /** The Parquet `created_by` (the tool and its version). */
  createdBy: string;
  /** Rows per part file (tests make it small). */
  partRows?: number;
  /** Called after each table with what it wrote. */
  progress?: (table: ExportTable, files: WrittenFile[]) => void;
  /** Called for each interrupted export found in `dir` and cleaned up, before anything is written. */
  recovered?: (r: RecoveredExport) => void;
  /** Aborted: stop within 50 ms of work, remove the staging folder, throw InterruptedError. */
  signal?: AbortSignal;
}

/** What an export found of earlier, interrupted exports into the same folder, and did about it. */
export interface RecoveredExport {
  /** The staging folder's name. */
  stage: string;
  /** `removed`: killed before publishing, nothing of it was visible; `withdrawn`: killed while publishing, its published files removed now. */
  action: 'removed' | 'withdrawn';
  /** Files of a half-published export removed now (roll back). */
  files: number;
}

/** What {@link exportTables} wrote, per table. */
export interface ExportSummary {
  dir: string;
  /** Interrupted exports into `dir` cleaned up first. */
  recovered: RecoveredExport[];
  tables: { table: ExportTable; rows: number; files: WrittenFile[]; bytes: number }[];
}

const str = <R>(name: string, value: (r: R) => string | null, nullable = true): ColumnSpec<R> => ({
  name,
  type: 'string',
  nullable,
  value,
});

/** The `usage` table's columns (docs/scale.md lists them with their meaning). */
export const USAGE_COLUMNS: readonly ColumnSpec<UsageExportRow>[] = [
  str('principal', (r) => r.principal),
  str('kind', (r) => r.kind),
  str('name', (r) => r.name),
  str('account', (r) => r.account),
  str('region', (r) => r.region),
  str('service', (r) => r.service, false),
  str('operation', (r) => r.operation),
  str('mapping', (r) => r.mapping, false),
  str('action', (r) => r.action),
  str('resource', (r) => r.resource),
  str('resource_type', (r) => r.resourceType),
  { name: 'resource_unknown', type: 'boolean', nullable: true, value: (r) => r.resourceUnknown },
  str('note', (r) => r.note),
  str('outcome', (r) => r.outcome, false),
  { name: 'denied', type: 'boolean', nullable: false, value: (r) => r.outcome === 'denied' },
  { name: 'calls', type: 'int64', nullable: false, value: (r) => r.calls },
  { name: 'first_seen', type: 'timestamp', nullable: false, value: (r) => r.first },
  { name: 'last_seen', type: 'timestamp', nullable: false, value: (r) => r.last },
  str('sample_trace_id', (r) => r.traceMin, false),
  str('sample_trace_id_max', (r) => r.traceMax, false),
];

/** The `calls` table's columns. */
export const CALL_COLUMNS: readonly ColumnSpec<CallExportRow>[] = [
  str('principal', (r) => r.principal),
  str('kind', (r) => r.kind),
  str('name', (r) => r.name),
  { name: 'start_time', type: 'timestamp', nullable: false, value: (r) => r.start },
  { name: 'end_time', type: 'timestamp', nullable: true, value: (r) => r.end },
  str('service', (r) => r.service, false),
  str('operation', (r) => r.operation),
  str('region', (r) => r.region),
  str('account', (r) => r.account),
  str('params', (r) => r.params),
  str('mapping', (r) => r.mapping, false),
  str('outcome', (r) => r.outcome, false),
  { name: 'http_status', type: 'int32', nullable: true, value: (r) => r.httpStatus },
  str('error_type', (r) => r.errorType),
  str('trace_id', (r) => r.traceId, false),
  str('via', (r) => r.via, false),
];

const count = (name: string, value: (r: WorkloadUsage) => number): ColumnSpec<WorkloadUsage> => ({
  name,
  type: 'int64',
  nullable: false,
  value,
});

/** The `workloads` table's columns. */
export const WORKLOAD_COLUMNS: readonly ColumnSpec<WorkloadUsage>[] = [
  str('principal', (r) => r.arn ?? r.key, false),
  str('key', (r) => r.key, false),
  str('kind', (r) => r.kind, false),
  str('name', (r) => r.name, false),
  str('arn', (r) => r.arn),
  str('account', (r) => r.account),
  str('region', (r) => r.region),
  str('attrs', (r) => r.attrs, false),
  count('calls', (r) => r.calls),
  count('traces', (r) => r.traces),
  count('denied', (r) => r.denied),
  count('errors', (r) => r.errors),
  count('faults', (r) => r.faults),
  count('throttles', (r) => r.throttles),
  { name: 'first_seen', type: 'timestamp', nullable: true, value: (r) => r.first },
  { name: 'last_seen', type: 'timestamp', nullable: true, value: (r) => r.last },
  { name: 'active_days', type: 'int32', nullable: false, value: (r) => r.days },
  { name: 'actions', type: 'int32', nullable: false, value: (r) => r.actions },
];

const PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The journal of a staging folder: written once its files are complete, before any is published. */
const JOURNAL = 'publish.json';

/**
 * Cleans up after exports into `dir` that were killed (their process is gone): a staging folder is
 * removed; when it holds a journal (killed while publishing), the files it lists that were
 * already moved into `dir` are removed first (roll back), so that none of that export is left for
 * an engine to read as if it were whole.
 */
export function recoverExports(dir: string): RecoveredExport[] {
  const found: RecoveredExport[] = [];
  const keep = (name: string): boolean => {
    const stage = path.join(dir, name);
    let files: string[] | undefined;
    try {
      files = (JSON.parse(fs.readFileSync(path.join(stage, JOURNAL), 'utf8')) as { files: string[] }).files;
    } catch {
      files = undefined;
    }
    if (!files) {
      found.push({ stage: name, action: 'removed', files: 0 });
      return false;
    }
    let withdrawn = 0;
    for (const f of files) {
      const published = path.join(dir, f);
      // Only what this export moved: inside DIR, no longer staged, a file (never through a link).
      if (path.relative(dir, published).startsWith('..') || fs.existsSync(path.join(stage, f + PARTIAL)))
        continue;
      try {
        checkNoLinks(dir, f, dir);
      } catch {
        continue;
      }
      if (!fs.lstatSync(published, { throwIfNoEntry: false })?.isFile()) continue;
      fs.rmSync(published, { force: true });
      withdrawn++;
    }
    found.push({ stage: name, action: 'withdrawn', files: withdrawn });
    return false;
  };
  removeStaleTemporaries(dir, { keep, legacyExport: true });
  return found;
}

/** Writes the tables (see the file comment); nothing changes in `dir` unless all of them are written. */
export async function exportTables(store: Store, o: ExportOptions): Promise<ExportSummary> {
  const prefix = o.prefix ?? 'part';
  if (!PREFIX.test(prefix))
    throw new UserInputError(
      `--file-prefix ${JSON.stringify(prefix)}: letters, digits, '.', '_' and '-' only (at most 64), starting with a letter or digit.`,
    );
  const tables = o.tables ?? EXPORT_TABLES;
  const dir = path.resolve(o.dir);
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  const created = !st;
  if (st && !fs.statSync(dir).isDirectory()) throw new UserInputError(`--out ${o.dir}: not a folder.`);
  makeFolder(dir, o.dir);
  const recovered = recoverExports(dir);
  for (const r of recovered) o.recovered?.(r);
  const stage = path.join(dir, temporaryName('stage'));
  writing(o.dir, () => fs.mkdirSync(stage));
  const writers: { abort(): void }[] = [];
  const published: string[] = [];
  try {
    const summary: ExportSummary = { dir, recovered, tables: [] };
    const common = { prefix, createdBy: o.createdBy, partRows: o.partRows };
    const step = interruptionPoints(o.signal);
    for (const table of tables) {
      checkInterrupted(o.signal);
      let files: WrittenFile[];
      if (table === 'usage') {
        const w = new TableWriter(stage, 'usage', USAGE_COLUMNS, common);
        writers.push(w);
        for (const r of readUsageRows(store, { filter: o.filter })) {
          w.add(r, r.day);
          await step();
        }
        files = w.close();
      } else if (table === 'calls') {
        const w = new TableWriter(stage, 'calls', CALL_COLUMNS, common);
        writers.push(w);
        for (const r of readCallRows(store, o.filter)) {
          w.add(r, dayOf(r.start));
          await step();
        }
        files = w.close();
      } else {
        const w = new TableWriter(stage, 'workloads', WORKLOAD_COLUMNS, common);
        writers.push(w);
        for (const r of readWorkloads(store, { filter: o.filter })) {
          w.add(r);
          await step();
        }
        files = w.close();
      }
      o.progress?.(table, files);
      summary.tables.push({
        table,
        rows: files.reduce((n, f) => n + f.rows, 0),
        files,
        bytes: files.reduce((n, f) => n + f.bytes, 0),
      });
    }
    checkInterrupted(o.signal);
    // Refuse before moving anything: an export never replaces or mixes into another one's files.
    const all = summary.tables.flatMap((t) => t.files);
    for (const f of all) checkNoLinks(dir, f.path, o.dir);
    const clash = all.find((f) => fs.lstatSync(path.join(dir, f.path), { throwIfNoEntry: false }));
    if (clash)
      throw new UserInputError(
        `${path.join(o.dir, clash.path)} already exists: export into an empty folder, or give this export's files their own names with --file-prefix (one per shard).`,
      );
    // The journal: from here on, a killed run is undone by the next export (recoverExports).
    writeFileAtomic(path.join(stage, JOURNAL), `${JSON.stringify({ files: all.map((f) => f.path) })}\n`);
    for (const f of all) {
      const to = path.join(dir, f.path);
      writing(o.dir, () => {
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.renameSync(path.join(stage, f.path + PARTIAL), to);
      });
      published.push(to);
    }
    // Published: without its journal, a staging folder left by a kill now is merely removed.
    fs.rmSync(path.join(stage, JOURNAL));
    return summary;
  } catch (err) {
    for (const w of writers) w.abort();
    // A failure while publishing (this process is alive to undo it): nothing stays half-published.
    for (const f of published) fs.rmSync(f, { force: true });
    if (created) fs.rmSync(dir, { recursive: true, force: true });
    throw writeErrorOf(err, o.dir);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
