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
 * Everything is written into a staging folder inside `--out`, then moved into place once every
 * table is complete and no file of the same name exists: a failed export changes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../shared/errors.js';
import { dayOf } from '../shared/time.js';
import type { Store } from '../store/db.js';
import type { CallFilter } from '../store/filter.js';
import { readCallRows, type CallExportRow } from '../store/calls.js';
import { readUsageRows, readWorkloads, type UsageExportRow, type WorkloadUsage } from '../store/usage.js';
import { TableWriter, type ColumnSpec, type WrittenFile } from './parquet.js';

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
}

/** What {@link exportTables} wrote, per table. */
export interface ExportSummary {
  dir: string;
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

/** Writes the tables (see the file comment); nothing changes in `dir` unless all of them are written. */
export function exportTables(store: Store, o: ExportOptions): ExportSummary {
  const prefix = o.prefix ?? 'part';
  if (!PREFIX.test(prefix))
    throw new UserInputError(
      `--file-prefix ${JSON.stringify(prefix)}: letters, digits, '.', '_' and '-' only (at most 64), starting with a letter or digit.`,
    );
  const tables = o.tables ?? EXPORT_TABLES;
  const dir = path.resolve(o.dir);
  const created = !fs.existsSync(dir);
  if (!created && !fs.statSync(dir).isDirectory()) throw new UserInputError(`--out ${o.dir}: not a folder.`);
  fs.mkdirSync(dir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(dir, '.xray-lp-export-'));
  try {
    const summary: ExportSummary = { dir, tables: [] };
    const common = { prefix, createdBy: o.createdBy, partRows: o.partRows };
    for (const table of tables) {
      let files: WrittenFile[];
      if (table === 'usage') {
        const w = new TableWriter(stage, 'usage', USAGE_COLUMNS, common);
        for (const r of readUsageRows(store, { filter: o.filter })) w.add(r, r.day);
        files = w.close();
      } else if (table === 'calls') {
        const w = new TableWriter(stage, 'calls', CALL_COLUMNS, common);
        for (const r of readCallRows(store, o.filter)) w.add(r, dayOf(r.start));
        files = w.close();
      } else {
        const w = new TableWriter(stage, 'workloads', WORKLOAD_COLUMNS, common);
        for (const r of readWorkloads(store, { filter: o.filter })) w.add(r);
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
    // Refuse before moving anything: an export never replaces or mixes into another one's files.
    const all = summary.tables.flatMap((t) => t.files);
    const clash = all.find((f) => fs.existsSync(path.join(dir, f.path)));
    if (clash)
      throw new UserInputError(
        `${path.join(o.dir, clash.path)} already exists: export into an empty folder, or give this export's files their own names with --file-prefix (one per shard).`,
      );
    for (const f of all) {
      fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
      fs.renameSync(path.join(stage, f.path), path.join(dir, f.path));
    }
    return summary;
  } catch (err) {
    if (created) fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}
