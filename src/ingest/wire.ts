/**
 * The pure half of writing: from what an input yields to the items the store's writer accepts
 * (store/write/items.ts defines them), with no database. It runs on a worker thread for large
 * inputs (see pipeline.ts and worker.ts), which is why the items are tuples and numbers.
 */
import { extractDoc, type CallRow, type DataProblem, type ExtractedDoc, type Workload } from './extract.js';
import { extractSpan, withTrigger, withWorkload } from './extract-span.js';
import type { DumpItem, SegmentDoc } from './shapes.js';
import type { Span } from './spans.js';
import {
  canonicalParams,
  fillIn,
  signature,
  wireCall,
  wireDoc,
  type PreparedItem,
  type TargetDef,
  type TraceFields,
  type WireDoc,
  type WorkloadDef,
} from '../store/write/index.js';
import { BoundedTable, type TableLimits } from '../shared/bounded.js';

// What identifies a target is defined once, in the store (merge uses it too).
export { canonicalParams, signature };

/**
 * Distinct targets and workloads remembered per input, each table: past either limit both start
 * over (every S3 key is a target of its own). 8 MiB of keys is ~50,000 S3 GetObject targets; the
 * parse worker's whole heap is 64 MiB (pipeline.ts WORKER_HEAP_MB).
 */
export const MAX_INTERNED: TableLimits = { entries: 50_000, bytes: 8 * 1024 * 1024 };

/** Span workloads remembered per input for their children; past this the table starts over. */
export const MAX_SPAN_WORKLOADS: TableLimits = { entries: 50_000, bytes: 2 * 1024 * 1024 };

/** Prepares the items of one input, numbering its targets and workloads. */
export class Preparer {
  /** `traceId/spanId` → the workload of Lambda spans seen in this input, for their children. */
  private readonly spanWorkloads = new BoundedTable<Workload>(MAX_SPAN_WORKLOADS);
  /** Triggers of spans that wait for their parent (by the parent's `trace/span`): see spans(). */
  private readonly pendingTriggers = new Map<string, string>();
  private readonly targets = new BoundedTable<number>(MAX_INTERNED);
  /** Workload objects already numbered (cleared with the tables). */
  private workloadObjects = new WeakMap<Workload, number>();
  private readonly workloads = new BoundedTable<number>(MAX_INTERNED);
  private next = 0;

  /** Extracts an item's documents; inferred segments first fill in their callers in the same item. */
  prepare(item: DumpItem, where: string): PreparedItem {
    switch (item.kind) {
      case 'unprocessed':
        return { kind: 'unprocessed', ids: item.ids };
      case 'config':
        return { kind: 'config', facts: item.facts };
      case 'trail':
        return { kind: 'trail', events: item.events, problems: item.problems };
      case 'trace':
        return this.docs(item.segments, where, false, {
          id: item.id,
          duration: item.duration ?? null,
          limitExceeded: item.limitExceeded === undefined ? null : item.limitExceeded ? 1 : 0,
        });
      case 'segment':
        return this.docs([item.doc], where, true, undefined);
      case 'spans':
        return this.spans(item.spans);
    }
  }

  /**
   * OpenTelemetry spans: each one a document, loose (its trace is in its id). A span whose
   * resource does not name its workload (a Lambda function without its account) takes its
   * parent's when this input has shown it, here rather than in the database, so that its calls
   * are stored under their workload at once (as X-Ray calls are) and the daily rollups can add
   * them; spans whose parents come later wait in the database (store/write/writer.ts).
   */
  private spans(spans: Span[]): PreparedItem {
    const out = this.emptyDocs(spans.length, false, undefined, []);
    const extracted = spans.map(extractSpan);
    const known = this.spanWorkloads;
    if (known.full) known.clear();
    // A Lambda function's trigger is recorded on a child of its SERVER span (the CONSUMER span of
    // an SQS event), which often comes first: the SERVER span takes it when it arrives.
    const pending = this.pendingTriggers;
    if (pending.size > MAX_SPAN_WORKLOADS.entries) pending.clear();
    for (const [i, ex] of extracted.entries()) {
      if (ex.trigger && !ex.workload && ex.parentId !== null)
        pending.set(`${ex.traceId}/${ex.parentId}`, ex.trigger);
      const trigger = ex.workload ? pending.get(`${ex.traceId}/${ex.id}`) : undefined;
      if (trigger) {
        extracted[i] = withTrigger(ex, trigger);
        pending.delete(`${ex.traceId}/${ex.id}`);
      }
    }
    for (const ex of extracted) if (ex.keep && ex.workload) known.set(`${ex.traceId}/${ex.id}`, ex.workload);
    // Exporters send a span when it ends: children usually come before their parents in a batch.
    for (let round = 0, changed = true; changed && round < 32; round++) {
      changed = false;
      for (const [i, ex] of extracted.entries()) {
        if (ex.workload || !ex.fallback || ex.parentId === null) continue;
        const parent = known.get(`${ex.traceId}/${ex.parentId}`);
        if (!parent) continue;
        extracted[i] = withWorkload(ex, parent);
        known.set(`${ex.traceId}/${ex.id}`, parent);
        changed = true;
      }
    }
    for (const ex of extracted) {
      out.docs.push(
        this.wireDoc(ex, out, ex.fallback ? this.workload(ex.fallback, out.workloads) : -1, ex.keep ? 1 : 0),
      );
    }
    return out;
  }

  /** A docs item with nothing in it yet (the interning tables start over when they grow large). */
  private emptyDocs(
    documents: number,
    keepNodes: boolean,
    trace: TraceFields | undefined,
    problems: DataProblem[],
  ): PreparedItem & { kind: 'docs' } {
    let reset = false;
    // Between items only: the numbers an item uses are described in it or in an item since the reset.
    if (this.targets.full || this.workloads.full) {
      this.targets.clear();
      this.workloads.clear();
      this.workloadObjects = new WeakMap();
      reset = true;
    }
    return {
      kind: 'docs',
      trace,
      keepNodes,
      documents,
      reset,
      targets: [],
      workloads: [],
      docs: [],
      problems,
    };
  }

  /** One extracted document as a tuple, its targets and workload described on first sight. */
  private wireDoc(
    ex: ExtractedDoc,
    out: PreparedItem & { kind: 'docs' },
    fallback = -1,
    keep: 0 | 1 = 1,
  ): WireDoc {
    return wireDoc(
      ex,
      ex.workload ? this.workload(ex.workload, out.workloads) : -1,
      ex.calls.map((c) => wireCall(c, this.target(c, out.targets))),
      fallback,
      keep,
    );
  }

  private docs(
    docs: SegmentDoc[],
    where: string,
    keepNodes: boolean,
    trace: TraceFields | undefined,
  ): PreparedItem {
    const problems: DataProblem[] = [];
    const extracted: ExtractedDoc[] = [];
    for (let i = 0; i < docs.length; i++) {
      const ex = extractDoc(
        docs[i] as SegmentDoc,
        { traceId: trace?.id, where: docs.length > 1 ? `${where}, segment ${i + 1}` : where },
        problems,
      );
      if (ex) extracted.push(ex);
    }
    // Inferred segments first fill in the calls of their callers in this same item. Keyed by
    // trace, then call: the ids are strings as parsed, whose hashes V8 keeps, where a key made by
    // concatenating them would be built and hashed anew for every call.
    const sdkCalls = new Map<string, Map<string, CallRow>>();
    for (const ex of extracted) {
      if (ex.type === 'inferred' || ex.calls.length === 0) continue;
      let byId = sdkCalls.get(ex.traceId);
      if (!byId) sdkCalls.set(ex.traceId, (byId = new Map()));
      for (const c of ex.calls) byId.set(c.subId, c);
    }
    const callerOf = (ex: ExtractedDoc): CallRow | undefined => {
      const call = ex.type === 'inferred' ? ex.calls[0] : undefined;
      return call ? sdkCalls.get(ex.traceId)?.get(call.subId) : undefined;
    };
    const out = this.emptyDocs(docs.length, keepNodes, trace, problems);
    for (const ex of extracted) {
      const caller = callerOf(ex);
      if (caller) fillIn(caller, ex.calls[0] as CallRow); // fully accounted for: the caller carries what it said
    }
    for (const ex of extracted) {
      if (callerOf(ex)) continue;
      out.docs.push(this.wireDoc(ex, out));
    }
    return out;
  }

  private target(c: CallRow, defs: TargetDef[]): number {
    // The signature (two JSON.stringify passes) is built only for targets not seen yet.
    const key = targetKey(c);
    let index = this.targets.get(key);
    if (index === undefined) {
      index = this.next++;
      this.targets.set(key, index);
      const paramsJson = c.params ? canonicalParams(c.params) : null;
      const sig = signature(c, paramsJson);
      defs.push({
        index,
        sig,
        paramsJson,
        service: c.service,
        serviceName: c.serviceName,
        operation: c.operation,
        region: c.region,
        account: c.account,
        params: c.params,
        deniedAction: c.deniedAction,
        deniedResource: c.deniedResource,
      });
    }
    return index;
  }

  private workload(w: Workload, defs: WorkloadDef[]): number {
    // The spans of one resource share one Workload object: numbered once.
    const same = this.workloadObjects.get(w);
    if (same !== undefined) return same;
    const parts: (string | number)[] = [];
    for (const s of [w.key, w.kind, w.name, w.arn, w.account, w.region]) lpPush(parts, s);
    for (const k in w.attrs) {
      lpPush(parts, k);
      lpPush(parts, w.attrs[k] ?? null);
    }
    const key = parts.join('');
    let index = this.workloads.get(key);
    if (index === undefined) {
      index = this.next++;
      this.workloads.set(key, index);
      defs.push({ index, workload: w });
    }
    this.workloadObjects.set(w, index);
    return index;
  }
}

/**
 * A string or null, length-prefixed so that concatenations of them are unambiguous, pushed onto a
 * list of parts that is joined once: one flat string, instead of a tree of `+` concatenations
 * that V8 copies into one before hashing it as a Map key.
 */
function lpPush(parts: (string | number)[], s: string | null): void {
  if (s === null) parts.push('-');
  else parts.push(s.length, ':', s);
}

/** Identifies a target as {@link signature} does, more cheaply: an unambiguous concatenation. */
export function targetKey(c: CallRow): string {
  const parts: (string | number)[] = [];
  lpPush(parts, c.service);
  lpPush(parts, c.serviceName);
  lpPush(parts, c.operation);
  lpPush(parts, c.region);
  lpPush(parts, c.account);
  lpPush(parts, c.deniedAction);
  lpPush(parts, c.deniedResource);
  if (c.params === null) {
    parts.push('-');
    return parts.join('');
  }
  const keys = Object.keys(c.params);
  if (keys.length > 1) keys.sort();
  parts.push('{', keys.length, '|');
  for (const k of keys) {
    const v = c.params[k] as string | string[];
    lpPush(parts, k);
    if (typeof v === 'string') lpPush(parts, v);
    else {
      parts.push('[', v.length, '|');
      for (const x of v) lpPush(parts, x);
    }
  }
  return parts.join('');
}
