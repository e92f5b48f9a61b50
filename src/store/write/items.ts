/**
 * What the writer accepts: one input's items, as ingest's preparer makes them (possibly on a
 * worker thread, so the data is compact and plain: structured cloning writes every key of every
 * object, and per-call objects cost more to send between threads than to parse). Documents and
 * calls travel as tuples; each target and workload is described once per input and then referred
 * to by number.
 *
 * The tuples' positions are defined here once ({@link DOC}, {@link CALL}), next to their types and
 * the only functions that build them ({@link wireDoc}, {@link wireCall}): the preparer builds with
 * those, the writer reads with the positions, and neither counts places.
 */
import type { CallVia, Outcome } from '../../shared/outcome.js';
import type { WorkloadRecord } from '../workloads.js';
import type { TargetFields } from './targets.js';

/** One call: its target is an index into the targets described so far in this input. */
export type WireCall = [
  subId: string,
  startTime: number,
  endTime: number | null,
  target: number,
  httpStatus: number | null,
  outcome: Outcome,
  errorType: string | null,
  via: CallVia,
];

/** Positions in a {@link WireCall}. */
export const CALL = {
  subId: 0,
  startTime: 1,
  endTime: 2,
  target: 3,
  httpStatus: 4,
  outcome: 5,
  errorType: 6,
  via: 7,
} as const;

/** The kinds of document: a segment, a subsegment sent on its own, or an inferred segment. */
export type DocType = 'segment' | 'subsegment' | 'inferred';

/** One document: its workload is an index into the workloads described so far, or -1. */
export type WireDoc = [
  traceId: string,
  id: string,
  type: DocType,
  parentId: string | null,
  workload: number,
  name: string,
  origin: string | null,
  startTime: number | null,
  endTime: number | null,
  inProgress: 0 | 1,
  nodeIds: string[],
  calls: WireCall[],
  /** The workload an OpenTelemetry span falls back to (index), or -1. */
  fallback: number,
  /** 1: keep the document as a row; 0: only its calls (spans whose resource says who they are). */
  keep: 0 | 1,
];

/** Positions in a {@link WireDoc}. */
export const DOC = {
  traceId: 0,
  id: 1,
  type: 2,
  parentId: 3,
  workload: 4,
  name: 5,
  origin: 6,
  startTime: 7,
  endTime: 8,
  inProgress: 9,
  nodeIds: 10,
  calls: 11,
  fallback: 12,
  keep: 13,
} as const;

/** The fields of a call that travel (ingest's extracted call has them). */
export interface CallFields {
  subId: string;
  startTime: number;
  endTime: number | null;
  httpStatus: number | null;
  outcome: Outcome;
  errorType: string | null;
  via: CallVia;
}

/** The fields of a document that travel (ingest's extracted document has them). */
export interface DocFields {
  traceId: string;
  id: string;
  type: DocType;
  parentId: string | null;
  name: string;
  origin: string | null;
  startTime: number | null;
  endTime: number | null;
  inProgress: boolean;
  /** Ids of subsegments inside this document that are not calls (possible parents of independent subsegments). */
  nodeIds: string[];
}

/** A call as a tuple, `target` the index its target was described under. */
export function wireCall(c: CallFields, target: number): WireCall {
  return [c.subId, c.startTime, c.endTime, target, c.httpStatus, c.outcome, c.errorType, c.via];
}

/** A document as a tuple, its workload and fallback given as indexes (or -1). */
export function wireDoc(
  d: DocFields,
  workload: number,
  calls: WireCall[],
  fallback: number,
  keep: 0 | 1,
): WireDoc {
  return [
    d.traceId,
    d.id,
    d.type,
    d.parentId,
    workload,
    d.name,
    d.origin,
    d.startTime,
    d.endTime,
    d.inProgress ? 1 : 0,
    d.nodeIds,
    calls,
    fallback,
    keep,
  ];
}

/** A workload as the writer stores it (the `workloads` table; ingest's `Workload` is one). */
export type WorkloadFields = Omit<WorkloadRecord, 'id' | 'attrs'> & {
  /** Extra facts, merged across documents (list attributes accumulate: see the writer). */
  attrs: Record<string, string>;
};

/** A problem found in the data of an input: stored (the first few) and counted. */
export interface ItemProblem {
  path: string;
  message: string;
}

/** A configuration fact about a workload (the `configs` table; ingest's `ConfigFact` is one). */
export interface ConfigFields {
  kind: string;
  key: string;
  function: string | null;
  data: unknown;
}

/** A CloudTrail record read as evidence (the `trail_events` table; ingest's `TrailEvent` is one). */
export interface TrailEventFields {
  eventId: string;
  /** Epoch seconds. */
  time: number;
  eventSource: string;
  eventName: string;
  region: string | null;
  /** `recipientAccountId`, else the caller's account. */
  account: string | null;
  /** `role` | `service-linked-role` | `service` | `other` (src/ingest/cloudtrail.ts). */
  principal: string;
  role: string | null;
  session: string | null;
  invokedBy: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  errorCode: string | null;
  /** False for data events. */
  management: boolean;
  /** `service` | `workload` | `interactive` | `sdk` (src/iam/caller.ts). */
  caller: string;
  callerReason: string;
  /** `requestParameters` as JSON, or null. */
  requestParameters: string | null;
  resourceArns: string[];
}

/** A CloudTrail record that could not be read as evidence: counted, with its position. */
export interface TrailProblemFields {
  offset: number;
  /** Which record (`Records[3]`). */
  where: string;
  message: string;
}

/** A target seen for the first time in this input (or since the last reset). */
export interface TargetDef extends TargetFields {
  index: number;
  /** JSON of the identifying fields: the `targets.sig` column. */
  sig: string;
  /** Canonical JSON of `params` (keys sorted), or null. */
  paramsJson: string | null;
}

/** A workload (with these attributes) seen for the first time in this input. */
export interface WorkloadDef {
  index: number;
  workload: WorkloadFields;
}

/** The Trace object documents came in. */
export interface TraceFields {
  id: string | undefined;
  duration: number | null;
  limitExceeded: number | null;
}

/** One item, ready for the writer. */
export type PreparedItem =
  | { kind: 'unprocessed'; ids: string[] }
  | { kind: 'config'; facts: ConfigFields[] }
  /** CloudTrail records, stored once each by eventID, and those that could not be read. */
  | { kind: 'trail'; events: TrailEventFields[]; problems: TrailProblemFields[] }
  | {
      kind: 'docs';
      /** The Trace object the documents came in, when they came in one. */
      trace: TraceFields | undefined;
      /** Loose documents (not in a Trace object) are where independent subsegments come from. */
      keepNodes: boolean;
      /** Documents read, including those skipped as problems. */
      documents: number;
      /** True when earlier target and workload indexes no longer apply (the preparer's tables started over). */
      reset: boolean;
      targets: TargetDef[];
      workloads: WorkloadDef[];
      docs: WireDoc[];
      problems: ItemProblem[];
    };
