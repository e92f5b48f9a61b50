/**
 * Usage rows from an engine (`policy --usage`, `compare --usage`): the `usage` table that
 * `export` writes, or what Athena, Trino, Spark or DuckDB aggregate from it, read instead of a
 * database. One feature in one place: files.ts reads and checks the files, spill.ts holds the
 * rows in a temporary SQLite file, grouped per principal on demand, and this module is its one
 * interface ({@link UsageRowSource}), which policy/usage-rows.ts and compare/usage-rows.ts read.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PermissionOrder, PermissionTotals } from '../usage.js';
import { readUsageFiles } from './files.js';
import { UsageSpill, type SpillFilter, type SpillPrincipal } from './spill.js';

export { REQUIRED_COLUMNS, OPTIONAL_COLUMNS, readUsageFiles, type UsageFilesSummary } from './files.js';
export type { SpillFilter, SpillRow } from './spill.js';

/** One principal of the rows, with what its rows say about it. */
export type UsagePrincipal = SpillPrincipal;

/** The usage of one (action, resource) permission, summed over the rows of a subject. */
export type UsageGrantRow = PermissionTotals;

/** Calls of a subject whose permission is unknown (rows with `mapping` `unmapped`). */
export interface UsageUnmapped {
  service: string | null;
  operation: string | null;
  note: string | null;
  calls: number;
}

/** Where the rows are read from (spill.ts holds them on disk, grouped on demand). */
export interface UsageRowSource {
  /** Every principal with a selected row. */
  principals(): UsagePrincipal[];
  /**
   * The permissions of these principals' rows, one per (action, resource), in (action, resource)
   * order, or (resource, action) order with `order` `resource` (what policies need: a resource's
   * actions together).
   */
  permissions(
    principals: readonly string[],
    excludeDenied: boolean,
    order?: PermissionOrder,
  ): Iterable<UsageGrantRow>;
  /** Calls of these principals whose permission is unknown, per service, operation and note. */
  unmapped(principals: readonly string[]): UsageUnmapped[];
}

/** Usage rows read and selected, on disk until {@link UsageRows.close}. */
export interface UsageRows extends UsageRowSource {
  /** The names each principal answers to (`--workload` patterns are checked against them). */
  names(): string[][];
  /** Deletes the temporary file. */
  close(): void;
}

/**
 * Reads every usage file of `inputs` (files or folders, searched recursively; the root folder
 * `export --out` wrote stands for its `usage/`) into a temporary store and selects the rows
 * `filter` keeps. A bad file throws before anything is returned, and nothing is left on disk.
 */
export async function readUsageRows(inputs: readonly string[], filter: SpillFilter): Promise<UsageRows> {
  const spill = new UsageSpill();
  try {
    await readUsageFiles(inputs.map(usageFolder), (r) => spill.add(r));
    spill.finish(filter);
  } catch (err) {
    spill.close();
    throw err;
  }
  return {
    principals: () => spill.principals(),
    permissions: (keys, excludeDenied, order) => spill.permissions(keys, excludeDenied, order),
    unmapped: (keys) => spill.unmapped(keys),
    names: () => spill.names(),
    close: () => spill.close(),
  };
}

/**
 * The usage rows of an input: the root folder `export --out` wrote holds them in `usage/` (next to
 * `calls/` and `workloads/`, which are not usage rows), so that folder stands for its `usage/`.
 */
function usageFolder(input: string): string {
  const usage = path.join(input, 'usage');
  try {
    if (fs.statSync(input).isDirectory() && fs.statSync(usage).isDirectory()) return usage;
  } catch {
    // Not there: the input is read as given, and a missing one is reported by the reader.
  }
  return input;
}
