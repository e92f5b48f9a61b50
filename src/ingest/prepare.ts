/**
 * The pure half of writing: from what an input yields to what the store needs, with no database.
 * It runs on a worker thread for large inputs (see parse-worker.ts), so its output is plain data
 * that survives structured cloning.
 */
import { extractDoc, type CallParams, type CallRow, type DataProblem, type ExtractedDoc } from './extract.js';
import type { DumpItem, SegmentDoc } from './shapes.js';

/** One item, ready for the writer. */
export type PreparedItem =
  | { kind: 'unprocessed'; ids: string[] }
  | {
      kind: 'docs';
      /** The Trace object the documents came in, when they came in one. */
      trace: { id: string | undefined; duration: number | null; limitExceeded: number | null } | undefined;
      /** Loose documents (not in a Trace object) are where independent subsegments come from. */
      keepNodes: boolean;
      /** Documents read, including those skipped as problems. */
      documents: number;
      docs: ExtractedDoc[];
      problems: DataProblem[];
    };

/** Extracts an item's documents and lets inferred segments fill in their callers in the same batch. */
export function prepareItem(item: DumpItem, where: string): PreparedItem {
  switch (item.kind) {
    case 'unprocessed':
      return { kind: 'unprocessed', ids: item.ids };
    case 'trace':
      return prepareDocs(item.segments, where, false, {
        id: item.id,
        duration: item.duration ?? null,
        limitExceeded: item.limitExceeded === undefined ? null : item.limitExceeded ? 1 : 0,
      });
    case 'segment':
      return prepareDocs([item.doc], where, true, undefined);
  }
}

function prepareDocs(
  docs: SegmentDoc[],
  where: string,
  keepNodes: boolean,
  trace: { id: string | undefined; duration: number | null; limitExceeded: number | null } | undefined,
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
  // Inferred segments first fill in the calls of their callers in this same batch.
  const sdkCalls = new Map<string, CallRow>();
  for (const ex of extracted) {
    if (ex.type === 'inferred') continue;
    for (const c of ex.calls) sdkCalls.set(`${ex.traceId}\u0000${c.subId}`, c);
  }
  const kept: ExtractedDoc[] = [];
  for (const ex of extracted) {
    const call = ex.type === 'inferred' ? ex.calls[0] : undefined;
    const caller = call ? sdkCalls.get(`${ex.traceId}\u0000${call.subId}`) : undefined;
    if (call && caller) {
      fillIn(caller, call);
      continue; // fully accounted for: the caller carries what it said
    }
    kept.push(ex);
  }
  // Signatures are computed here, off the writing thread (see write.ts targetId).
  for (const ex of kept) for (const c of ex.calls) sign(c);
  return { kind: 'docs', trace, keepNodes, documents: docs.length, docs: kept, problems };
}

/** Parameters as stored: keys sorted, so that equal parameters give equal targets. */
export function canonicalParams(p: CallParams): string {
  const out: CallParams = {};
  for (const k of Object.keys(p).sort()) out[k] = p[k] as string | string[];
  return JSON.stringify(out);
}

/** Sets `sig` and `paramsJson`: what identifies the call's target (service, operation, parameters…). */
export function sign(c: CallRow): void {
  c.paramsJson = c.params ? canonicalParams(c.params) : null;
  c.sig = JSON.stringify([
    c.service,
    c.serviceName,
    c.operation,
    c.region,
    c.account,
    c.paramsJson,
    c.deniedAction,
    c.deniedResource,
  ]);
}

/** Copies into `caller` what an inferred segment knows and the caller did not record. */
export function fillIn(caller: CallRow, inferred: CallRow): void {
  if (caller.service === '') caller.service = inferred.service;
  caller.operation ??= inferred.operation;
  caller.region ??= inferred.region;
  caller.account ??= inferred.account;
  if (inferred.params) caller.params = { ...inferred.params, ...(caller.params ?? {}) };
}
