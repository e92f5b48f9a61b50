/**
 * Writes extracted documents into the store, exactly once: a segment already stored complete is
 * skipped, a complete segment replaces an in-progress one, a real SDK call replaces a call known
 * only from an inferred segment, and an inferred segment otherwise only fills in what its
 * calling subsegment lacked. All writes of one input happen in one transaction.
 */
import { mapCall, type MappingResult } from '../iam/index.js';
import type { Store } from '../store/db.js';
import { prepareIngest, type IngestStatements } from '../store/statements.js';
import {
  extractDoc,
  type CallParams,
  type CallRow,
  type DataProblem,
  type ExtractedDoc,
  type Workload,
} from './extract.js';
import type { DumpItem, SegmentDoc } from './shapes.js';

/** Counts for one input. */
export interface WriteCounts {
  documents: number;
  traces: number;
  newTraces: number;
  segments: number;
  calls: number;
  newSegments: number;
  newCalls: number;
  duplicateSegments: number;
  unprocessedTraceIds: number;
  problems: number;
}

/** Keeps at most this many problems per input in the database (all are counted). */
const MAX_STORED_PROBLEMS = 100;

/** Writes the items of one input inside the transaction its caller opened. */
export class InputWriter {
  readonly counts: WriteCounts = {
    documents: 0,
    traces: 0,
    newTraces: 0,
    segments: 0,
    calls: 0,
    newSegments: 0,
    newCalls: 0,
    duplicateSegments: 0,
    unprocessedTraceIds: 0,
    problems: 0,
  };
  readonly problems: DataProblem[] = [];
  private readonly st: IngestStatements;
  private readonly principals = new Map<string, { id: number; attrs: string }>();
  private readonly targets = new Map<string, number>();
  /** `principalId|day` pairs whose calls changed. */
  private readonly touched = new Set<string>();
  readonly sourceId: number;

  constructor(
    private readonly db: Store,
    path: string,
    statements?: IngestStatements,
  ) {
    this.st = statements ?? prepareIngest(db);
    this.sourceId = Number(this.st.insertSource.run({ path, now: new Date().toISOString() }).lastInsertRowid);
  }

  /** Writes one item read from the input. */
  write(item: DumpItem, where: string): void {
    switch (item.kind) {
      case 'unprocessed':
        for (const id of item.ids) {
          // An id already stored is not missing any more.
          if (this.st.traceExists.get(id) === undefined) this.st.insertUnprocessed.run(id, this.sourceId);
          this.counts.unprocessedTraceIds++;
        }
        return;
      case 'trace':
        if (item.id !== undefined) {
          this.trace(
            item.id,
            item.duration ?? null,
            item.limitExceeded === undefined ? null : item.limitExceeded ? 1 : 0,
            true,
          );
          this.st.deleteUnprocessed.run(item.id);
        } else {
          this.counts.traces++;
        }
        this.writeDocs(item.segments, item.id, where);
        return;
      case 'segment':
        // Loose documents are where independent subsegments come from: keep their node ids.
        this.writeDocs([item.doc], undefined, where, true);
        return;
    }
  }

  private writeDocs(docs: SegmentDoc[], traceId: string | undefined, where: string, keepNodes = false): void {
    const extracted: ExtractedDoc[] = [];
    for (let i = 0; i < docs.length; i++) {
      const before = this.problems.length;
      const ex = extractDoc(
        docs[i] as SegmentDoc,
        { traceId, where: docs.length > 1 ? `${where}, segment ${i + 1}` : where },
        this.problems,
      );
      this.counts.problems += this.problems.length - before;
      if (ex) extracted.push(ex);
    }
    this.counts.documents += docs.length;
    // Inferred segments first fill in calls of this same batch, in memory.
    const sdkCalls = new Map<string, CallRow>();
    for (const ex of extracted) {
      if (ex.type === 'inferred') continue;
      for (const c of ex.calls) sdkCalls.set(`${ex.traceId}\u0000${c.subId}`, c);
    }
    const leftover: ExtractedDoc[] = [];
    for (const ex of extracted) {
      if (ex.type !== 'inferred') continue;
      const call = ex.calls[0];
      const caller = call ? sdkCalls.get(`${ex.traceId}\u0000${call.subId}`) : undefined;
      if (call && caller) fillIn(caller, call);
      leftover.push(ex);
    }
    // Node ids matter only where an independent subsegment may need them (see the schema).
    const nodes =
      keepNodes ||
      extracted.some((ex) => ex.type === 'subsegment') ||
      (extracted[0] !== undefined && this.st.awaitsParent.get(extracted[0].traceId) !== undefined);
    for (const ex of extracted) {
      if (ex.type === 'inferred') continue;
      if (traceId === undefined) this.trace(ex.traceId, null, null, false);
      this.writeDoc(ex, nodes);
    }
    for (const ex of leftover) {
      if (traceId === undefined) this.trace(ex.traceId, null, null, false);
      // Inferred segments are not stored as documents: what they say is idempotent on the call.
      const call = ex.calls[0];
      if (!call) continue;
      if (sdkCalls.has(`${ex.traceId}\u0000${call.subId}`)) continue; // filled in above
      const existing = this.st.findCall.get(ex.traceId, call.subId) as StoredCall | undefined;
      if (existing) {
        if (existing.via === 'inferred') continue; // already known from this inferred segment
        // The caller is stored: the inferred segment only fills in what it did not record.
        const merged = storedToRow(existing, call);
        fillIn(merged, call);
        const targetId = this.targetId(merged);
        if (targetId !== existing.target_id) {
          this.st.setCallTarget.run(targetId, existing.id);
          // Its IAM actions may have changed: principal_day_actions must be recomputed.
          this.touch(existing.principal_id, existing.start_time);
        }
        continue;
      }
      // The calling subsegment is not (yet) in the store: the inferred segment is the call.
      this.counts.calls++;
      this.storeCall(ex, call, null);
    }
  }

  /**
   * Records a trace id. Trace objects count once each; for loose segment documents only ids not
   * stored before count, so that a trace split over many documents is one trace.
   */
  private trace(
    id: string,
    duration: number | null,
    limitExceeded: number | null,
    traceObject: boolean,
  ): void {
    const inserted = this.st.insertTrace.run(id, duration, limitExceeded, this.sourceId).changes > 0;
    if (inserted) this.counts.newTraces++;
    else if (duration !== null || limitExceeded !== null)
      this.st.updateTrace.run(duration, limitExceeded, id);
    if (inserted || traceObject) this.counts.traces++;
  }

  /** Returns false when the document was already stored (complete). */
  private writeSegmentRow(ex: ExtractedDoc, principalId: number | null): boolean {
    this.counts.segments++;
    const existing = this.st.findSegment.get(ex.traceId, ex.id) as { in_progress: number } | undefined;
    const row = {
      trace_id: ex.traceId,
      id: ex.id,
      type: ex.type,
      parent_id: ex.parentId,
      principal_id: principalId,
      name: ex.name,
      origin: ex.origin,
      start_time: ex.startTime,
      end_time: ex.endTime,
      in_progress: ex.inProgress ? 1 : 0,
      source_id: this.sourceId,
    };
    if (existing) {
      if (existing.in_progress === 0 || ex.inProgress) {
        this.counts.duplicateSegments++;
        return false;
      }
      // A complete document replaces the in-progress one, calls and all.
      for (const r of this.st.deleteSegmentCalls.all(ex.traceId, ex.id) as {
        principal_id: number | null;
        start_time: number;
      }[]) {
        this.touch(r.principal_id, r.start_time);
      }
      this.st.deleteSegmentNodes.run(ex.traceId, ex.id);
      this.st.replaceSegment.run(row);
    } else {
      this.st.insertSegment.run(row);
      this.counts.newSegments++;
    }
    return true;
  }

  private writeDoc(ex: ExtractedDoc, nodes: boolean): void {
    const principalId = ex.workload ? this.principal(ex.workload) : null;
    if (!this.writeSegmentRow(ex, principalId)) return;
    if (nodes) for (const n of ex.nodeIds) this.st.insertNode.run(ex.traceId, n, ex.id);
    for (const c of ex.calls) {
      this.counts.calls++;
      this.storeCall(ex, c, principalId);
    }
  }

  /** Stores a call once; a real SDK call replaces one known only from an inferred segment. */
  private storeCall(ex: ExtractedDoc, c: CallRow, principalId: number | null): void {
    const row = {
      trace_id: ex.traceId,
      sub_id: c.subId,
      segment_id: ex.id,
      principal_id: principalId,
      start_time: c.startTime,
      end_time: c.endTime,
      target_id: this.targetId(c),
      http_status: c.httpStatus,
      outcome: c.outcome,
      error_type: c.errorType,
      via: c.via,
      source_id: this.sourceId,
    };
    if (this.st.insertCall.run(row).changes > 0) {
      this.counts.newCalls++;
      this.touch(principalId, c.startTime);
      return;
    }
    if (c.via === 'inferred') return;
    const existing = this.st.findCall.get(ex.traceId, c.subId) as StoredCall | undefined;
    if (!existing || existing.via !== 'inferred') return; // first wins
    const merged: CallRow = { ...c };
    fillIn(merged, storedToRow(existing, c));
    this.st.replaceCall.run({ ...row, target_id: this.targetId(merged), id: existing.id });
    this.touch(existing.principal_id, existing.start_time);
    this.touch(principalId, c.startTime);
  }

  /** The id of the call's target, stored (with its IAM permissions) on first sight. */
  private targetId(c: CallRow): number {
    const params = c.params ? canonicalParams(c.params) : null;
    const sig = JSON.stringify([
      c.service,
      c.serviceName,
      c.operation,
      c.region,
      c.account,
      params,
      c.deniedAction,
      c.deniedResource,
    ]);
    const cached = this.targets.get(sig);
    if (cached !== undefined) return cached;
    let id = (this.st.findTarget.get(sig) as { id: number } | undefined)?.id;
    if (id === undefined) {
      const mapping = mapTarget(c);
      id = Number(
        this.st.insertTarget.run({
          sig,
          service: c.service,
          service_name: c.serviceName,
          operation: c.operation,
          region: c.region,
          account: c.account,
          params,
          denied_action: c.deniedAction,
          denied_resource: c.deniedResource,
          mapping: mapping.status,
          mapping_reason: mapping.status === 'mapped' ? null : mapping.reason,
        }).lastInsertRowid,
      );
      if (mapping.status === 'mapped') {
        for (const p of mapping.permissions) {
          this.st.insertPermission.run(
            id,
            p.action,
            p.resource,
            p.resourceType ?? null,
            p.resourceUnknown ? 1 : 0,
            p.note ?? null,
          );
        }
      }
    }
    // Bounded: S3 object keys can make nearly every call its own target.
    if (this.targets.size >= 50_000) this.targets.clear();
    this.targets.set(sig, id);
    return id;
  }

  /** Notes a (workload, day) whose daily summary must be recomputed. */
  private touch(principalId: number | null, startTime: number): void {
    if (principalId === null) return;
    this.touched.add(`${principalId}|${Math.floor(startTime / 86400)}`);
  }

  private principal(w: Workload): number {
    const attrs = JSON.stringify(w.attrs);
    const cached = this.principals.get(w.key);
    if (cached && (cached.attrs === attrs || attrs === '{}')) return cached.id;
    const found = this.st.findPrincipal.get(w.key) as { id: number; attrs: string } | undefined;
    if (!found) {
      const id = Number(
        this.st.insertPrincipal.run({
          key: w.key,
          kind: w.kind,
          name: w.name,
          arn: w.arn,
          account: w.account,
          region: w.region,
          attrs,
        }).lastInsertRowid,
      );
      this.principals.set(w.key, { id, attrs });
      return id;
    }
    const merged = mergeAttrs(found.attrs, w.attrs);
    if (merged !== found.attrs) {
      this.st.updatePrincipal.run({
        id: found.id,
        attrs: merged,
        account: w.account,
        region: w.region,
        arn: w.arn,
      });
    }
    this.principals.set(w.key, { id: found.id, attrs });
    return found.id;
  }

  /** Joins independent subsegments and inferred-only calls to their workloads; then records the source. */
  finish(meta: { sha256: string; size: number; shape: string; elapsedMs: number }): void {
    // Chains of independent subsegments resolve one level per pass.
    for (let i = 0; i < 64; i++) {
      if (this.st.attributeSubsegments.run().changes === 0) break;
    }
    for (const stmt of [this.st.attributeCalls, this.st.attributeInferredCalls]) {
      for (const r of stmt.all() as { principal_id: number | null; start_time: number }[])
        this.touch(r.principal_id, r.start_time);
    }
    // principal_day_actions is maintained with principal_days (src/query/principals.ts reads both).
    const deleteDayActions =
      this.touched.size > 0
        ? this.db.prepare('DELETE FROM principal_day_actions WHERE principal_id = ? AND day = ?')
        : undefined;
    const rebuildDayActions =
      this.touched.size > 0
        ? this.db.prepare(
            `INSERT INTO principal_day_actions (principal_id, day, action, calls)
             SELECT @principal_id, @day, tp.action, count(*)
             FROM calls c JOIN target_permissions tp ON tp.target_id = c.target_id
             WHERE c.principal_id = @principal_id AND c.start_time >= @day * 86400.0 AND c.start_time < (@day + 1) * 86400.0
             GROUP BY tp.action`,
          )
        : undefined;
    for (const key of this.touched) {
      const [p, d] = key.split('|').map(Number) as [number, number];
      this.st.deletePrincipalDay.run(p, d);
      this.st.rebuildPrincipalDay.run({ principal_id: p, day: d });
      deleteDayActions?.run(p, d);
      rebuildDayActions?.run({ principal_id: p, day: d });
    }
    for (const p of this.problems.slice(0, MAX_STORED_PROBLEMS))
      this.st.insertProblem.run(this.sourceId, p.path, p.message);
    this.st.updateSource.run({
      id: this.sourceId,
      sha256: meta.sha256,
      size: meta.size,
      shape: meta.shape,
      documents: this.counts.documents,
      traces: this.counts.traces,
      segments: this.counts.segments,
      calls: this.counts.calls,
      new_segments: this.counts.newSegments,
      new_calls: this.counts.newCalls,
      problems: this.counts.problems,
      elapsed_ms: Math.round(meta.elapsedMs),
    });
  }
}

/** Copies into `caller` what an inferred segment knows and the caller did not record. */
function fillIn(caller: CallRow, inferred: CallRow): void {
  if (caller.service === '') caller.service = inferred.service;
  caller.operation ??= inferred.operation;
  caller.region ??= inferred.region;
  caller.account ??= inferred.account;
  if (inferred.params) caller.params = { ...inferred.params, ...(caller.params ?? {}) };
}

function mergeAttrs(stored: string, add: Record<string, string>): string {
  let base: Record<string, unknown> = {};
  try {
    base = JSON.parse(stored) as Record<string, unknown>;
  } catch {
    base = {};
  }
  let changed = false;
  for (const [k, v] of Object.entries(add)) {
    // Qualifiers (aliases, versions) accumulate: a function is one workload whatever alias ran it.
    const key = k === 'qualifier' ? 'qualifiers' : k;
    const prev = base[key];
    if (key === 'qualifiers') {
      const list = Array.isArray(prev) ? (prev as string[]) : [];
      if (!list.includes(v)) {
        base[key] = [...list, v].sort();
        changed = true;
      }
    } else if (prev === undefined) {
      base[key] = v;
      changed = true;
    }
  }
  return changed ? JSON.stringify(base) : stored;
}

/** A stored call with its target's fields, as `findCall` returns it. */
interface StoredCall {
  id: number;
  via: string;
  principal_id: number | null;
  start_time: number;
  target_id: number;
  service: string;
  service_name: string;
  operation: string | null;
  region: string | null;
  account: string | null;
  params: string | null;
  denied_action: string | null;
  denied_resource: string | null;
}

/** A stored call back as a CallRow (outcome and times from `like`, which describes the same call). */
function storedToRow(s: StoredCall, like: CallRow): CallRow {
  let params: CallParams | null = null;
  try {
    params = s.params ? (JSON.parse(s.params) as CallParams) : null;
  } catch {
    params = null;
  }
  return {
    ...like,
    service: s.service,
    serviceName: s.service_name,
    operation: s.operation,
    region: s.region,
    account: s.account,
    params,
    deniedAction: s.denied_action,
    deniedResource: s.denied_resource,
  };
}

/** Parameters as stored: keys sorted, so that equal parameters give equal targets. */
function canonicalParams(p: CallParams): string {
  const out: CallParams = {};
  for (const k of Object.keys(p).sort()) out[k] = p[k] as string | string[];
  return JSON.stringify(out);
}

/** The IAM permissions a call needed (src/iam), or why there are none. */
function mapTarget(c: CallRow): MappingResult {
  if (c.service === '') return { status: 'unmapped', reason: `service "${c.serviceName}" not recognised` };
  if (c.operation === null) {
    return {
      status: 'unmapped',
      reason:
        'operation not recorded: the client is not instrumented (plain-HTTP capture); wrap it with the X-Ray SDK to record operations',
    };
  }
  const params: Record<string, unknown> = { ...(c.params ?? {}) };
  if (c.deniedAction) params.denied_action = c.deniedAction;
  if (c.deniedResource) params.denied_resource = c.deniedResource;
  return mapCall({
    service: c.service,
    operation: c.operation,
    region: c.region,
    account: c.account,
    params,
  });
}
