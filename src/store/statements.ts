/**
 * Prepared statements used by ingest. Bound parameters only: no value ever becomes SQL text.
 */
import type { Statement } from 'better-sqlite3';
import type { Store } from './db.js';

/** Every write statement ingest needs, prepared once per connection. */
export interface IngestStatements {
  insertSource: Statement;
  updateSource: Statement;
  insertProblem: Statement;
  insertTrace: Statement;
  updateTrace: Statement;
  deleteUnprocessed: Statement;
  insertUnprocessed: Statement;
  anyUnprocessed: Statement;
  traceExists: Statement;
  awaitsParent: Statement;
  findSegment: Statement;
  insertSegment: Statement;
  replaceSegment: Statement;
  deleteSegmentCalls: Statement;
  deleteSegmentNodes: Statement;
  insertNode: Statement;
  findPrincipal: Statement;
  insertPrincipal: Statement;
  updatePrincipal: Statement;
  insertCall: Statement;
  findCall: Statement;
  replaceCall: Statement;
  setCallTarget: Statement;
  findTarget: Statement;
  targetById: Statement;
  insertTarget: Statement;
  insertPermission: Statement;
  insertTouched: Statement;
  clearTouched: Statement;
  rebuildTouchedDays: Statement[];
  addNewCalls: Statement[];
  attributeSubsegments: Statement;
  attributeCalls: Statement;
  attributeInferredCalls: Statement;
}

/** Prepares the ingest statements on `db`. */
export function prepareIngest(db: Store): IngestStatements {
  // Scratch list of the (workload, day) pairs an input touched; per connection, never persisted.
  db.exec(
    'CREATE TEMP TABLE IF NOT EXISTS touched_days (principal_id INTEGER NOT NULL, day INTEGER NOT NULL, PRIMARY KEY (principal_id, day))',
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
      `INSERT OR IGNORE INTO traces (id, duration, limit_exceeded, source_id) VALUES (?, ?, ?, ?)`,
    ),
    updateTrace: db.prepare(
      `UPDATE traces SET duration = coalesce(?, duration), limit_exceeded = coalesce(?, limit_exceeded) WHERE id = ?`,
    ),
    deleteUnprocessed: db.prepare(`DELETE FROM unprocessed_traces WHERE id = ?`),
    insertUnprocessed: db.prepare(`INSERT OR IGNORE INTO unprocessed_traces (id, source_id) VALUES (?, ?)`),
    anyUnprocessed: db.prepare(`SELECT 1 FROM unprocessed_traces LIMIT 1`),
    traceExists: db.prepare(`SELECT 1 FROM traces WHERE id = ?`),
    awaitsParent: db.prepare(
      `SELECT 1 FROM segments WHERE trace_id = ? AND principal_id IS NULL AND type = 'subsegment' LIMIT 1`,
    ),
    findSegment: db.prepare(`SELECT in_progress FROM segments WHERE trace_id = ? AND id = ?`),
    insertSegment: db.prepare(
      `INSERT OR IGNORE INTO segments (trace_id, id, type, parent_id, principal_id, name, origin, start_time, end_time, in_progress, source_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    replaceSegment: db.prepare(
      `UPDATE segments SET type = ?, parent_id = ?, principal_id = ?, name = ?, origin = ?, start_time = ?, end_time = ?, in_progress = ?,
         source_id = ?
       WHERE trace_id = ? AND id = ?`,
    ),
    deleteSegmentCalls: db.prepare(
      `DELETE FROM calls WHERE trace_id = ? AND segment_id = ? RETURNING principal_id, start_time`,
    ),
    deleteSegmentNodes: db.prepare(`DELETE FROM nodes WHERE trace_id = ? AND segment_id = ?`),
    insertNode: db.prepare(`INSERT OR IGNORE INTO nodes (trace_id, id, segment_id) VALUES (?, ?, ?)`),
    findPrincipal: db.prepare(`SELECT id, attrs, account, region, arn FROM principals WHERE key = ?`),
    insertPrincipal: db.prepare(
      `INSERT INTO principals (key, kind, name, arn, account, region, attrs) VALUES (@key, @kind, @name, @arn, @account, @region, @attrs)`,
    ),
    updatePrincipal: db.prepare(
      `UPDATE principals SET attrs = @attrs, account = coalesce(account, @account), region = coalesce(region, @region), arn = coalesce(arn, @arn) WHERE id = @id`,
    ),
    insertCall: db.prepare(
      `INSERT OR IGNORE INTO calls (trace_id, sub_id, segment_id, principal_id, start_time, end_time, target_id, http_status, outcome, error_type, via, source_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    findCall: db.prepare(
      `SELECT c.id, c.via, c.principal_id, c.start_time, c.target_id, t.service, t.service_name, t.operation, t.region, t.account, t.params, t.denied_action, t.denied_resource
       FROM calls c JOIN targets t ON t.id = c.target_id WHERE c.trace_id = ? AND c.sub_id = ?`,
    ),
    replaceCall: db.prepare(
      `UPDATE calls SET segment_id = ?, principal_id = ?, start_time = ?, end_time = ?, target_id = ?, http_status = ?, outcome = ?,
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
    insertTouched: db.prepare(`INSERT OR IGNORE INTO temp.touched_days (principal_id, day) VALUES (?, ?)`),
    clearTouched: db.prepare(`DELETE FROM temp.touched_days`),
    // Daily summaries are recomputed from calls for the touched (workload, day) pairs, so that
    // they stay exact whatever an input added, replaced or re-attributed.
    rebuildTouchedDays: [
      db.prepare(
        `DELETE FROM principal_days WHERE (principal_id, day) IN (SELECT principal_id, day FROM temp.touched_days)`,
      ),
      db.prepare(
        `INSERT INTO principal_days (principal_id, day, calls, traces, denied, errors, faults, throttles, first_time, last_time)
         SELECT t.principal_id, t.day, count(*), count(DISTINCT c.trace_id), sum(c.outcome = 'denied'), sum(c.outcome = 'error'),
                sum(c.outcome = 'fault'), sum(c.outcome = 'throttle'), min(c.start_time), max(c.start_time)
         FROM temp.touched_days t CROSS JOIN calls c INDEXED BY calls_principal_time
           ON c.principal_id = t.principal_id AND c.start_time >= t.day * 86400.0 AND c.start_time < (t.day + 1) * 86400.0
         GROUP BY t.principal_id, t.day`,
      ),
      db.prepare(
        `DELETE FROM principal_day_targets WHERE (principal_id, day) IN (SELECT principal_id, day FROM temp.touched_days)`,
      ),
      db.prepare(
        `INSERT INTO principal_day_targets (principal_id, day, target_id, denied, calls, first_time, last_time, trace_min, trace_max)
         SELECT t.principal_id, t.day, c.target_id, c.outcome = 'denied', count(*), min(c.start_time), max(c.start_time),
                min(c.trace_id), max(c.trace_id)
         FROM temp.touched_days t CROSS JOIN calls c INDEXED BY calls_principal_time
           ON c.principal_id = t.principal_id AND c.start_time >= t.day * 86400.0 AND c.start_time < (t.day + 1) * 86400.0
         GROUP BY t.principal_id, t.day, c.target_id, c.outcome = 'denied'`,
      ),
      // From the target rollup just rebuilt: far fewer rows than the calls it sums. CROSS JOIN
      // keeps the touched pairs outermost; the planner would otherwise scan the whole rollup.
      db.prepare(
        `DELETE FROM principal_day_actions WHERE (principal_id, day) IN (SELECT principal_id, day FROM temp.touched_days)`,
      ),
      db.prepare(
        `INSERT INTO principal_day_actions (principal_id, day, action, calls)
         SELECT r.principal_id, r.day, tp.action, sum(r.calls)
         FROM temp.touched_days t CROSS JOIN principal_day_targets r ON r.principal_id = t.principal_id AND r.day = t.day
         JOIN target_permissions tp ON tp.target_id = r.target_id
         GROUP BY r.principal_id, r.day, tp.action`,
      ),
    ],
    // The rollups of calls proven new (see InputWriter.flushNewCalls), added to what is stored:
    // calls with id >= ? that have a workload. One sort of at most a chunk of calls each.
    // NOT INDEXED: the planner would otherwise walk calls_principal_time for `principal_id IS
    // NOT NULL`, i.e. every call ever stored, on every flush (quadratic over an ingest run).
    addNewCalls: [
      db.prepare(
        `INSERT INTO principal_days (principal_id, day, calls, traces, denied, errors, faults, throttles, first_time, last_time)
         SELECT principal_id, CAST(floor(start_time / 86400.0) AS INTEGER) AS d, count(*), count(DISTINCT trace_id),
                sum(outcome = 'denied'), sum(outcome = 'error'), sum(outcome = 'fault'), sum(outcome = 'throttle'),
                min(start_time), max(start_time)
         FROM calls NOT INDEXED WHERE id >= ? AND principal_id IS NOT NULL
         GROUP BY principal_id, d
         ON CONFLICT (principal_id, day) DO UPDATE SET calls = calls + excluded.calls, traces = traces + excluded.traces,
           denied = denied + excluded.denied, errors = errors + excluded.errors, faults = faults + excluded.faults,
           throttles = throttles + excluded.throttles, first_time = min(first_time, excluded.first_time),
           last_time = max(last_time, excluded.last_time)`,
      ),
      db.prepare(
        `INSERT INTO principal_day_targets (principal_id, day, target_id, denied, calls, first_time, last_time, trace_min, trace_max)
         SELECT principal_id, CAST(floor(start_time / 86400.0) AS INTEGER) AS d, target_id, outcome = 'denied' AS den, count(*),
                min(start_time), max(start_time), min(trace_id), max(trace_id)
         FROM calls NOT INDEXED WHERE id >= ? AND principal_id IS NOT NULL
         GROUP BY principal_id, d, target_id, den
         ON CONFLICT (principal_id, day, target_id, denied) DO UPDATE SET calls = calls + excluded.calls,
           first_time = min(first_time, excluded.first_time), last_time = max(last_time, excluded.last_time),
           trace_min = min(trace_min, excluded.trace_min), trace_max = max(trace_max, excluded.trace_max)`,
      ),
      db.prepare(
        `INSERT INTO principal_day_actions (principal_id, day, action, calls)
         SELECT c.principal_id, CAST(floor(c.start_time / 86400.0) AS INTEGER) AS d, tp.action, count(*)
         FROM calls c NOT INDEXED JOIN target_permissions tp ON tp.target_id = c.target_id
         WHERE c.id >= ? AND c.principal_id IS NOT NULL
         GROUP BY c.principal_id, d, tp.action
         ON CONFLICT (principal_id, day, action) DO UPDATE SET calls = calls + excluded.calls`,
      ),
    ],
    attributeSubsegments: db.prepare(
      `UPDATE segments SET principal_id = coalesce(
         (SELECT p.principal_id FROM segments p WHERE p.trace_id = segments.trace_id AND p.id = segments.parent_id),
         (SELECT p.principal_id FROM nodes n JOIN segments p ON p.trace_id = n.trace_id AND p.id = n.segment_id
          WHERE n.trace_id = segments.trace_id AND n.id = segments.parent_id))
       WHERE principal_id IS NULL AND type = 'subsegment' AND parent_id IS NOT NULL
         AND coalesce(
           (SELECT p.principal_id FROM segments p WHERE p.trace_id = segments.trace_id AND p.id = segments.parent_id),
           (SELECT p.principal_id FROM nodes n JOIN segments p ON p.trace_id = n.trace_id AND p.id = n.segment_id
            WHERE n.trace_id = segments.trace_id AND n.id = segments.parent_id)) IS NOT NULL`,
    ),
    attributeCalls: db.prepare(
      `UPDATE calls SET principal_id = (SELECT s.principal_id FROM segments s WHERE s.trace_id = calls.trace_id AND s.id = calls.segment_id)
       WHERE principal_id IS NULL AND via <> 'inferred'
         AND EXISTS (SELECT 1 FROM segments s WHERE s.trace_id = calls.trace_id AND s.id = calls.segment_id AND s.principal_id IS NOT NULL)
       RETURNING principal_id, start_time`,
    ),
    // An inferred-only call belongs to whoever holds its calling subsegment (e.g. a remote-namespace capture).
    attributeInferredCalls: db.prepare(
      `UPDATE calls SET principal_id = (
         SELECT p.principal_id FROM nodes n JOIN segments p ON p.trace_id = n.trace_id AND p.id = n.segment_id
         WHERE n.trace_id = calls.trace_id AND n.id = calls.sub_id)
       WHERE principal_id IS NULL AND via = 'inferred'
         AND EXISTS (SELECT 1 FROM nodes n JOIN segments p ON p.trace_id = n.trace_id AND p.id = n.segment_id
                     WHERE n.trace_id = calls.trace_id AND n.id = calls.sub_id AND p.principal_id IS NOT NULL)
       RETURNING principal_id, start_time`,
    ),
  };
}
