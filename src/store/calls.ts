/**
 * Individual calls for the `calls` export table, oldest first, one row at a time. (The `calls`
 * command reads a page of the newest through src/query/calls.ts; aggregated usage is read
 * through usage.ts.)
 */
import type { Store } from './db.js';
import { selectCalls, type CallFilter } from './filter.js';

/** One call as the `calls` export table holds it. */
export interface CallExportRow {
  /** Epoch seconds. */
  start: number;
  end: number | null;
  /** The workload's ARN, else its key; null for an unattributed call. */
  principal: string | null;
  kind: string | null;
  name: string | null;
  /** The IAM prefix, or the service as recorded when it has none. */
  service: string;
  operation: string | null;
  /** Where the call went (null when not recorded). */
  region: string | null;
  account: string | null;
  /** The recorded resource parameters, JSON. */
  params: string | null;
  mapping: string;
  outcome: string;
  httpStatus: number | null;
  errorType: string | null;
  traceId: string;
  via: string;
}

type CallRaw = [
  number,
  number | null,
  string | null,
  string | null,
  string | null,
  string,
  string | null,
  string | null,
  string | null,
  string | null,
  string,
  string,
  number | null,
  string | null,
  string,
  string,
];

/**
 * The calls `filter` matches, oldest first (by start time, then id). Without workload patterns
 * the time index gives the order; with them, SQLite sorts, spilling to temporary files
 * (`temp_store = FILE`): memory stays bounded either way.
 */
export function* readCallRows(store: Store, filter: CallFilter): Generator<CallExportRow> {
  const sel = selectCalls(filter);
  const it = store
    .prepare(
      `SELECT c.start_time, c.end_time, coalesce(w.arn, w.key), w.kind, w.name,
              CASE t.service WHEN '' THEN t.service_name ELSE t.service END, t.operation, t.region, t.account,
              t.params, t.mapping, c.outcome, c.http_status, c.error_type, (SELECT xray_id FROM traces WHERE id = c.trace_id), c.via
       FROM ${sel.from} WHERE ${sel.where}
       ORDER BY c.start_time, c.id`,
    )
    .raw(true)
    .iterate(...sel.params) as IterableIterator<CallRaw>;
  for (const r of it)
    yield {
      start: r[0],
      end: r[1],
      principal: r[2],
      kind: r[3],
      name: r[4],
      service: r[5],
      operation: r[6],
      region: r[7],
      account: r[8],
      params: r[9],
      mapping: r[10],
      outcome: r[11],
      httpStatus: r[12],
      errorType: r[13],
      traceId: r[14],
      via: r[15],
    };
}
