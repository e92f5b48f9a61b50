/**
 * Writes one input's items into the store, exactly once: a segment already stored complete is
 * skipped, a complete segment replaces an in-progress one, a real SDK call replaces a call known
 * only from an inferred segment, and an inferred segment otherwise only fills in what its
 * calling subsegment lacked (docs/store.md states every rule and where merge keeps it too). All
 * writes of one input happen inside one savepoint of the run's transaction (see index.ts).
 */
import { BoundedTable, type TableLimits } from '../../shared/bounded.js';
import { dayOf } from '../../shared/time.js';
import type { Store } from '../db.js';
import {
  attributeWaitingCalls,
  rebuildDays,
  settleFallbacks,
  storeTarget,
  targetFields,
  type SettledFallbacks,
} from './attribute.js';
import {
  CALL,
  DOC,
  type ItemProblem,
  type PreparedItem,
  type TrailEventFields,
  type TrailProblemFields,
  type WireCall,
  type WireDoc,
  type WorkloadFields,
} from './items.js';
import { prepareIngest, type CallValues, type IngestStatements } from './sql.js';
import { WriteSession } from './session.js';
import { fillIn, storedFields, type TargetFields } from './targets.js';

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
  /** Complete documents that replaced an in-progress one. */
  replacedSegments: number;
  /**
   * OpenTelemetry spans whose resource names their workload: read (counted in `segments`) but
   * stored only as their calls, never as a segment row. With the new, already stored and
   * replaced ones, they add up to `segments`.
   */
  callOnlySpans: number;
  unprocessedTraceIds: number;
  /** CloudTrail records read as evidence (problems apart), and those new to the store. */
  trailEvents: number;
  newTrailEvents: number;
  problems: number;
}

/**
 * New calls added to the rollups at a time: bounds the sort and statement journal behind each
 * addition. Larger chunks upsert the same days less often, but 131,072 measured no faster end to
 * end on 256 MB and put a 1 GB single-document ingest at 203 MB peak RSS (189 MB with this).
 */
const NEW_CALLS_CHUNK = 32_768;
/** Workloads of one input remembered by the writer (a cache: the store has them all). */
const MAX_CACHED_WORKLOADS: TableLimits = { entries: 10_000, bytes: 4 * 1024 * 1024 };
/** Keeps at most this many problems per input in the database (all are counted). */
const MAX_STORED_PROBLEMS = 100;
/** Keeps at most this many problems per input in memory for the summary (all are counted). */
const MAX_KEPT_PROBLEMS = 1000;

/**
 * Inputs are committed in groups: each input is a savepoint inside the group's transaction (a
 * rejected input is rolled back alone), and the group commits once it holds this many bytes or
 * has run this long. A commit per input cost more than parsing a typical 25 KB batch file:
 * 1,457 such files ingested at 7 MB/s with one transaction each.
 */
const GROUP_BYTES = 64 * 1024 * 1024;
const GROUP_MS = 2000;

/** What an input's source row records when it is kept. */
export interface InputMeta {
  sha256: string;
  size: number;
  shape: string;
  elapsedMs: number;
}

/**
 * Opens a writing run on `store`: the one door through which ingest writes. Each input gets its
 * own {@link InputWriter} ({@link StoreWriter.openInput}), kept or abandoned whole; the run ends
 * with {@link StoreWriter.finish} (or {@link StoreWriter.salvage} on failure) and always
 * {@link StoreWriter.close}.
 */
export function openWriter(store: Store): StoreWriter {
  return new StoreWriter(store);
}

/** A writing run: its statements, its transactions (inputs in groups), its end-of-run steps. */
export class StoreWriter {
  private readonly st: IngestStatements;
  private readonly session: WriteSession;
  private groupStarted = 0;
  private groupBytes = 0;

  constructor(private readonly store: Store) {
    this.st = prepareIngest(store);
    this.session = new WriteSession(store);
  }

  /** Starts one input: its own savepoint inside the group's transaction (opened when none is). */
  openInput(name: string): InputWriter {
    if (!this.session.open) {
      this.session.begin();
      this.groupStarted = performance.now();
      this.groupBytes = 0;
    }
    this.session.beginInput();
    try {
      return new InputWriter(this.st, name, (kept, bytes) => this.inputEnded(kept, bytes));
    } catch (err) {
      this.session.undoInput();
      throw err;
    }
  }

  private inputEnded(kept: boolean, bytes: number): void {
    if (kept) this.session.keepInput();
    else this.session.undoInput();
    this.groupBytes += bytes;
    if (this.groupBytes >= GROUP_BYTES || performance.now() - this.groupStarted >= GROUP_MS)
      this.session.commit();
  }

  /**
   * Commits the last group, then settles fallback workloads once per run: a trace's spans may be
   * spread over several of its inputs.
   */
  finish(): SettledFallbacks {
    this.session.commit();
    this.session.begin();
    const fallbacks = settleFallbacks(this.store, this.st);
    this.session.commit();
    return fallbacks;
  }

  /** After a failure: keeps the whole inputs of the open group when possible (the failing one was undone). */
  salvage(): void {
    this.session.salvage();
  }

  /** Ends the run (foreign-key checks as they were). */
  close(): void {
    this.session.close();
  }

  /** Workloads in the store now. */
  workloads(): number {
    return this.session.workloads();
  }
}

/** Writes the items of one input inside its savepoint of the run's transaction. */
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
    replacedSegments: 0,
    callOnlySpans: 0,
    unprocessedTraceIds: 0,
    trailEvents: 0,
    newTrailEvents: 0,
    problems: 0,
  };
  readonly problems: ItemProblem[] = [];
  private readonly st: IngestStatements;
  /** Workloads of this input by key: a cache of the store, started over when full. */
  private readonly workloads = new BoundedTable<{ id: number; attrs: string }>(MAX_CACHED_WORKLOADS);
  /** Target and workload numbers of this input's items → stored ids. */
  private readonly targetIds = new Map<number, number>();
  private readonly workloadIds = new Map<number, number>();
  /**
   * `workloadId|day` pairs whose rollups cannot be updated by adding new calls (calls replaced,
   * deleted, re-attributed or re-targeted, or added to a trace stored before): recomputed at finish.
   */
  private readonly touched = new Set<string>();
  /** Trace ids first stored by the item being written: their calls are new to every rollup. */
  private readonly itemNewTraces = new Set<string>();
  /** Smallest call id inserted since the last flush (every call with id >= it is that new). */
  private chunkLow: number | undefined;
  private chunkCalls = 0;
  readonly sourceId: number;

  /** False while the unprocessed-trace list is known to be empty: no delete per trace then. */
  private mayHaveUnprocessed: boolean;
  /** False when no span has settled for its fallback workload: nothing to revisit then. */
  private readonly mayHaveSettled: boolean;
  /** Traces already revisited while writing the current item. */
  private readonly revisited = new Set<string>();
  /** Trace id → its stored integer key (schema v3), for the traces of the current item. */
  private readonly keys = new Map<string, number>();
  /**
   * True while writing the documents of a Trace object that has no id: the object counted its
   * trace already, and its documents name that trace by their own `trace_id`.
   */
  private idlessTraceObject = false;
  /** True once the input was kept or abandoned. */
  private done = false;

  constructor(
    statements: IngestStatements,
    path: string,
    private readonly ended: (kept: boolean, bytes: number) => void = () => undefined,
  ) {
    this.st = statements;
    this.mayHaveUnprocessed = this.st.anyUnprocessed.get() !== undefined;
    this.mayHaveSettled = this.st.anySettled.get() !== undefined;
    this.sourceId = Number(this.st.insertSource.run({ path, now: new Date().toISOString() }).lastInsertRowid);
  }

  /** CloudTrail records, once each by eventID; the records that could not be read, as problems. */
  private writeTrail(events: TrailEventFields[], problems: TrailProblemFields[]): void {
    for (const e of events) {
      this.counts.trailEvents++;
      const r = this.st.insertTrailEvent.run({
        eventId: e.eventId,
        time: e.time,
        eventSource: e.eventSource,
        eventName: e.eventName,
        region: e.region,
        account: e.account,
        principal: e.principal,
        role: e.role,
        session: e.session,
        invokedBy: e.invokedBy,
        sourceIp: e.sourceIp,
        userAgent: e.userAgent,
        errorCode: e.errorCode,
        management: e.management ? 1 : 0,
        caller: e.caller,
        callerReason: e.callerReason,
        requestParameters: e.requestParameters,
        resources: JSON.stringify(e.resourceArns),
        sourceId: this.sourceId,
      });
      if (r.changes > 0) this.counts.newTrailEvents++;
    }
    this.counts.problems += problems.length;
    for (const p of problems)
      if (this.problems.length < MAX_KEPT_PROBLEMS)
        this.problems.push({ path: `${p.where} (byte ${p.offset})`, message: p.message });
  }

  /** Writes one item already extracted by ingest's preparer (possibly on a worker thread). */
  write(item: PreparedItem): void {
    this.itemNewTraces.clear();
    this.revisited.clear();
    this.keys.clear();
    this.idlessTraceObject = false;
    if (item.kind === 'config') {
      // Facts about workloads, kept as first stored (store/schema.ts v4): never a workload of their own.
      for (const f of item.facts)
        this.st.insertConfig.run(f.kind, f.key, f.function, JSON.stringify(f.data), this.sourceId);
      return;
    }
    if (item.kind === 'trail') {
      this.writeTrail(item.events, item.problems);
      return;
    }
    if (item.kind === 'unprocessed') {
      for (const id of item.ids) {
        // An id already stored is not missing any more.
        if (this.st.traceKey.get(id) === undefined) {
          this.st.insertUnprocessed.run(id, this.sourceId);
          this.mayHaveUnprocessed = true;
        }
        this.counts.unprocessedTraceIds++;
      }
      return;
    }
    if (item.reset) {
      this.targetIds.clear();
      this.workloadIds.clear();
    }
    for (const w of item.workloads) this.workloadIds.set(w.index, this.workload(w.workload));
    for (const t of item.targets) this.targetIds.set(t.index, this.targetId(t, t.sig, t.paramsJson));
    this.idlessTraceObject = item.trace !== undefined && item.trace.id === undefined;
    if (item.trace?.id !== undefined) {
      this.trace(item.trace.id, item.trace.duration, item.trace.limitExceeded, true);
      if (this.mayHaveUnprocessed) this.st.deleteUnprocessed.run(item.trace.id);
    } else if (item.trace) {
      this.counts.traces++;
    }
    this.counts.documents += item.documents;
    this.counts.problems += item.problems.length;
    for (const p of item.problems) if (this.problems.length < MAX_KEPT_PROBLEMS) this.problems.push(p);
    const loose = item.trace === undefined;
    const docs = item.docs;
    // Node ids matter only where an independent subsegment may need them (see the schema).
    const first = docs[0] === undefined ? undefined : this.storedKey(docs[0][DOC.traceId]);
    const nodes =
      item.keepNodes ||
      docs.some((d) => d[DOC.type] === 'subsegment') ||
      (first !== undefined && this.st.awaitsParent.get(first) !== undefined);
    // Loose documents (spans, segment documents) record their trace once per item: a trace's
    // spans come together, seven or so per trace.
    let lastTrace: string | undefined;
    for (const d of docs) {
      if (d[DOC.type] === 'inferred') continue;
      if (loose && d[DOC.traceId] !== lastTrace) {
        this.trace(d[DOC.traceId], null, null, false);
        lastTrace = d[DOC.traceId];
      }
      this.writeDoc(d, nodes);
    }
    for (const d of docs) {
      if (d[DOC.type] !== 'inferred') continue;
      const traceId = d[DOC.traceId];
      if (loose) this.trace(traceId, null, null, false);
      // Inferred segments are not stored as documents: what they say is idempotent on the call.
      const call = d[DOC.calls][0];
      if (!call) continue;
      const existing = this.st.findCall.get(this.key(traceId), call[CALL.subId]);
      if (existing) {
        if (existing.via === 'inferred') continue; // already known from this inferred segment
        // The caller is stored: the inferred segment only fills in what it did not record.
        const merged = storedFields(existing);
        fillIn(merged, this.fieldsOf(this.wireTarget(call)));
        const targetId = this.targetId(merged);
        if (targetId !== existing.target_id) {
          this.st.setCallTarget.run(targetId, existing.id);
          // Its IAM actions may have changed: workload_day_actions must be recomputed.
          this.touch(existing.workload_id, existing.start_time);
        }
        continue;
      }
      // The calling subsegment is not (yet) in the store: the inferred segment is the call.
      this.counts.calls++;
      this.storeCall(d, call, null);
    }
    // Between items only: a new trace's calls are all in one item, so distinct-trace counts add up.
    if (this.chunkCalls >= NEW_CALLS_CHUNK) this.flushNewCalls();
  }

  /**
   * Adds the calls inserted since the last flush to the daily rollups, set-based. Exact for every
   * (workload, day) not in `touched`: their new calls all belong to traces first stored with them,
   * so no distinct trace is counted twice. Touched pairs may receive wrong sums here; finish()
   * recomputes them from calls.
   */
  private flushNewCalls(): void {
    if (this.chunkLow !== undefined) for (const stmt of this.st.addNewCalls) stmt.run(this.chunkLow);
    this.chunkLow = undefined;
    this.chunkCalls = 0;
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
    count = true,
  ): void {
    const info = this.st.insertTrace.run(id, duration, limitExceeded, this.sourceId);
    const inserted = info.changes > 0;
    let key: number;
    if (inserted) {
      key = Number(info.lastInsertRowid);
      this.counts.newTraces++;
      this.itemNewTraces.add(id);
    } else {
      key = this.stored(this.st.traceKey.get(id), 'trace').id;
      if (duration !== null || limitExceeded !== null) this.st.updateTrace.run(duration, limitExceeded, key);
    }
    this.keys.set(id, key);
    if (count && (inserted || traceObject)) this.counts.traces++;
  }

  /**
   * The stored key of a trace of the current item. A document that names another trace than the
   * Trace object holding it records that trace as a loose document would (a trace of its own).
   */
  private key(id: string): number {
    const known = this.keys.get(id);
    if (known !== undefined) return known;
    this.trace(id, null, null, false, !this.idlessTraceObject);
    return this.keys.get(id) as number;
  }

  /** The stored key of a trace, or undefined when it is not stored (nothing is written). */
  private storedKey(id: string): number | undefined {
    const known = this.keys.get(id);
    if (known !== undefined) return known;
    return this.st.traceKey.get(id)?.id;
  }

  /** Returns false when the document was already stored (complete). */
  private writeSegmentRow(d: WireDoc, workloadId: number | null, fallbackId: number | null): boolean {
    this.counts.segments++;
    const traceId = this.key(d[DOC.traceId]);
    const id = d[DOC.id];
    const inProgress = d[DOC.inProgress];
    const update = [
      d[DOC.type],
      d[DOC.parentId],
      workloadId,
      d[DOC.name],
      d[DOC.origin],
      d[DOC.startTime],
      d[DOC.endTime],
      inProgress,
      this.sourceId,
      fallbackId,
    ] as const;
    // Most documents are new: try the insert first, look only on a conflict.
    if (this.st.insertSegment.run(traceId, id, ...update).changes > 0) {
      this.counts.newSegments++;
      return true;
    }
    const existing = this.stored(this.st.findSegment.get(traceId, id), 'segment');
    if (existing.in_progress === 0 || inProgress === 1) {
      this.counts.duplicateSegments++;
      return false;
    }
    // A complete document replaces the in-progress one, calls and all.
    for (const r of this.st.deleteSegmentCalls.all(traceId, id)) this.touch(r.workload_id, r.start_time);
    this.st.deleteSegmentNodes.run(traceId, id);
    this.st.replaceSegment.run(...update, traceId, id);
    this.counts.replacedSegments++;
    return true;
  }

  private writeDoc(d: WireDoc, nodes: boolean): void {
    const w = d[DOC.workload];
    const workloadId = w < 0 ? null : this.lookup(this.workloadIds, w, 'workload');
    if (d[DOC.keep] === 0) {
      // A span whose resource says who made it needs no row: its call is stored once by its own key.
      this.counts.segments++;
      this.counts.callOnlySpans++;
      for (const c of d[DOC.calls]) {
        this.counts.calls++;
        this.storeCall(d, c, workloadId);
      }
      return;
    }
    const f = d[DOC.fallback];
    const fallbackId = f < 0 ? null : this.lookup(this.workloadIds, f, 'workload');
    if (!this.writeSegmentRow(d, workloadId, fallbackId)) return;
    if (workloadId !== null && this.mayHaveSettled) this.unsettle(d[DOC.traceId]);
    if (nodes) {
      const traceKey = this.key(d[DOC.traceId]);
      for (const n of d[DOC.nodeIds]) this.st.insertNode.run(traceKey, n, d[DOC.id]);
    }
    for (const c of d[DOC.calls]) {
      this.counts.calls++;
      this.storeCall(d, c, workloadId);
    }
  }

  /** Stores a call once; a real SDK call replaces one known only from an inferred segment. */
  private storeCall(d: WireDoc, c: WireCall, workloadId: number | null): void {
    const subId = c[CALL.subId];
    const startTime = c[CALL.startTime];
    const via = c[CALL.via];
    const traceId = d[DOC.traceId];
    const traceKey = this.key(traceId);
    const row: CallValues = [
      traceKey,
      subId,
      d[DOC.id],
      workloadId,
      startTime,
      c[CALL.endTime],
      this.wireTarget(c),
      c[CALL.httpStatus],
      c[CALL.outcome],
      c[CALL.errorType],
      via,
      this.sourceId,
    ];
    const info = this.st.insertCall.run(...row);
    if (info.changes > 0) {
      this.counts.newCalls++;
      if (workloadId !== null) {
        // New rows take ids above every row that exists, so the minimum bounds the chunk.
        const id = Number(info.lastInsertRowid);
        if (this.chunkLow === undefined || id < this.chunkLow) this.chunkLow = id;
        this.chunkCalls++;
        // A trace stored before may already have calls on this (workload, day): recount it.
        if (!this.itemNewTraces.has(traceId)) this.touch(workloadId, startTime);
      }
      return;
    }
    if (via === 'inferred') return;
    const existing = this.st.findCall.get(traceKey, subId);
    if (!existing || existing.via !== 'inferred') return; // first wins
    const merged = this.fieldsOf(row[6]);
    fillIn(merged, storedFields(existing));
    const [, , ...update] = row;
    update[4] = this.targetId(merged);
    this.st.replaceCall.run(...update, existing.id);
    this.touch(existing.workload_id, existing.start_time);
    this.touch(workloadId, startTime);
  }

  /** The stored id of a call's target, from the numbering of this input's items. */
  private wireTarget(c: WireCall): number {
    return this.lookup(this.targetIds, c[CALL.target], 'target');
  }

  /** A row the writer has just stored or found: its absence is a bug, not bad input. */
  private stored<T>(row: T | undefined, what: string): T {
    if (row === undefined) throw new Error(`${what} vanished while being written`);
    return row;
  }

  private lookup(map: Map<number, number>, index: number, what: string): number {
    const id = map.get(index);
    // A bug, not bad input: the preparer describes every target and workload before using it.
    if (id === undefined) throw new Error(`${what} #${index} used before it was described`);
    return id;
  }

  /** The identifying fields of a stored target (for the rare merges of a call with its inferred segment). */
  private fieldsOf(targetId: number): TargetFields {
    return targetFields(this.st, targetId);
  }

  /** The id of the target with these fields, stored (with its IAM permissions) on first sight. */
  private targetId(t: TargetFields, sig?: string, paramsJson?: string | null): number {
    return storeTarget(this.st, t, sig, paramsJson);
  }

  /**
   * Gives calls still without a workload the workload of their document, now known (see
   * attribute.ts), re-targeted with the workload's account and region where they recorded none.
   */
  private attributeCalls(): void {
    attributeWaitingCalls(this.st, (w, t) => this.touch(w, t));
  }

  /**
   * A span with a known workload arrived in a trace where spans settled for their fallback
   * workload in an earlier run (their SERVER span was missing then): they wait again, and
   * finish() gives them this workload if it is their parent's; else the run's end settles them again.
   */
  private unsettle(traceId: string): void {
    if (this.revisited.has(traceId)) return;
    this.revisited.add(traceId);
    const key = this.key(traceId);
    if (this.st.traceHasSettled.get(key) === undefined) return;
    // Their fallback workload's days lose these calls: recomputed at finish().
    for (const r of this.st.settledCalls.all({ trace: key })) this.touch(r.workload_id, r.start_time);
    this.st.unsettleCalls.run({ trace: key });
    this.st.unsettleSegments.run(key);
  }

  /** Notes a (workload, day) whose daily summary must be recomputed. */
  private touch(workloadId: number | null, startTime: number): void {
    if (workloadId === null) return;
    this.touched.add(`${workloadId}|${dayOf(startTime)}`);
  }

  private workload(w: WorkloadFields): number {
    const attrs = JSON.stringify(w.attrs);
    const cached = this.workloads.get(w.key);
    if (cached && (cached.attrs === attrs || attrs === '{}')) return cached.id;
    const found = this.st.findWorkload.get(w.key);
    if (!found) {
      const id = Number(
        this.st.insertWorkload.run({
          key: w.key,
          kind: w.kind,
          name: w.name,
          arn: w.arn,
          account: w.account,
          region: w.region,
          // Stored as merged, so that list attributes (qualifiers, formats) are lists from the start.
          attrs: mergeAttrs('{}', w.attrs),
        }).lastInsertRowid,
      );
      this.remember(w.key, { id, attrs });
      return id;
    }
    const merged = mergeAttrs(found.attrs, w.attrs);
    if (merged !== found.attrs) {
      this.st.updateWorkload.run({
        id: found.id,
        attrs: merged,
        account: w.account,
        region: w.region,
        arn: w.arn,
      });
    }
    this.remember(w.key, { id: found.id, attrs });
    return found.id;
  }

  private remember(key: string, value: { id: number; attrs: string }): void {
    if (this.workloads.full) this.workloads.clear();
    this.workloads.set(key, value);
  }

  /** Undoes everything this input wrote; `bytes` of it were read. Nothing to undo once finished. */
  abandon(bytes: number): void {
    if (this.done) return;
    this.done = true;
    this.ended(false, bytes);
  }

  /**
   * Joins independent subsegments and inferred-only calls to their workloads, records the
   * source, and keeps the input.
   */
  finish(meta: InputMeta): void {
    // Chains of independent subsegments resolve one level per pass.
    for (let i = 0; i < 64; i++) {
      if (this.st.attributeSubsegments.run().changes === 0) break;
    }
    this.attributeCalls();
    this.flushNewCalls();
    rebuildDays(this.st, this.touched);
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
    this.done = true;
    this.ended(true, meta.size);
  }
}

/** Attributes whose values accumulate, stored as a sorted list under another name. */
const LIST_ATTRS: Record<string, string | undefined> = {
  qualifier: 'qualifiers',
  format: 'formats',
  // The event sources seen invoking a function (src/runtime grants their polling).
  trigger: 'triggers',
};

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
    // So do the formats it was traced in (one history across the move from X-Ray to OpenTelemetry).
    const key = LIST_ATTRS[k] ?? k;
    const prev = base[key];
    if (LIST_ATTRS[k]) {
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
