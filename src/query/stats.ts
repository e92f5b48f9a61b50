/**
 * What the database holds: counts, the recorded period, and the ingested sources.
 */
import type { Store } from '../store/db.js';

import { isoTime } from '../shared/time.js';
import { recordedPeriod } from './calls.js';

export { isoTime };

/** Totals and the recorded period (`stats --json` prints this object). */
export interface StoreStats {
  sources: number;
  traces: number;
  segments: number;
  calls: number;
  workloads: number;
  /** Calls whose workload could not be determined (independent subsegment without its parent, inferred-only call). */
  unattributedCalls: number;
  unprocessedTraceIds: number;
  problems: number;
  /** ISO 8601 UTC of the first and last recorded call, or null when there is none. */
  firstCall: string | null;
  lastCall: string | null;
  byOutcome: Record<string, number>;
  byService: { service: string; calls: number }[];
  byKind: { kind: string; workloads: number }[];
}

function count(store: Store, sql: string): number {
  return (store.prepare(sql).get() as { n: number }).n;
}

/** Computes {@link StoreStats}. */
export function storeStats(store: Store): StoreStats {
  const range = recordedPeriod(store);
  const byOutcome: Record<string, number> = {};
  for (const r of store
    .prepare('SELECT outcome, count(*) AS n FROM calls GROUP BY outcome ORDER BY outcome')
    .all() as { outcome: string; n: number }[]) {
    byOutcome[r.outcome] = r.n;
  }
  return {
    sources: count(store, 'SELECT count(*) AS n FROM sources'),
    traces: count(store, 'SELECT count(*) AS n FROM traces'),
    segments: count(store, 'SELECT count(*) AS n FROM segments'),
    calls: count(store, 'SELECT count(*) AS n FROM calls'),
    workloads: count(store, 'SELECT count(*) AS n FROM workloads'),
    unattributedCalls: count(store, 'SELECT count(*) AS n FROM calls WHERE workload_id IS NULL'),
    unprocessedTraceIds: count(store, 'SELECT count(*) AS n FROM unprocessed_traces'),
    problems: count(store, 'SELECT coalesce(sum(problems), 0) AS n FROM sources'),
    firstCall: isoTime(range.first),
    lastCall: isoTime(range.last),
    byOutcome,
    byService: store
      .prepare(
        `SELECT CASE t.service WHEN '' THEN '(unknown)' ELSE t.service END AS service, count(*) AS calls
         FROM calls c JOIN targets t ON t.id = c.target_id GROUP BY 1 ORDER BY calls DESC, service`,
      )
      .all() as {
      service: string;
      calls: number;
    }[],
    byKind: store
      .prepare(
        'SELECT kind, count(*) AS workloads FROM workloads GROUP BY kind ORDER BY workloads DESC, kind',
      )
      .all() as {
      kind: string;
      workloads: number;
    }[],
  };
}

/** One ingest of one input (`sources --json` prints an array of these). */
export interface SourceRow {
  id: number;
  path: string;
  sha256: string;
  size: number;
  shape: string | null;
  ingestedAt: string;
  documents: number;
  traces: number;
  segments: number;
  calls: number;
  newSegments: number;
  newCalls: number;
  problems: number;
  elapsedMs: number;
}

/** Lists ingested sources, oldest first. */
export function listSources(store: Store): SourceRow[] {
  return store
    .prepare(
      `SELECT id, path, sha256, size, shape, ingested_at AS ingestedAt, documents, traces, segments, calls,
              new_segments AS newSegments, new_calls AS newCalls, problems, elapsed_ms AS elapsedMs
       FROM sources ORDER BY id`,
    )
    .all() as SourceRow[];
}
