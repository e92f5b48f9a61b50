/**
 * Bulk loads: a merge that adds more calls than its target holds (into a new database, or one
 * holding a shard of eight) drops the secondary indexes of `calls` at its start and builds them
 * once, sorted, at its end, inside its transaction. Maintaining them row by row costs about 7–8 µs
 * per new call; building one costs about 0.3 s plus 2.1 µs per stored call (docs/performance.md,
 * "A leaner store"). Nothing the merge reads walks these indexes: they serve the queries, the
 * rollup recomputation of touched days and the fallbacks, all after the build.
 *
 * Ingest does not load in bulk: there the parse worker, not the writer, limits the speed, and a
 * load in one transaction with the build at its end measured slower end to end (the build and
 * the whole commit come after the last byte is parsed) and 16–30 MB larger at peak.
 */
import type { Store } from '../db.js';

/** The indexes a bulk load dropped, with the SQL that builds them again. */
export interface DeferredIndexes {
  readonly indexes: readonly { readonly name: string; readonly sql: string }[];
}

/**
 * True when building the indexes once after the load beats maintaining them: when the database
 * holds fewer calls than the load adds. Measured break-even is at about 1.5 times
 * (docs/performance.md); this rule keeps a margin.
 */
export function bulkLoadPays(storedCalls: number, newCalls: number): boolean {
  return newCalls > 0 && storedCalls < newCalls;
}

/**
 * Calls stored now in the database attached as `schema`, cheaply (the largest call id: deletions
 * leave gaps, which only overestimates); 0 when it holds none.
 */
export function storedCalls(db: Store, schema = 'main'): number {
  return (db.prepare(`SELECT max(id) AS n FROM ${schema}.calls`).get() as { n: number | null }).n ?? 0;
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
