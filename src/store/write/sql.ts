/**
 * The SQL statements of the writers (ingest's, and merge's row-by-row steps), prepared once per
 * connection and typed by their parameters and the rows they return, so that no caller casts.
 * Bound parameters only: no value ever becomes SQL text.
 */
import type { Statement } from 'better-sqlite3';
import type { Store } from '../db.js';
import { addCallsSql, rebuildTouchedSql, ROLLUPS } from '../rollups.js';
import type { WorkloadRecord } from '../workloads.js';
import type { StoredTarget } from './targets.js';

/** A call's columns that a replacement rewrites: {@link CallValues} less its key. */
export type CallUpdate = [
  segmentId: string,
  workloadId: number | null,
  startTime: number,
  endTime: number | null,
  targetId: number,
  httpStatus: number | null,
  outcome: string,
  errorType: string | null,
  via: string,
  sourceId: number,
];

/** A `calls` row as the writer inserts it (the order of {@link IngestStatements.insertCall}): its key, then {@link CallUpdate}. */
export type CallValues = [traceKey: number, subId: string, ...CallUpdate];

/** A segment's columns that a replacement rewrites (the order of {@link IngestStatements.replaceSegment}). */
export type SegmentUpdate = [
  type: string,
  parentId: string | null,
  workloadId: number | null,
  name: string,
  origin: string | null,
  startTime: number | null,
  endTime: number | null,
  inProgress: 0 | 1,
  sourceId: number,
  fallbackId: number | null,
];

/** A `segments` row as the writer inserts it: its key, then {@link SegmentUpdate}. */
export type SegmentValues = [traceKey: number, id: string, ...SegmentUpdate];

/** A stored call with its target's fields, as `findCall` returns it. */
export interface StoredCall extends StoredTarget {
  id: number;
  via: string;
  workload_id: number | null;
  start_time: number;
  target_id: number;
}

/** A call just given a workload, as the attribution statements return it. */
export interface AttributedCall {
  id: number;
  workload_id: number | null;
  start_time: number;
  target_id: number;
}

/** A call's workload and day-giving start, as statements that move calls return them. */
export interface CallDay {
  workload_id: number | null;
  start_time: number;
}

/** The `sources` row of an input, as it is finished. */
export interface SourceValues {
  id: number;
  sha256: string;
  size: number;
  shape: string;
  documents: number;
  traces: number;
  segments: number;
  calls: number;
  new_segments: number;
  new_calls: number;
  problems: number;
  elapsed_ms: number;
}

/** A workload row as inserted (its attributes as JSON). */
export type WorkloadValues = Omit<WorkloadRecord, 'id'>;

/** A target row as inserted: its identifying fields, its signature and its IAM mapping. */
export interface TargetValues extends StoredTarget {
  sig: string;
  mapping: string;
  mapping_reason: string | null;
}

type Found = { 1: number };

/** Every write statement ingest needs, prepared once per connection, each typed by its parameters and rows. */
export interface IngestStatements {
  insertSource: Statement<[{ path: string; now: string }]>;
  updateSource: Statement<[SourceValues]>;
  insertProblem: Statement<[sourceId: number, path: string, message: string]>;
  insertTrace: Statement<
    [xrayId: string, duration: number | null, limitExceeded: number | null, sourceId: number]
  >;
  updateTrace: Statement<[duration: number | null, limitExceeded: number | null, key: number]>;
  deleteUnprocessed: Statement<[xrayId: string]>;
  insertUnprocessed: Statement<[xrayId: string, sourceId: number]>;
  /** A configuration fact, kept as first stored (schema v4). */
  insertConfig: Statement<[kind: string, key: string, fn: string | null, data: string, sourceId: number]>;
  /** A CloudTrail record, once by eventID (schema v5). */
  insertTrailEvent: Statement<[Record<string, string | number | null>]>;
  anyUnprocessed: Statement<[], Found>;
  traceKey: Statement<[xrayId: string], { id: number }>;
  awaitsParent: Statement<[traceKey: number], Found>;
  findSegment: Statement<[traceKey: number, id: string], { in_progress: number }>;
  insertSegment: Statement<SegmentValues>;
  replaceSegment: Statement<[...SegmentUpdate, traceKey: number, id: string]>;
  deleteSegmentCalls: Statement<[traceKey: number, segmentId: string], CallDay>;
  deleteSegmentNodes: Statement<[traceKey: number, segmentId: string]>;
  insertNode: Statement<[traceKey: number, id: string, segmentId: string]>;
  findWorkload: Statement<
    [key: string],
    { id: number; attrs: string; account: string | null; region: string | null; arn: string | null }
  >;
  insertWorkload: Statement<[WorkloadValues]>;
  updateWorkload: Statement<
    [{ id: number; attrs: string; account: string | null; region: string | null; arn: string | null }]
  >;
  insertCall: Statement<CallValues>;
  findCall: Statement<[traceKey: number, subId: string], StoredCall>;
  replaceCall: Statement<[...CallUpdate, id: number]>;
  setCallTarget: Statement<[targetId: number, id: number]>;
  findTarget: Statement<[sig: string], { id: number }>;
  targetById: Statement<[id: number], StoredTarget>;
  insertTarget: Statement<[TargetValues]>;
  insertPermission: Statement<
    [
      targetId: number,
      action: string,
      resource: string,
      resourceType: string | null,
      resourceUnknown: 0 | 1,
      note: string | null,
    ]
  >;
  insertTouched: Statement<[workloadId: number, day: number]>;
  clearTouched: Statement<[]>;
  rebuildTouchedDays: Statement<[]>[];
  addNewCalls: Statement<[lowestId: number]>[];
  attributeSubsegments: Statement<[]>;
  attributeCalls: Statement<[], AttributedCall>;
  workloadScope: Statement<[id: number], { account: string | null; region: string | null }>;
  workloadKey: Statement<[id: number], { key: string }>;
  fallbackCandidates: Statement<[], { id: number }>;
  anySettled: Statement<[], Found>;
  settleFallbacks: Statement<[]>;
  traceHasSettled: Statement<[traceKey: number], Found>;
  settledCalls: Statement<[{ trace: number }], CallDay>;
  unsettleCalls: Statement<[{ trace: number }]>;
  unsettleSegments: Statement<[traceKey: number]>;
  dropUnusedFallback: Statement<[{ id: number }]>;
  attributeInferredCalls: Statement<[], AttributedCall>;
}

/** Prepares the ingest statements on `db`. */
export function prepareIngest(db: Store): IngestStatements {
  // Scratch list of the (workload, day) pairs an input touched; per connection, never persisted.
  db.exec(
    'CREATE TEMP TABLE IF NOT EXISTS touched_days (workload_id INTEGER NOT NULL, day INTEGER NOT NULL, PRIMARY KEY (workload_id, day))',
  );
  return {
    insertSource: db.prepare(
      `INSERT INTO sources (path, sha256, size, shape, ingested_at, documents, traces, segments, calls, new_segments, new_calls, problems, elapsed_ms)
       VALUES (@path, '', 0, NULL, @now, 0, 0, 0, 0, 0, 0, 0, 0)`,
    ),
    updateSource: db.prepare(
      `UPDATE sources SET sha256 = @sha256, size = @size, shape = @shape, documents = @documents, traces = @traces, segments = @segments,
         calls = @calls, new_segments = @new_segments, new_calls = @new_calls, problems = @problems, elapsed_ms = @elapsed_ms
       WHERE id = @id`,
    ),
    insertProblem: db.prepare(`INSERT INTO problems (source_id, path, message) VALUES (?, ?, ?)`),
    insertTrace: db.prepare(
      `INSERT OR IGNORE INTO traces (xray_id, duration, limit_exceeded, source_id) VALUES (?, ?, ?, ?)`,
    ),
    updateTrace: db.prepare(
      `UPDATE traces SET duration = coalesce(?, duration), limit_exceeded = coalesce(?, limit_exceeded) WHERE id = ?`,
    ),
    deleteUnprocessed: db.prepare(`DELETE FROM unprocessed_traces WHERE id = ?`),
    insertUnprocessed: db.prepare(`INSERT OR IGNORE INTO unprocessed_traces (id, source_id) VALUES (?, ?)`),
    insertConfig: db.prepare(
      `INSERT OR IGNORE INTO configs (kind, key, function, data, source_id) VALUES (?, ?, ?, ?, ?)`,
    ),
    // Exactly once by eventID: a record already stored (an overlapping download) is not added again.
    insertTrailEvent: db.prepare(
      `INSERT OR IGNORE INTO trail_events (event_id, time, event_source, event_name, region, account, principal, role,
         session, invoked_by, source_ip, user_agent, error_code, management, caller, caller_reason, request_parameters,
         resources, source_id)
       VALUES (@eventId, @time, @eventSource, @eventName, @region, @account, @principal, @role, @session, @invokedBy,
         @sourceIp, @userAgent, @errorCode, @management, @caller, @callerReason, @requestParameters, @resources, @sourceId)`,
    ),
    anyUnprocessed: db.prepare(`SELECT 1 FROM unprocessed_traces LIMIT 1`),
    // Calls, segments and nodes carry a trace's integer key (schema v3), looked up once per item.
    traceKey: db.prepare(`SELECT id FROM traces WHERE xray_id = ?`),
    awaitsParent: db.prepare(
      `SELECT 1 FROM segments WHERE trace_id = ? AND workload_id IS NULL AND type = 'subsegment' LIMIT 1`,
    ),
    findSegment: db.prepare(`SELECT in_progress FROM segments WHERE trace_id = ? AND id = ?`),
    insertSegment: db.prepare(
      `INSERT OR IGNORE INTO segments (trace_id, id, type, parent_id, workload_id, name, origin, start_time, end_time, in_progress, source_id, fallback_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    replaceSegment: db.prepare(
      `UPDATE segments SET type = ?, parent_id = ?, workload_id = ?, name = ?, origin = ?, start_time = ?, end_time = ?, in_progress = ?,
         source_id = ?, fallback_id = ?
       WHERE trace_id = ? AND id = ?`,
    ),
    deleteSegmentCalls: db.prepare(
      `DELETE FROM calls WHERE trace_id = ? AND segment_id = ? RETURNING workload_id, start_time`,
    ),
    deleteSegmentNodes: db.prepare(`DELETE FROM nodes WHERE trace_id = ? AND segment_id = ?`),
    insertNode: db.prepare(`INSERT OR IGNORE INTO nodes (trace_id, id, segment_id) VALUES (?, ?, ?)`),
    findWorkload: db.prepare(`SELECT id, attrs, account, region, arn FROM workloads WHERE key = ?`),
    insertWorkload: db.prepare(
      `INSERT INTO workloads (key, kind, name, arn, account, region, attrs) VALUES (@key, @kind, @name, @arn, @account, @region, @attrs)`,
    ),
    updateWorkload: db.prepare(
      `UPDATE workloads SET attrs = @attrs, account = coalesce(account, @account), region = coalesce(region, @region), arn = coalesce(arn, @arn) WHERE id = @id`,
    ),
    insertCall: db.prepare(
      `INSERT OR IGNORE INTO calls (trace_id, sub_id, segment_id, workload_id, start_time, end_time, target_id, http_status, outcome, error_type, via, source_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    findCall: db.prepare(
      `SELECT c.id, c.via, c.workload_id, c.start_time, c.target_id, t.service, t.service_name, t.operation, t.region, t.account, t.params, t.denied_action, t.denied_resource
       FROM calls c JOIN targets t ON t.id = c.target_id WHERE c.trace_id = ? AND c.sub_id = ?`,
    ),
    replaceCall: db.prepare(
      `UPDATE calls SET segment_id = ?, workload_id = ?, start_time = ?, end_time = ?, target_id = ?, http_status = ?, outcome = ?,
         error_type = ?, via = ?, source_id = ?
       WHERE id = ?`,
    ),
    setCallTarget: db.prepare(`UPDATE calls SET target_id = ? WHERE id = ?`),
    findTarget: db.prepare(`SELECT id FROM targets WHERE sig = ?`),
    targetById: db.prepare(
      `SELECT service, service_name, operation, region, account, params, denied_action, denied_resource FROM targets WHERE id = ?`,
    ),
    insertTarget: db.prepare(
      `INSERT INTO targets (sig, service, service_name, operation, region, account, params, denied_action, denied_resource, mapping, mapping_reason)
       VALUES (@sig, @service, @service_name, @operation, @region, @account, @params, @denied_action, @denied_resource, @mapping, @mapping_reason)`,
    ),
    insertPermission: db.prepare(
      `INSERT OR IGNORE INTO target_permissions (target_id, action, resource, resource_type, resource_unknown, note) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    insertTouched: db.prepare(`INSERT OR IGNORE INTO temp.touched_days (workload_id, day) VALUES (?, ?)`),
    clearTouched: db.prepare(`DELETE FROM temp.touched_days`),
    // See rollups.ts: every rollup statement comes from its one definition.
    rebuildTouchedDays: ROLLUPS.flatMap((r) => rebuildTouchedSql(r).map((sql) => db.prepare(sql))),
    // The calls proven new (see InputWriter.flushNewCalls), added to what is stored: calls with
    // id >= ? that have a workload. NOT INDEXED: the planner would otherwise walk
    // calls_workload_time for `workload_id IS NOT NULL`, i.e. every call ever stored, on every
    // flush (quadratic over an ingest run).
    addNewCalls: ROLLUPS.map((r) =>
      db.prepare(addCallsSql(r, 'calls c NOT INDEXED', 'c.id >= ? AND c.workload_id IS NOT NULL')),
    ),
    attributeSubsegments: db.prepare(
      `UPDATE segments SET fallback_id = NULL, workload_id = coalesce(
         (SELECT p.workload_id FROM segments p WHERE p.trace_id = segments.trace_id AND p.id = segments.parent_id),
         (SELECT p.workload_id FROM nodes n JOIN segments p ON p.trace_id = n.trace_id AND p.id = n.segment_id
          WHERE n.trace_id = segments.trace_id AND n.id = segments.parent_id))
       WHERE workload_id IS NULL AND type = 'subsegment' AND parent_id IS NOT NULL
         AND coalesce(
           (SELECT p.workload_id FROM segments p WHERE p.trace_id = segments.trace_id AND p.id = segments.parent_id),
           (SELECT p.workload_id FROM nodes n JOIN segments p ON p.trace_id = n.trace_id AND p.id = n.segment_id
            WHERE n.trace_id = segments.trace_id AND n.id = segments.parent_id)) IS NOT NULL`,
    ),
    attributeCalls: db.prepare(
      `UPDATE calls SET workload_id = (SELECT s.workload_id FROM segments s WHERE s.trace_id = calls.trace_id AND s.id = calls.segment_id)
       WHERE workload_id IS NULL AND via <> 'inferred'
         AND EXISTS (SELECT 1 FROM segments s WHERE s.trace_id = calls.trace_id AND s.id = calls.segment_id AND s.workload_id IS NOT NULL)
       RETURNING id, workload_id, start_time, target_id`,
    ),
    workloadScope: db.prepare(`SELECT account, region FROM workloads WHERE id = ?`),
    workloadKey: db.prepare(`SELECT key FROM workloads WHERE id = ?`),
    // Fallback workloads: Lambda functions known without their account (`lambda::region:name`).
    fallbackCandidates: db.prepare(`SELECT id FROM workloads WHERE kind = 'lambda' AND account IS NULL`),
    anySettled: db.prepare(
      `SELECT 1 FROM segments WHERE fallback_id IS NOT NULL AND workload_id = fallback_id LIMIT 1`,
    ),
    settleFallbacks: db.prepare(
      `UPDATE segments SET workload_id = fallback_id WHERE workload_id IS NULL AND fallback_id IS NOT NULL`,
    ),
    traceHasSettled: db.prepare(
      `SELECT 1 FROM segments WHERE trace_id = ? AND fallback_id IS NOT NULL AND workload_id = fallback_id LIMIT 1`,
    ),
    // The calls of a trace's settled spans, read before unsettleCalls clears their workload
    // (RETURNING gives the values after an UPDATE: the cleared ones).
    settledCalls: db.prepare(
      `SELECT workload_id, start_time FROM calls WHERE trace_id = @trace AND workload_id IS NOT NULL AND segment_id IN (
         SELECT id FROM segments WHERE trace_id = @trace AND fallback_id IS NOT NULL AND workload_id = fallback_id)`,
    ),
    unsettleCalls: db.prepare(
      `UPDATE calls SET workload_id = NULL WHERE trace_id = @trace AND segment_id IN (
         SELECT id FROM segments WHERE trace_id = @trace AND fallback_id IS NOT NULL AND workload_id = fallback_id)`,
    ),
    unsettleSegments: db.prepare(
      `UPDATE segments SET workload_id = NULL WHERE trace_id = ? AND fallback_id IS NOT NULL AND workload_id = fallback_id`,
    ),
    // Only fallback workloads are dropped: nothing but calls and settled or waiting spans refers
    // to them; one that X-Ray segments also named (its formats say "x-ray") is kept.
    dropUnusedFallback: db.prepare(
      `DELETE FROM workloads WHERE id = @id
         AND NOT EXISTS (SELECT 1 FROM calls WHERE workload_id = @id)
         AND NOT EXISTS (SELECT 1 FROM segments WHERE fallback_id IS NOT NULL AND workload_id = fallback_id AND fallback_id = @id)
         AND NOT EXISTS (SELECT 1 FROM segments WHERE workload_id IS NULL AND fallback_id IS NOT NULL AND fallback_id = @id)
         AND instr(attrs, '"x-ray"') = 0`,
    ),
    // An inferred-only call belongs to whoever holds its calling subsegment (e.g. a remote-namespace capture).
    attributeInferredCalls: db.prepare(
      `UPDATE calls SET workload_id = (
         SELECT p.workload_id FROM nodes n JOIN segments p ON p.trace_id = n.trace_id AND p.id = n.segment_id
         WHERE n.trace_id = calls.trace_id AND n.id = calls.sub_id)
       WHERE workload_id IS NULL AND via = 'inferred'
         AND EXISTS (SELECT 1 FROM nodes n JOIN segments p ON p.trace_id = n.trace_id AND p.id = n.segment_id
                     WHERE n.trace_id = calls.trace_id AND n.id = calls.sub_id AND p.workload_id IS NOT NULL)
       RETURNING id, workload_id, start_time, target_id`,
    ),
  };
}
