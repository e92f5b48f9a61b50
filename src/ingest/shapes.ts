/**
 * Recognises what each JSON value of an input is: a batch-get-traces response, a bare array of
 * traces, a single trace, list-retrieved-traces output, raw segment documents, daemon packets;
 * and rejects, with a hint, the shapes that look like X-Ray data but cannot be ingested.
 */
import { parseJson } from '../json/parse.js';
import type { SplitEvent } from '../json/split.js';
import { DumpFormatError } from '../shared/errors.js';
import { isObject } from '../shared/values.js';

/** A segment document as X-Ray stores it. Every field is optional until validated. */
export type SegmentDoc = Record<string, unknown>;

/** What an input yields, in order. */
export type DumpItem =
  | {
      kind: 'trace';
      id: string | undefined;
      duration: number | undefined;
      limitExceeded: boolean | undefined;
      /** Parsed segment documents (the `Document` strings already parsed). */
      segments: SegmentDoc[];
      offset: number;
    }
  | { kind: 'segment'; doc: SegmentDoc; offset: number }
  | { kind: 'unprocessed'; ids: string[] };

/** The shape an input turned out to have (the first one seen, for provenance). */
export type DumpShape =
  | 'batch-get-traces'
  | 'trace-array'
  | 'trace'
  | 'list-retrieved-traces'
  | 'segment-documents'
  | 'daemon-packets'
  | 'put-trace-segments'
  | 'empty';

/** A value that cannot be ingested, with what to do about it. */
export class ShapeError extends DumpFormatError {
  constructor(message: string, offset: number, hint?: string) {
    super(message, { position: { offset }, hint });
  }

  /** Byte offset of the value at fault in the (decompressed) input. */
  get offset(): number {
    return this.position?.offset ?? 0;
  }
}

/**
 * Turns split events into dump items. Stateful: a top-level value emitted in parts needs the
 * context of the member it belongs to.
 */
export class ShapeReader {
  /** The first shape recognised in this input. */
  shape: DumpShape = 'empty';
  /** Members seen in the current part-mode object (for its trace metadata). */
  private partTrace: { id?: string; duration?: number; limitExceeded?: boolean } = {};
  private partSawSegments = false;
  /** Set after a daemon header line: the next value is one segment document. */
  private sawDaemonHeader = false;

  /** Converts one split event into zero or more items; throws {@link ShapeError}. */
  read(event: SplitEvent): DumpItem[] {
    if (event.kind === 'whole') {
      const value = parseJson(event.bytes, event.offset, 'this document');
      return this.fromTop(value, event.offset);
    }
    if (event.kind === 'parts-end') {
      const items: DumpItem[] = [];
      if (this.partSawSegments && this.partTrace.id !== undefined) {
        // A single huge trace object: its metadata arrive as members next to Segments.
        items.push({
          kind: 'trace',
          id: this.partTrace.id,
          duration: this.partTrace.duration,
          limitExceeded: this.partTrace.limitExceeded,
          segments: [],
          offset: event.offset,
        });
      }
      this.partTrace = {};
      this.partSawSegments = false;
      return items;
    }
    const value = parseJson(
      event.bytes,
      event.offset,
      event.key ? `member "${event.key}"` : 'this array element',
    );
    if (event.top === 'array') return this.fromArrayElement(value, event.offset);
    const key = event.key ?? '';
    if (!event.element) {
      // A non-array member of a huge top-level object.
      if (key === 'Id' && typeof value === 'string') this.partTrace.id = value;
      else if (key === 'Duration' && duration(value) !== undefined) this.partTrace.duration = duration(value);
      else if (key === 'LimitExceeded' && typeof value === 'boolean') this.partTrace.limitExceeded = value;
      else if (key === 'TraceFormat' && typeof value === 'string') {
        if (value.toUpperCase() === 'OTEL') throw otelError(event.offset);
      }
      this.rejectTopKey(key, event.offset);
      return [];
    }
    this.rejectTopKey(key, event.offset);
    switch (key) {
      case 'Traces':
        this.setShape('batch-get-traces');
        return [this.trace(value, event.offset)];
      case 'Segments':
      case 'Spans':
        this.setShape('trace');
        this.partSawSegments = true;
        return this.segmentEntries([value], event.offset, key).map((doc) => ({
          kind: 'segment',
          doc,
          offset: event.offset,
        }));
      case 'UnprocessedTraceIds':
        return typeof value === 'string' ? [{ kind: 'unprocessed', ids: [value] }] : [];
      case 'TraceSegmentDocuments':
        this.setShape('put-trace-segments');
        return [{ kind: 'segment', doc: this.segmentDoc(value, event.offset), offset: event.offset }];
      default:
        return [];
    }
  }

  private setShape(shape: DumpShape): void {
    if (this.shape === 'empty') this.shape = shape;
  }

  private rejectTopKey(key: string, offset: number): void {
    if (key === 'TraceSummaries') throw summariesError(offset);
    if (key === 'Services' || key === 'Edges') throw serviceGraphError(offset);
  }

  private fromTop(value: unknown, offset: number): DumpItem[] {
    if (Array.isArray(value)) {
      const items: DumpItem[] = [];
      for (const el of value) items.push(...this.fromArrayElement(el, offset));
      return items;
    }
    if (!isObject(value))
      throw new ShapeError(`expected a JSON object or array, found ${typeof value}`, offset);
    if ('TraceSummaries' in value) throw summariesError(offset);
    if ('Services' in value && Array.isArray(value.Services)) throw serviceGraphError(offset);
    if (typeof value.TraceFormat === 'string' && value.TraceFormat.toUpperCase() === 'OTEL')
      throw otelError(offset);
    if (value.format === 'json' && 'version' in value && !('trace_id' in value)) {
      // Daemon UDP packet header; the segment document follows as the next value.
      this.sawDaemonHeader = true;
      this.setShape('daemon-packets');
      return [];
    }
    if (Array.isArray(value.Traces)) {
      const retrieved = 'RetrievalStatus' in value || 'TraceFormat' in value;
      this.setShape(retrieved ? 'list-retrieved-traces' : 'batch-get-traces');
      const items: DumpItem[] = value.Traces.map((t) => this.trace(t, offset));
      if (Array.isArray(value.UnprocessedTraceIds)) {
        const ids = value.UnprocessedTraceIds.filter((x): x is string => typeof x === 'string');
        if (ids.length > 0) items.push({ kind: 'unprocessed', ids });
      }
      return items;
    }
    if ('UnprocessedTraceIds' in value && Array.isArray(value.UnprocessedTraceIds)) {
      this.setShape('batch-get-traces');
      const ids = value.UnprocessedTraceIds.filter((x): x is string => typeof x === 'string');
      return ids.length > 0 ? [{ kind: 'unprocessed', ids }] : [];
    }
    if (Array.isArray(value.TraceSegmentDocuments)) {
      this.setShape('put-trace-segments');
      return value.TraceSegmentDocuments.map((d) => ({
        kind: 'segment',
        doc: this.segmentDoc(d, offset),
        offset,
      }));
    }
    if (Array.isArray(value.Segments) || Array.isArray(value.Spans)) {
      this.setShape('trace');
      return [this.trace(value, offset)];
    }
    if ('Document' in value && !('Segments' in value)) {
      // One `{Id, Document}` entry on its own (cut out of a Segments array).
      this.setShape('segment-documents');
      return this.segmentEntries([value], offset, 'Segments').map((doc) => ({
        kind: 'segment',
        doc,
        offset,
      }));
    }
    if ('UnprocessedTraceSegments' in value) {
      throw new ShapeError(
        "this is put-trace-segments output (the service's reply to an upload), which holds no traces",
        offset,
        'export traces with `aws xray batch-get-traces`',
      );
    }
    if (looksLikeSegment(value)) {
      this.setShape(this.sawDaemonHeader ? 'daemon-packets' : 'segment-documents');
      this.sawDaemonHeader = false;
      return [{ kind: 'segment', doc: value, offset }];
    }
    throw unknownShape(value, offset);
  }

  private fromArrayElement(value: unknown, offset: number): DumpItem[] {
    if (isObject(value) && (Array.isArray(value.Segments) || Array.isArray(value.Spans))) {
      this.setShape('trace-array');
      return [this.trace(value, offset)];
    }
    if (isObject(value) && looksLikeSegment(value)) {
      this.setShape('segment-documents');
      return [{ kind: 'segment', doc: value, offset }];
    }
    if (isObject(value) && ('HasFault' in value || 'ResponseTime' in value)) throw summariesError(offset);
    if (isObject(value) && ('Document' in value || 'Id' in value)) {
      // A bare Segments[] array ({Id, Document} entries).
      this.setShape('segment-documents');
      return this.segmentEntries([value], offset, 'array').map((doc) => ({ kind: 'segment', doc, offset }));
    }
    throw unknownShape(value, offset);
  }

  private trace(value: unknown, offset: number): DumpItem {
    if (!isObject(value)) throw new ShapeError('expected a Trace object in Traces[]', offset);
    const entries = Array.isArray(value.Segments)
      ? value.Segments
      : Array.isArray(value.Spans)
        ? value.Spans
        : [];
    const key = Array.isArray(value.Segments) ? 'Segments' : 'Spans';
    return {
      kind: 'trace',
      id: typeof value.Id === 'string' ? value.Id : undefined,
      duration: duration(value.Duration),
      limitExceeded: typeof value.LimitExceeded === 'boolean' ? value.LimitExceeded : undefined,
      segments: this.segmentEntries(entries, offset, key),
      offset,
    };
  }

  /** `{Id, Document: "<json>"}`, `{Id, Document: {…}}`, or an already-parsed document. */
  private segmentEntries(entries: unknown[], offset: number, key: string): SegmentDoc[] {
    const docs: SegmentDoc[] = [];
    for (const entry of entries) {
      if (!isObject(entry)) throw new ShapeError(`expected an object in ${key}[]`, offset);
      if ('Document' in entry) docs.push(this.segmentDoc(entry.Document, offset));
      else if (looksLikeSegment(entry)) docs.push(entry);
      else
        throw new ShapeError(
          `an entry of ${key}[] has neither a Document nor segment fields (id, name, trace_id)`,
          offset,
        );
    }
    return docs;
  }

  private segmentDoc(document: unknown, offset: number): SegmentDoc {
    const doc =
      typeof document === 'string' ? parseJson(document, offset, 'a segment Document string') : document;
    if (!isObject(doc)) throw new ShapeError('a segment Document is not a JSON object', offset);
    // Inside a Segments/Spans entry a document is a segment even when it lacks fields (extract
    // reports those as problems); only an OpenTelemetry span or a foreign object is refused.
    if ('traceId' in doc || 'spanId' in doc || 'resourceSpans' in doc) throw otelError(offset);
    if (!('id' in doc || 'trace_id' in doc || 'name' in doc || 'start_time' in doc)) {
      throw new ShapeError(
        `a segment Document lacks X-Ray segment fields (found keys: ${Object.keys(doc).slice(0, 8).join(', ')})`,
        offset,
      );
    }
    return doc;
  }
}

/** A trace duration, also when written as a string (`"Duration": "0.25"`). */
function duration(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function looksLikeSegment(v: Record<string, unknown>): boolean {
  if (!('id' in v)) return false;
  if ('trace_id' in v) return 'name' in v || 'start_time' in v || 'parent_id' in v;
  return ('name' in v || 'parent_id' in v) && ('start_time' in v || 'end_time' in v || 'subsegments' in v);
}

function summariesError(offset: number): ShapeError {
  return new ShapeError(
    'these are trace summaries (get-trace-summaries output), not traces',
    offset,
    'these are summaries; pass their ids to `aws xray batch-get-traces --trace-ids …` (5 at a time) and ingest that output',
  );
}

function serviceGraphError(offset: number): ShapeError {
  return new ShapeError(
    'this is a service graph (get-service-graph output), which holds no individual calls',
    offset,
    'export the traces themselves: get-trace-summaries for the ids, then batch-get-traces',
  );
}

function otelError(offset: number): ShapeError {
  return new ShapeError(
    'OpenTelemetry-format retrieved traces are not supported yet',
    offset,
    'retrieve the traces in X-Ray format: `aws xray list-retrieved-traces --trace-format XRAY`',
  );
}

function unknownShape(value: unknown, offset: number): ShapeError {
  if (typeof value === 'string' || typeof value === 'number') {
    return new ShapeError(
      `found a bare ${typeof value} where a trace was expected: this looks like the output of a --query projection (ids, URLs), not traces`,
      offset,
      "run batch-get-traces without --query, or with --query 'Traces[*]'",
    );
  }
  const keys = isObject(value) ? Object.keys(value).slice(0, 8).join(', ') : typeof value;
  return new ShapeError(
    `not an X-Ray trace export (found ${isObject(value) ? `keys: ${keys}` : keys})`,
    offset,
    'expected batch-get-traces output ({"Traces": [...]}), Trace objects, or segment documents',
  );
}
