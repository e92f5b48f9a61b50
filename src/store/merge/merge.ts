/**
 * `merge`: databases written by `ingest` (shards) merged into one, with ingest's exactly-once
 * rules, set-based in SQL: each shard is ATTACHed and its rows copied with INSERT … SELECT,
 * workload, target, trace and source ids remapped through temp tables (workloads by key, targets
 * by signature, trace keys by trace id, sources by content). One transaction for the whole merge: all or nothing.
 *
 * The rules (docs/store.md; the writer, src/store/write/writer.ts, one shard at a time against what the target holds):
 * - traces, segments (trace id, segment id), calls (trace id, calling subsegment id) and nodes are
 *   stored once; the first stored wins, except that a complete segment replaces an in-progress
 *   one (its calls and nodes with it) and a real SDK call replaces one known only from an
 *   inferred segment. An in-progress copy of a segment stored complete is skipped with its calls.
 * - an inferred-only call meeting its caller from another database, either way round, merges
 *   their targets as ingest does (the caller's fields, filled in by the inferred segment's). This
 *   is the one step done row by row: the merged target's IAM permissions are computed by src/iam,
 *   not SQL. Such pairs are rare (an inferred segment and its caller in different shards).
 * - an id unprocessed in one database and stored as a trace in another is not unprocessed.
 * - inputs (`sources`) are kept, with the shard each came from noted in its path; an input whose
 *   content (sha256 and size) the target already holds is not a second source: the stored one
 *   notes the shard too, and the summary lists the overlap.
 * - spans settled for their fallback workload (a Lambda function whose trace lacked its SERVER
 *   span) are merged as waiting, as are the target's settled spans in traces a shard continues;
 *   after the last shard, independent subsegments, waiting spans and inferred-only calls are
 *   attributed with ingest's statements, calls re-targeted with their workload's account and
 *   region, and the spans still waiting settled: as if every input had been ingested in one run.
 * - the rollups are recomputed for the (workload, day) pairs the merge touched, or rebuilt whole
 *   when the target held no calls (faster: see docs/performance.md).
 *
 * Shards are only read: one of an older schema is migrated in a temporary copy; one of a newer
 * schema, or a file that is not an xray-lp database, is refused before anything is written.
 */
import fs from 'node:fs';
import os from 'node:os';
import type Database from 'better-sqlite3';
import { InterruptedError, UserInputError } from '../../shared/errors.js';
import { temporaryFolder } from '../../shared/files.js';
import { dayOf } from '../../shared/time.js';
import {
  attributeWaitingCalls,
  settleFallbacks,
  storeTarget,
  targetFields,
  type SettledFallbacks,
} from '../write/attribute.js';
import { buildIndexes, bulkLoadPays, dropCallIndexes, storedCalls, type DeferredIndexes } from './bulk.js';
import type { Store } from '../db.js';
import { daySql, rebuildRollups } from '../rollups.js';
import { SCHEMA_VERSION } from '../schema.js';
import { prepareIngest, type IngestStatements } from '../write/sql.js';
import { fillIn } from '../write/targets.js';
import { migratedCopy, openShards, type ShardInfo } from './shards.js';

export { checkShards, MAX_SHARDS, type ShardInfo } from './shards.js';

/** Options for {@link mergeShards}. */
export interface MergeOptions {
  /** Database files written by `xray-lp ingest` (or `merge`), merged in this order. */
  shards: readonly string[];
  /**
   * How the rollups are brought up to date: `auto` (default) rebuilds them whole when the target
   * held no calls and recomputes the touched (workload, day) pairs otherwise; the other two force
   * one way (benchmarks, tests).
   */
  rollups?: 'auto' | 'rebuild' | 'touched';
  /**
   * True once the merge should stop (an interrupt): looked at before every statement; the merge
   * then rolls back and throws InterruptedError, the target as it was.
   */
  interrupted?: () => boolean;
}

/** What was read from the shards, and what of it was new to the target (a shard's or the sum). */
export interface MergeCounts {
  /** Inputs recorded, and how many of them the target did not hold already (by content). */
  inputs: number;
  newInputs: number;
  traces: number;
  newTraces: number;
  segments: number;
  newSegments: number;
  /** In-progress segments of the target replaced by the shard's complete ones. */
  replacedSegments: number;
  /** Segments the target held already (complete, or in progress like the shard's). */
  duplicateSegments: number;
  calls: number;
  newCalls: number;
  /** Calls the target knew only from an inferred segment, replaced by the shard's real call. */
  replacedCalls: number;
  /** Calls of the target whose target the shard's inferred segment filled in. */
  filledCalls: number;
  /** Calls the target held already (or that belonged to a segment it held complete). */
  duplicateCalls: number;
}

/** What one shard held and what of it was new to the target. */
export interface ShardSummary extends MergeCounts {
  /** The shard as given. */
  shard: string;
  /** Its schema version. */
  schemaVersion: number;
  /** True when it was read from a migrated temporary copy (an older schema). */
  migrated: boolean;
  unprocessedTraceIds: number;
  workloads: number;
  newWorkloads: number;
}

/** An input (by content) found in more than one database. */
export interface OverlapInput {
  sha256: string;
  size: number;
  /** Where its content is stored from: `target` (before the merge) or a shard, and the path it had there. */
  stored: { database: string; path: string };
  /** The other databases that held the same input, with their paths. */
  alsoIn: { database: string; path: string }[];
}

/** What a merge did (`merge --json` prints this object). */
export interface MergeSummary extends MergeCounts {
  /** The target database file. */
  target: string;
  shards: ShardSummary[];
  /** Calls that found their workload only once the shards were together (independent subsegments, spans, inferred-only calls). */
  attributedCalls: number;
  /** Inputs held by more than one database: their content was stored once. */
  overlap: OverlapInput[];
  /** Workloads in the target after the merge, and how many the merge added. */
  workloads: number;
  newWorkloads: number;
  /** As for ingest: calls of Lambda functions stored without the function's account. */
  fallbacks: SettledFallbacks;
  /** How the rollups were brought up to date, and how many (workload, day) pairs were recomputed. */
  rollups: { method: 'rebuilt' | 'touched'; days: number };
  /** True when the shards held more calls than the target: its calls' indexes were built at the end (store/merge/bulk.ts). */
  bulk: boolean;
  elapsedMs: number;
}

/**
 * Merges the shards into `target` (open, at the current schema), in one transaction. Throws a
 * {@link UserInputError} naming a shard that cannot be merged, before writing anything.
 */
export function mergeShards(target: Store, options: MergeOptions): MergeSummary {
  const started = performance.now();
  const handles: Database.Database[] = [];
  let tmpDir: string | undefined;
  const foreignKeys = (target.pragma('foreign_keys', { simple: true }) as number) === 1;
  try {
    // Every shard stays open read-only until the end: a shard in WAL mode is then never
    // checkpointed by the target's connection when it is detached (its file stays as it was).
    const infos = openShards(options.shards, target.name, handles);
    const files = infos.map((info) => {
      if (info.schemaVersion === SCHEMA_VERSION) return info.file;
      // Named for src/shared/files.ts: a killed merge's copies are removed by the next merge.
      tmpDir ??= temporaryFolder(os.tmpdir());
      return migratedCopy(handles[infos.indexOf(info)] as Database.Database, tmpDir);
    });
    // SQLite cannot detach a database read inside the open transaction: all are attached first.
    const schemas = files.map((_f, i) => `shard${i}`);
    // The writers reference only rows they have just looked up or inserted (see WriteSession).
    target.pragma('foreign_keys = OFF');
    const st = prepareIngest(target);
    createTempTables(target);
    try {
      files.forEach((file, i) => target.prepare(`ATTACH DATABASE ? AS ${schemas[i] as string}`).run(file));
      target.exec('BEGIN IMMEDIATE');
      const shardCalls = schemas.reduce((n, s) => n + storedCalls(target, s), 0);
      const merger = new Merger(target, st, options.rollups ?? 'auto', shardCalls, options.interrupted);
      const shards = infos.map((info, i) => merger.mergeShard(info, schemas[i] as string));
      const end = merger.finish();
      // The last look: once committed, an interrupt no longer undoes the merge.
      if (options.interrupted?.()) throw new InterruptedError();
      target.exec('COMMIT');
      const sum = (f: (s: ShardSummary) => number): number => shards.reduce((a, s) => a + f(s), 0);
      return {
        target: target.name,
        shards,
        inputs: sum((s) => s.inputs),
        newInputs: sum((s) => s.newInputs),
        traces: sum((s) => s.traces),
        newTraces: sum((s) => s.newTraces),
        segments: sum((s) => s.segments),
        newSegments: sum((s) => s.newSegments),
        replacedSegments: sum((s) => s.replacedSegments),
        duplicateSegments: sum((s) => s.duplicateSegments),
        calls: sum((s) => s.calls),
        newCalls: sum((s) => s.newCalls),
        replacedCalls: sum((s) => s.replacedCalls),
        filledCalls: sum((s) => s.filledCalls),
        duplicateCalls: sum((s) => s.duplicateCalls),
        attributedCalls: end.attributedCalls,
        overlap: merger.overlap(),
        workloads: count(target, 'SELECT count(*) AS n FROM main.workloads'),
        newWorkloads: end.newWorkloads,
        fallbacks: end.fallbacks,
        rollups: end.rollups,
        bulk: merger.bulk,
        elapsedMs: performance.now() - started,
      };
    } catch (err) {
      if (target.inTransaction) target.exec('ROLLBACK');
      throw err;
    } finally {
      const list = target.prepare('SELECT name FROM pragma_database_list').all() as { name: string }[];
      for (const { name } of list) if (schemas.includes(name)) target.exec(`DETACH DATABASE ${name}`);
      dropTempTables(target);
    }
  } finally {
    target.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
    for (const h of handles) h.close();
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

function count(db: Store, sql: string): number {
  return (db.prepare(sql).get() as { n: number }).n;
}

/** The id maps and work lists of a merge: per connection, never persisted. */
const TEMP_TABLES: Record<string, string> = {
  // Shard id → target id; `copied` 0 for a shard input whose content the target already held.
  merge_sources: '(shard_id INTEGER PRIMARY KEY, id INTEGER NOT NULL, copied INTEGER NOT NULL)',
  merge_workloads: '(shard_id INTEGER PRIMARY KEY, id INTEGER NOT NULL, new INTEGER NOT NULL)',
  merge_targets: '(shard_id INTEGER PRIMARY KEY, id INTEGER NOT NULL, new INTEGER NOT NULL)',
  // Shard trace key → target trace key (by trace id); `new` 0 for a trace the target held before.
  merge_traces: '(shard_id INTEGER PRIMARY KEY, id INTEGER NOT NULL, new INTEGER NOT NULL)',
  // The shard's segments the target holds (target keys): replace (1: target in progress, shard complete) or skip (0).
  merge_segments:
    '(trace_id INTEGER NOT NULL, id TEXT NOT NULL, replace INTEGER NOT NULL, PRIMARY KEY (trace_id, id)) WITHOUT ROWID',
  // The shard's spans settled for their fallback workload (target keys): merged waiting.
  merge_waiting: '(trace_id INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY (trace_id, id)) WITHOUT ROWID',
  // The target's settled spans in traces the shard continues: unsettled.
  merge_unsettle: '(trace_id INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY (trace_id, id)) WITHOUT ROWID',
  // (workload, day) pairs whose rollups must be recomputed, numbered in order for slicing.
  merge_touched:
    '(n INTEGER PRIMARY KEY, workload_id INTEGER NOT NULL, day INTEGER NOT NULL, UNIQUE (workload_id, day))',
};

function createTempTables(db: Store): void {
  for (const [name, def] of Object.entries(TEMP_TABLES)) {
    db.exec(`DROP TABLE IF EXISTS temp.${name}`);
    db.exec(`CREATE TEMP TABLE ${name} ${def}`);
  }
}

function dropTempTables(db: Store): void {
  for (const name of Object.keys(TEMP_TABLES)) db.exec(`DROP TABLE IF EXISTS temp.${name}`);
}

/** Touched (workload, day) pairs recomputed per statement: bounds the sort behind each aggregation. */
const TOUCHED_SLICE = 256;

/** A shard call that meets a target call of the same key, one of them inferred-only. */
interface InferredPair {
  shard_via: string;
  main_id: number;
  main_via: string;
  main_workload: number | null;
  main_start: number;
  main_target: number;
  segment_id: string;
  workload_id: number | null;
  start_time: number;
  end_time: number | null;
  target_id: number;
  http_status: number | null;
  outcome: string;
  error_type: string | null;
  source_id: number;
}

/** The merge of shards into one target, inside the caller's transaction. */
class Merger {
  private readonly touch: Database.Statement;
  private readonly trackTouched: boolean;
  private readonly rebuildAll: boolean;
  /** Secondary indexes of calls dropped for the copy (a bulk load), built by finish(). */
  private deferred: DeferredIndexes | undefined;
  /** True for a bulk load (see the constructor). */
  readonly bulk: boolean;
  private readonly targetHadSettled: boolean;
  /** The largest workload id before the merge: those above it are new. */
  private readonly workloadsBefore: number;
  /** Inputs by content: where first stored, and the other places seen. */
  private readonly inputs = new Map<string, OverlapInput>();
  /** Target source id → the shard it was copied from in this merge, and its path there. */
  private readonly copiedFrom = new Map<number, { database: string; path: string }>();

  constructor(
    private readonly db: Store,
    private readonly st: IngestStatements,
    rollups: 'auto' | 'rebuild' | 'touched',
    shardCalls: number,
    private readonly interrupted: () => boolean = () => false,
  ) {
    const stored = storedCalls(db);
    const empty = stored === 0;
    this.rebuildAll = rollups === 'rebuild' || (rollups === 'auto' && empty);
    this.trackTouched = !this.rebuildAll;
    // A bulk load when the shards add more calls than the target holds: the secondary indexes of
    // calls (what queries walk; nothing the merge reads) are dropped and built once, sorted, after
    // the last shard, inside the merge's transaction (8 shards of 2 GB of dumps into a new
    // target: 28.5 s instead of 33.9 s).
    this.bulk = bulkLoadPays(stored, shardCalls);
    if (this.bulk) this.deferred = dropCallIndexes(db);
    this.targetHadSettled = st.anySettled.get() !== undefined;
    this.workloadsBefore =
      (db.prepare('SELECT max(id) AS n FROM main.workloads').get() as { n: number | null }).n ?? 0;
    this.touch = db.prepare('INSERT OR IGNORE INTO temp.merge_touched (workload_id, day) VALUES (?, ?)');
  }

  /** Stops the merge (rolled back by mergeShards) once interrupted: called before every step. */
  private check(): void {
    if (this.interrupted()) throw new InterruptedError();
  }

  private run(sql: string, params: Record<string, unknown> | unknown[] = []): number {
    this.check();
    return this.db.prepare(sql).run(params).changes;
  }

  private one(sql: string, params: Record<string, unknown> | unknown[] = []): number {
    this.check();
    return (this.db.prepare(sql).get(params) as { n: number | null }).n ?? 0;
  }

  private touchCall(workloadId: number | null, startTime: number): void {
    if (workloadId === null || !this.trackTouched) return;
    this.touch.run(workloadId, dayOf(startTime));
  }

  /** The schema name the shard being merged is attached as. */
  private s = '';
  /** Of the shard being copied: it continues traces the target held (its rows may meet the target's). */
  private shared = false;
  /** Of the shard being copied: some of its segments are skipped (held complete by the target). */
  private skipped = false;
  /** Of the shard being copied: some of its spans are merged waiting. */
  private waiting = false;

  /** Merges the shard attached as `schema`. */
  mergeShard(info: ShardInfo, schema: string): ShardSummary {
    this.check();
    this.s = schema;
    try {
      for (const name of Object.keys(TEMP_TABLES)) {
        if (name !== 'merge_touched') this.db.exec(`DELETE FROM temp.${name}`);
      }
      const summary = this.copy(info);
      return summary;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB')
        throw new UserInputError(`merge: cannot read ${info.shard}: ${(err as Error).message} (${code})`);
      throw err;
    }
  }

  /**
   * One shard into the target, one step per table, in the order their ids depend on each other:
   * sources (and their problems), configurations, workloads, targets, traces, unprocessed ids,
   * segments, nodes, calls; then the target's settled spans in traces the shard continues.
   */
  private copy(info: ShardInfo): ShardSummary {
    const label = info.shard;
    const n = (table: string): number => this.one(`SELECT count(*) AS n FROM ${this.s}.${table}`);
    const shardCounts = {
      inputs: n('sources'),
      traces: n('traces'),
      segments: n('segments'),
      calls: n('calls'),
      unprocessed: n('unprocessed_traces'),
      workloads: n('workloads'),
    };
    const newInputs = this.copySources(label);
    this.copyProblems();
    this.copyConfigs();
    this.copyTrailEvents();
    const newWorkloads = this.copyWorkloads();
    this.copyTargets();
    const newTraces = this.copyTraces();
    this.copyUnprocessed();
    const { newSegments, replacedSegments, duplicateSegments } = this.copySegments();
    this.copyNodes();
    const { newCalls, replacedCalls, filledCalls } = this.copyCalls();
    // The target's spans settled for a fallback, in traces this shard continues: waiting again.
    if (this.targetHadSettled && this.shared) this.unsettle();

    return {
      shard: label,
      schemaVersion: info.schemaVersion,
      migrated: info.schemaVersion !== SCHEMA_VERSION,
      inputs: shardCounts.inputs,
      newInputs,
      traces: shardCounts.traces,
      newTraces,
      segments: shardCounts.segments,
      newSegments,
      replacedSegments,
      duplicateSegments,
      calls: shardCounts.calls,
      newCalls,
      replacedCalls,
      filledCalls,
      duplicateCalls: shardCounts.calls - newCalls - replacedCalls,
      unprocessedTraceIds: shardCounts.unprocessed,
      workloads: shardCounts.workloads,
      newWorkloads,
    };
  }

  /** Problems of the shard's inputs that were copied (an input already held keeps its own). */
  private copyProblems(): void {
    this.run(
      `INSERT INTO main.problems (source_id, path, message)
       SELECT m.id, p.path, p.message FROM ${this.s}.problems p JOIN temp.merge_sources m ON m.shard_id = p.source_id
       WHERE m.copied = 1`,
    );
  }

  /** Configuration facts: by (kind, key), the first stored kept, as ingest keeps them. */
  private copyConfigs(): void {
    this.run(
      `INSERT OR IGNORE INTO main.configs (kind, key, function, data, source_id)
       SELECT c.kind, c.key, c.function, c.data, m.id FROM ${this.s}.configs c
       JOIN temp.merge_sources m ON m.shard_id = c.source_id ORDER BY m.id, c.kind, c.key`,
    );
  }

  /** CloudTrail records: by eventID, once each, as ingest stores them. */
  private copyTrailEvents(): void {
    this.run(
      `INSERT OR IGNORE INTO main.trail_events
       SELECT e.event_id, e.time, e.event_source, e.event_name, e.region, e.account, e.principal, e.role, e.session,
         e.invoked_by, e.source_ip, e.user_agent, e.error_code, e.management, e.caller, e.caller_reason,
         e.request_parameters, e.resources, m.id
       FROM ${this.s}.trail_events e JOIN temp.merge_sources m ON m.shard_id = e.source_id ORDER BY m.id, e.event_id`,
    );
  }

  /** Targets: by signature, with their IAM permissions as the shard computed them. */
  private copyTargets(): void {
    this.run(
      `INSERT INTO temp.merge_targets (shard_id, id, new)
       SELECT s.id, coalesce(t.id, @base + sum(t.id IS NULL) OVER (ORDER BY s.id ROWS UNBOUNDED PRECEDING)), t.id IS NULL
       FROM ${this.s}.targets s LEFT JOIN main.targets t ON t.sig = s.sig`,
      { base: this.one('SELECT max(id) AS n FROM main.targets') },
    );
    this.run(
      `INSERT INTO main.targets (id, sig, service, service_name, operation, region, account, params, denied_action, denied_resource, mapping, mapping_reason)
       SELECT m.id, s.sig, s.service, s.service_name, s.operation, s.region, s.account, s.params, s.denied_action, s.denied_resource, s.mapping, s.mapping_reason
       FROM temp.merge_targets m JOIN ${this.s}.targets s ON s.id = m.shard_id WHERE m.new = 1 ORDER BY m.id`,
    );
    this.run(
      `INSERT OR IGNORE INTO main.target_permissions (target_id, action, resource, resource_type, resource_unknown, note)
       SELECT m.id, p.action, p.resource, p.resource_type, p.resource_unknown, p.note
       FROM temp.merge_targets m JOIN ${this.s}.target_permissions p ON p.target_id = m.shard_id WHERE m.new = 1`,
    );
  }

  /**
   * Traces: by trace id, once; the shard's new traces take keys after the target's, in the
   * shard's order (so the target's trace-keyed b-trees grow at their end). A later Trace object's
   * duration and limit flag win where it has them (as updateTrace). Returns the new traces.
   */
  private copyTraces(): number {
    this.run(
      `INSERT INTO temp.merge_traces (shard_id, id, new)
       SELECT s.id, coalesce(t.id, @base + sum(t.id IS NULL) OVER (ORDER BY s.id ROWS UNBOUNDED PRECEDING)), t.id IS NULL
       FROM ${this.s}.traces s LEFT JOIN main.traces t ON t.xray_id = s.xray_id`,
      { base: this.one('SELECT max(id) AS n FROM main.traces') },
    );
    // Traces the target held before this shard (`new` 0): the only ones where its segments and
    // calls may meet the shard's.
    const shared = this.one('SELECT count(*) AS n FROM temp.merge_traces WHERE new = 0') > 0;
    this.shared = shared;
    if (shared)
      this.run(
        `UPDATE main.traces SET duration = coalesce(s.duration, traces.duration), limit_exceeded = coalesce(s.limit_exceeded, traces.limit_exceeded)
         FROM temp.merge_traces x JOIN ${this.s}.traces s ON s.id = x.shard_id
         WHERE x.new = 0 AND traces.id = x.id AND (s.duration IS NOT NULL OR s.limit_exceeded IS NOT NULL)`,
      );
    return this.run(
      `INSERT INTO main.traces (id, xray_id, duration, limit_exceeded, source_id)
       SELECT x.id, s.xray_id, s.duration, s.limit_exceeded, m.id
       FROM temp.merge_traces x JOIN ${this.s}.traces s ON s.id = x.shard_id JOIN temp.merge_sources m ON m.shard_id = s.source_id
       WHERE x.new = 1 ORDER BY x.id`,
    );
  }

  /** Unprocessed ids: an id stored as a trace anywhere is not unprocessed. */
  private copyUnprocessed(): void {
    this.run(
      `INSERT OR IGNORE INTO main.unprocessed_traces (id, source_id)
       SELECT u.id, m.id FROM ${this.s}.unprocessed_traces u JOIN temp.merge_sources m ON m.shard_id = u.source_id
       WHERE NOT EXISTS (SELECT 1 FROM main.traces t WHERE t.xray_id = u.id)`,
    );
    this.run(
      `DELETE FROM main.unprocessed_traces WHERE EXISTS (SELECT 1 FROM ${this.s}.traces t WHERE t.xray_id = unprocessed_traces.id)`,
    );
  }

  /**
   * Segments: once. One the target holds already is replaced when the target's is in progress and
   * the shard's complete, else skipped (with its calls and nodes); spans the shard settled for
   * their fallback workload are merged waiting (workload NULL).
   */
  private copySegments(): { newSegments: number; replacedSegments: number; duplicateSegments: number } {
    const shared = this.shared;
    let replacedSegments = 0;
    let duplicateSegments = 0;
    if (shared) {
      this.run(
        `INSERT INTO temp.merge_segments (trace_id, id, replace)
         SELECT x.id, s.id, m.in_progress = 1 AND s.in_progress = 0
         FROM temp.merge_traces x JOIN ${this.s}.segments s ON s.trace_id = x.shard_id
         JOIN main.segments m ON m.trace_id = x.id AND m.id = s.id
         WHERE x.new = 0`,
      );
      replacedSegments = this.one('SELECT count(*) AS n FROM temp.merge_segments WHERE replace = 1');
      duplicateSegments = this.one('SELECT count(*) AS n FROM temp.merge_segments WHERE replace = 0');
    }
    this.skipped = duplicateSegments > 0;
    this.run(
      `INSERT INTO temp.merge_waiting (trace_id, id)
       SELECT x.id, s.id FROM ${this.s}.segments s JOIN temp.merge_traces x ON x.shard_id = s.trace_id
       WHERE s.fallback_id IS NOT NULL AND s.workload_id = s.fallback_id`,
    );
    this.waiting = this.one('SELECT count(*) AS n FROM temp.merge_waiting') > 0;
    if (replacedSegments > 0) this.replaceSegments();
    const newSegments = this.run(
      `INSERT OR IGNORE INTO main.segments (trace_id, id, type, parent_id, workload_id, name, origin, start_time, end_time, in_progress, source_id, fallback_id)
       SELECT x.id, s.id, s.type, s.parent_id,
         CASE WHEN s.fallback_id IS NOT NULL AND s.workload_id = s.fallback_id THEN NULL ELSE w.id END,
         s.name, s.origin, s.start_time, s.end_time, s.in_progress, src.id, f.id
       FROM ${this.s}.segments s JOIN temp.merge_traces x ON x.shard_id = s.trace_id
       JOIN temp.merge_sources src ON src.shard_id = s.source_id
       LEFT JOIN temp.merge_workloads w ON w.shard_id = s.workload_id
       LEFT JOIN temp.merge_workloads f ON f.shard_id = s.fallback_id`,
    );
    return { newSegments, replacedSegments, duplicateSegments };
  }

  /** Nodes (possible parents of independent subsegments): once, except those of skipped segments. */
  private copyNodes(): void {
    const skipped = this.skipped;
    this.run(
      `INSERT OR IGNORE INTO main.nodes (trace_id, id, segment_id)
       SELECT x.id, n.id, n.segment_id FROM ${this.s}.nodes n JOIN temp.merge_traces x ON x.shard_id = n.trace_id
       ${skipped ? 'WHERE NOT EXISTS (SELECT 1 FROM temp.merge_segments k WHERE k.trace_id = x.id AND k.id = n.segment_id AND k.replace = 0)' : ''}`,
    );
  }

  /**
   * `expr`, or NULL for a call of a span merged waiting (see copySegments). `x` is the shard
   * call's row of merge_traces: its target trace key.
   */
  private waitingCase(expr: string, c: string): string {
    return this.waiting
      ? `CASE WHEN EXISTS (SELECT 1 FROM temp.merge_waiting k WHERE k.trace_id = x.id AND k.id = ${c}.segment_id) THEN NULL ELSE ${expr} END`
      : expr;
  }

  /**
   * Calls: once, the first stored wins, except the calls that meet an inferred-only one, merged
   * as ingest merges them (row by row: see the top of this file); skipped segments' calls stay out.
   */
  private copyCalls(): { newCalls: number; replacedCalls: number; filledCalls: number } {
    const { shared, skipped } = this;
    let replacedCalls = 0;
    let filledCalls = 0;
    if (shared) {
      const pairs = this.db
        .prepare(
          `SELECT c.via AS shard_via, m.id AS main_id, m.via AS main_via, m.workload_id AS main_workload,
             m.start_time AS main_start, m.target_id AS main_target,
             c.segment_id, ${this.waitingCase('w.id', 'c')} AS workload_id, c.start_time, c.end_time, t.id AS target_id,
             c.http_status, c.outcome, c.error_type, src.id AS source_id
           FROM temp.merge_traces x JOIN ${this.s}.calls c ON c.trace_id = x.shard_id
           JOIN main.calls m ON m.trace_id = x.id AND m.sub_id = c.sub_id
           JOIN temp.merge_targets t ON t.shard_id = c.target_id
           JOIN temp.merge_sources src ON src.shard_id = c.source_id
           LEFT JOIN temp.merge_workloads w ON w.shard_id = c.workload_id
           WHERE x.new = 0 AND (c.via = 'inferred') <> (m.via = 'inferred')
             ${skipped ? 'AND NOT EXISTS (SELECT 1 FROM temp.merge_segments k WHERE k.trace_id = x.id AND k.id = c.segment_id AND k.replace = 0)' : ''}`,
        )
        .all() as InferredPair[];
      for (const p of pairs) {
        if (p.shard_via === 'inferred') filledCalls += this.fillInCall(p);
        else replacedCalls += this.replaceInferred(p);
      }
    }

    // Every other call: once, the first stored wins. In the order of the unique (trace, sub)
    // key, read from the shard's own index: the target's index then grows in runs instead of
    // at random places (2 GB in 8 shards: 28.5 -> 24.3 s). Call ids are surrogates: they only
    // order calls of the very same start time, an order no command promises (and which differs
    // from a single ingest's anyway once shards interleave).
    const firstNew = this.one('SELECT max(id) AS n FROM main.calls') + 1;
    const newCalls = this.run(
      `INSERT OR IGNORE INTO main.calls (trace_id, sub_id, segment_id, workload_id, start_time, end_time, target_id, http_status, outcome, error_type, via, source_id)
       SELECT x.id, c.sub_id, c.segment_id, ${this.waitingCase('w.id', 'c')}, c.start_time, c.end_time, t.id, c.http_status, c.outcome, c.error_type, c.via, src.id
       FROM ${this.s}.calls c JOIN temp.merge_traces x ON x.shard_id = c.trace_id
       JOIN temp.merge_targets t ON t.shard_id = c.target_id
       JOIN temp.merge_sources src ON src.shard_id = c.source_id
       LEFT JOIN temp.merge_workloads w ON w.shard_id = c.workload_id
       ${skipped ? 'WHERE NOT EXISTS (SELECT 1 FROM temp.merge_segments k WHERE k.trace_id = x.id AND k.id = c.segment_id AND k.replace = 0)' : ''}
       ORDER BY c.trace_id, c.sub_id`,
    );
    if (this.trackTouched && newCalls > 0)
      this.run(
        `INSERT OR IGNORE INTO temp.merge_touched (workload_id, day)
         SELECT DISTINCT c.workload_id, ${daySql('c.start_time')} FROM main.calls c NOT INDEXED
         WHERE c.id >= ? AND c.workload_id IS NOT NULL`,
        [firstNew],
      );
    return { newCalls, replacedCalls, filledCalls };
  }

  /** Maps the shard's sources to the target's, copying those whose content is new. */
  private copySources(label: string): number {
    const base = this.one('SELECT max(id) AS n FROM main.sources');
    this.run(
      `INSERT INTO temp.merge_sources (shard_id, id, copied)
       SELECT s.id, m.id, 0 FROM ${this.s}.sources s
       JOIN (SELECT sha256, size, min(id) AS id FROM main.sources WHERE sha256 <> '' GROUP BY sha256, size) m
         ON m.sha256 = s.sha256 AND m.size = s.size`,
    );
    const copied = this.run(
      `INSERT INTO temp.merge_sources (shard_id, id, copied)
       SELECT s.id, @base + row_number() OVER (ORDER BY s.id), 1 FROM ${this.s}.sources s
       WHERE s.id NOT IN (SELECT shard_id FROM temp.merge_sources)`,
      { base },
    );
    const note = ` [merged from ${label}]`;
    const also = ` [also in ${label}]`;
    // The overlap, as the target stored it before this shard's note.
    const rows = this.db
      .prepare(
        `SELECT s.sha256, s.size, s.path AS shard_path, m.id, m.path AS stored_path
         FROM temp.merge_sources k JOIN ${this.s}.sources s ON s.id = k.shard_id JOIN main.sources m ON m.id = k.id
         WHERE k.copied = 0 ORDER BY s.id`,
      )
      .all() as { sha256: string; size: number; shard_path: string; id: number; stored_path: string }[];
    for (const r of rows) {
      let entry = this.inputs.get(r.sha256);
      if (!entry) {
        entry = {
          sha256: r.sha256,
          size: r.size,
          stored: this.copiedFrom.get(r.id) ?? { database: 'target', path: r.stored_path },
          alsoIn: [],
        };
        this.inputs.set(r.sha256, entry);
      }
      entry.alsoIn.push({ database: label, path: r.shard_path });
    }
    this.run(
      `INSERT INTO main.sources (id, path, sha256, size, shape, ingested_at, documents, traces, segments, calls, new_segments, new_calls, problems, elapsed_ms)
       SELECT k.id, s.path || @note, s.sha256, s.size, s.shape, s.ingested_at, s.documents, s.traces, s.segments, s.calls,
         s.new_segments, s.new_calls, s.problems, s.elapsed_ms
       FROM temp.merge_sources k JOIN ${this.s}.sources s ON s.id = k.shard_id WHERE k.copied = 1 ORDER BY k.id`,
      { note },
    );
    for (const r of this.db
      .prepare(
        `SELECT k.id, s.path FROM temp.merge_sources k JOIN ${this.s}.sources s ON s.id = k.shard_id WHERE k.copied = 1`,
      )
      .all() as { id: number; path: string }[])
      this.copiedFrom.set(r.id, { database: label, path: r.path });
    this.run(
      `UPDATE main.sources SET path = path || @also
       WHERE id IN (SELECT id FROM temp.merge_sources WHERE copied = 0) AND instr(path, @note) = 0 AND instr(path, @also) = 0`,
      { note, also },
    );
    return copied;
  }

  /** Maps the shard's workloads to the target's by key, adding new ones and merging attributes. */
  private copyWorkloads(): number {
    this.run(
      `INSERT INTO temp.merge_workloads (shard_id, id, new)
       SELECT s.id, coalesce(w.id, @base + sum(w.id IS NULL) OVER (ORDER BY s.id ROWS UNBOUNDED PRECEDING)), w.id IS NULL
       FROM ${this.s}.workloads s LEFT JOIN main.workloads w ON w.key = s.key`,
      { base: this.one('SELECT max(id) AS n FROM main.workloads') },
    );
    const added = this.run(
      `INSERT INTO main.workloads (id, key, kind, name, arn, account, region, attrs)
       SELECT m.id, s.key, s.kind, s.name, s.arn, s.account, s.region, s.attrs
       FROM temp.merge_workloads m JOIN ${this.s}.workloads s ON s.id = m.shard_id WHERE m.new = 1 ORDER BY m.id`,
    );
    // As ingest merges attributes (store/write/writer.ts mergeAttrs): the lists (qualifiers, formats, triggers) are
    // united and sorted; any other attribute keeps the value first stored, the shard's new ones
    // are added after; account, region and ARN are filled in where unknown.
    const known = `FROM temp.merge_workloads m JOIN ${this.s}.workloads s ON s.id = m.shard_id
       WHERE m.new = 0 AND w.id = m.id AND json_valid(w.attrs) AND json_valid(s.attrs)`;
    this.run(
      `UPDATE main.workloads AS w SET
         attrs = json_patch(w.attrs, json_patch(s.attrs, w.attrs)),
         account = coalesce(w.account, s.account), region = coalesce(w.region, s.region), arn = coalesce(w.arn, s.arn)
       ${known}
         AND (w.attrs <> s.attrs OR (w.account IS NULL AND s.account IS NOT NULL) OR (w.region IS NULL AND s.region IS NOT NULL)
              OR (w.arn IS NULL AND s.arn IS NOT NULL))`,
    );
    for (const list of ['qualifiers', 'formats', 'triggers']) {
      this.run(
        `UPDATE main.workloads AS w SET attrs = json_set(w.attrs, '$.${list}', (
           SELECT json_group_array(value ORDER BY value) FROM (
             SELECT value FROM json_each(w.attrs, '$.${list}') UNION SELECT value FROM json_each(s.attrs, '$.${list}'))))
         ${known} AND json_type(s.attrs, '$.${list}') = 'array' AND json_type(w.attrs, '$.${list}') = 'array'`,
      );
    }
    return added;
  }

  /** The target's in-progress segments the shard has complete: their calls and nodes go, the row is the shard's. */
  private replaceSegments(): void {
    if (this.trackTouched)
      this.run(
        `INSERT OR IGNORE INTO temp.merge_touched (workload_id, day)
         SELECT c.workload_id, ${daySql('c.start_time')} FROM temp.merge_segments k
         JOIN main.calls c ON c.trace_id = k.trace_id AND c.segment_id = k.id
         WHERE k.replace = 1 AND c.workload_id IS NOT NULL`,
      );
    this.run(
      `DELETE FROM main.calls WHERE id IN (
         SELECT c.id FROM temp.merge_segments k JOIN main.calls c ON c.trace_id = k.trace_id AND c.segment_id = k.id
         WHERE k.replace = 1)`,
    );
    this.run(
      `DELETE FROM main.nodes WHERE trace_id IN (SELECT trace_id FROM temp.merge_segments WHERE replace = 1)
         AND EXISTS (SELECT 1 FROM temp.merge_segments k WHERE k.trace_id = nodes.trace_id AND k.id = nodes.segment_id AND k.replace = 1)`,
    );
    this.run(
      `UPDATE main.segments SET type = s.type, parent_id = s.parent_id,
         workload_id = CASE WHEN s.fallback_id IS NOT NULL AND s.workload_id = s.fallback_id THEN NULL ELSE w.id END,
         name = s.name, origin = s.origin, start_time = s.start_time, end_time = s.end_time, in_progress = s.in_progress,
         source_id = src.id, fallback_id = f.id
       FROM temp.merge_segments k JOIN temp.merge_traces x ON x.id = k.trace_id AND x.new = 0
         JOIN ${this.s}.segments s ON s.trace_id = x.shard_id AND s.id = k.id
         JOIN temp.merge_sources src ON src.shard_id = s.source_id
         LEFT JOIN temp.merge_workloads w ON w.shard_id = s.workload_id
         LEFT JOIN temp.merge_workloads f ON f.shard_id = s.fallback_id
       WHERE k.replace = 1 AND segments.trace_id = k.trace_id AND segments.id = k.id`,
    );
  }

  /** The target's call, known from its caller, filled in by the shard's inferred segment. Returns 1 when it changed. */
  private fillInCall(p: InferredPair): number {
    const merged = targetFields(this.st, p.main_target);
    fillIn(merged, targetFields(this.st, p.target_id));
    const id = storeTarget(this.st, merged);
    if (id === p.main_target) return 0;
    this.st.setCallTarget.run(id, p.main_id);
    // Its IAM actions may have changed: workload_day_actions must be recomputed.
    this.touchCall(p.main_workload, p.main_start);
    return 1;
  }

  /** The target's inferred-only call replaced by the shard's real one, filled in by what the inferred segment said. */
  private replaceInferred(p: InferredPair): number {
    const merged = targetFields(this.st, p.target_id);
    fillIn(merged, targetFields(this.st, p.main_target));
    const id = storeTarget(this.st, merged);
    this.st.replaceCall.run(
      p.segment_id,
      p.workload_id,
      p.start_time,
      p.end_time,
      id,
      p.http_status,
      p.outcome,
      p.error_type,
      p.shard_via,
      p.source_id,
      p.main_id,
    );
    this.touchCall(p.main_workload, p.main_start);
    this.touchCall(p.workload_id, p.start_time);
    return 1;
  }

  /** Unsettles the target's settled spans (and their calls) in traces the shard continues. */
  private unsettle(): void {
    this.run(
      `INSERT INTO temp.merge_unsettle (trace_id, id)
       SELECT g.trace_id, g.id FROM temp.merge_traces x JOIN main.segments g ON g.trace_id = x.id
       WHERE x.new = 0 AND g.fallback_id IS NOT NULL AND g.workload_id = g.fallback_id`,
    );
    if (this.one('SELECT count(*) AS n FROM temp.merge_unsettle') === 0) return;
    const calls = `SELECT c.id, c.workload_id, c.start_time FROM temp.merge_unsettle u
       JOIN main.calls c ON c.trace_id = u.trace_id AND c.segment_id = u.id`;
    if (this.trackTouched)
      this.run(
        `INSERT OR IGNORE INTO temp.merge_touched (workload_id, day)
         SELECT workload_id, ${daySql('start_time')} FROM (${calls}) WHERE workload_id IS NOT NULL`,
      );
    this.run(`UPDATE main.calls SET workload_id = NULL WHERE id IN (SELECT id FROM (${calls}))`);
    this.run(
      `UPDATE main.segments SET workload_id = NULL
       WHERE (trace_id, id) IN (SELECT trace_id, id FROM temp.merge_unsettle)`,
    );
  }

  /** After the last shard: attribution across shards, fallbacks settled, rollups brought up to date. */
  finish(): {
    attributedCalls: number;
    newWorkloads: number;
    fallbacks: SettledFallbacks;
    rollups: MergeSummary['rollups'];
  } {
    this.check();
    if (this.deferred) buildIndexes(this.db, this.deferred);
    // Ingest's own statements, as InputWriter.finish and the end of an ingest run use them.
    for (let i = 0; i < 64; i++) if (this.st.attributeSubsegments.run().changes === 0) break;
    const attributedCalls = attributeWaitingCalls(this.st, (w, t) => this.touchCall(w, t));
    const fallbacks = settleFallbacks(this.db, this.st);
    let rollups: MergeSummary['rollups'];
    if (this.rebuildAll) {
      rebuildRollups(this.db);
      rollups = { method: 'rebuilt', days: count(this.db, 'SELECT count(*) AS n FROM main.workload_days') };
    } else {
      const days = count(this.db, 'SELECT count(*) AS n FROM temp.merge_touched');
      for (let lo = 0; lo < days; lo += TOUCHED_SLICE) {
        this.run(
          'INSERT OR IGNORE INTO temp.touched_days (workload_id, day) SELECT workload_id, day FROM temp.merge_touched WHERE n > ? AND n <= ?',
          [lo, lo + TOUCHED_SLICE],
        );
        for (const stmt of this.st.rebuildTouchedDays) stmt.run();
        this.st.clearTouched.run();
      }
      rollups = { method: 'touched', days };
    }
    return {
      attributedCalls,
      newWorkloads: this.one('SELECT count(*) AS n FROM main.workloads WHERE id > ?', [this.workloadsBefore]),
      fallbacks,
      rollups,
    };
  }

  /** Inputs found in more than one database, by content. */
  overlap(): OverlapInput[] {
    return [...this.inputs.values()];
  }
}
