/**
 * Bulk loads: a writing run that adds more calls than the database holds (a first ingest, a merge
 * into a new database) drops the secondary indexes of `calls` at its start and builds them once,
 * sorted, at its end, inside the same transaction. Maintaining them row by row costs about 7–8 µs
 * per new call; building one costs about 0.3 s plus 2.1 µs per stored call (docs/performance.md,
 * "A leaner store"). Nothing the writers read while loading walks these indexes: they serve the
 * queries, the rollup recomputation of touched days and the end of a run (fallbacks).
 */
import type { Store } from './db.js';

/** The indexes a bulk load dropped, with the SQL that builds them again. */
export interface DeferredIndexes {
  readonly indexes: readonly { readonly name: string; readonly sql: string }[];
}

/**
 * Average bytes of input per AWS call, on the low side of the measured inputs (X-Ray
 * batch-get-traces about 1.6 KB, OpenTelemetry `aws/spans` more; gzip inputs far more calls per
 * byte): an estimate that errs towards fewer new calls, i.e. towards maintaining the indexes.
 */
export const BYTES_PER_CALL = 2048;

/**
 * True when building the indexes once after the load beats maintaining them: when the database
 * holds fewer calls than the load is expected to add. Measured break-even is at about 1.5 times
 * (docs/performance.md); this rule keeps a margin.
 */
export function bulkLoadPays(storedCalls: number, newCalls: number): boolean {
  return newCalls > 0 && storedCalls < newCalls;
}

/** Calls stored now, cheaply (the largest call id: deletions leave gaps, which only overestimates). */
export function storedCalls(db: Store): number {
  return (db.prepare('SELECT max(id) AS n FROM main.calls').get() as { n: number | null }).n ?? 0;
}

/**
 * Drops the secondary indexes of `calls` that are not partial (the partial ones are small and
 * the writers use them). Call inside the load's transaction.
 */
export function dropCallIndexes(db: Store): DeferredIndexes {
  const indexes = db
    .prepare(
      `SELECT name, sql FROM main.sqlite_master WHERE type = 'index' AND tbl_name = 'calls' AND sql IS NOT NULL AND sql NOT LIKE '%WHERE%'`,
    )
    .all() as { name: string; sql: string }[];
  for (const i of indexes) db.exec(`DROP INDEX main."${i.name.replace(/"/g, '""')}"`);
  return { indexes };
}

/** Builds the dropped indexes again (CREATE INDEX sorts: one pass, pages written in order). */
export function buildIndexes(db: Store, deferred: DeferredIndexes): void {
  for (const i of deferred.indexes) db.exec(i.sql);
}
