/**
 * Recognises what each JSON value of an input is, and turns it into items: X-Ray exports
 * (batch-get-traces responses, bare trace arrays, single traces, list-retrieved-traces output,
 * raw segment documents, daemon packets, put-trace-segments input) and OpenTelemetry exports
 * (aws/spans records, filter-log-events and get-log-events output, OTLP/JSON, list-retrieved-traces
 * in OTEL format). Shapes that look like trace data but cannot be ingested are refused with a hint.
 */
import { configFacts, configShape, type ConfigFact, type ConfigShape } from './config.js';
import {
  isTrailProblem,
  lakeRecord,
  lookupRecord,
  readTrailEvent,
  recordOf,
  trailRecords,
  trailShape,
  type TrailEvent,
  type TrailProblem,
  type TrailRecord,
  type TrailShape,
} from './cloudtrail.js';
import { parseJson, parsedSizeEstimate } from '../json/parse.js';
import type { PartValue, SplitEvent, StreamedPart } from '../json/split.js';
import { ResourceSpansStream } from './otlp-stream.js';
import { LargeValueStream } from './large-value.js';
import { isObject } from '../shared/values.js';
import { ShapeError } from './errors.js';
import {
  isOtlpDocument,
  isSpanRecord,
  spanFromRecord,
  spansOfOtlp,
  spansOfResource,
  type Span,
} from './spans.js';

export { ShapeError };

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
  | { kind: 'spans'; spans: Span[]; offset: number }
  | { kind: 'unprocessed'; ids: string[] }
  /** Facts of a configuration export (config.ts), beside the traces. */
  | { kind: 'config'; facts: ConfigFact[]; offset: number }
  /** CloudTrail records read as evidence, and those that could not be (cloudtrail.ts). */
  | { kind: 'trail'; events: TrailEvent[]; problems: TrailProblem[]; offset: number };

/** The shape an input turned out to have (the first one seen, for provenance). */
export type DumpShape =
  | 'batch-get-traces'
  | 'trace-array'
  | 'trace'
  | 'list-retrieved-traces'
  | 'segment-documents'
  | 'daemon-packets'
  | 'put-trace-segments'
  | 'otel-spans'
  | 'cloudwatch-log-events'
  | 'otlp'
  | ConfigShape
  | TrailShape
  | 'empty';

/** The keys whose digits are looked up, as text and as bytes (a Buffer needle is searched natively). */
const NEEDLES = {
  startTimeUnixNano: { text: '"startTimeUnixNano":', bytes: Buffer.from('"startTimeUnixNano":') },
  endTimeUnixNano: { text: '"endTimeUnixNano":', bytes: Buffer.from('"endTimeUnixNano":') },
};

/**
 * The digits of the number written after the first `"key":` of a value's text, when they are the
 * number `parsed` as JSON.parse read it (else undefined: the key came first somewhere else, say as
 * an attribute name, and the caller parses the value again keeping every time's digits).
 */
function digitsOf(bytes: Buffer | string, key: keyof typeof NEEDLES, parsed: number): string | undefined {
  const needle = NEEDLES[key];
  const at = typeof bytes === 'string' ? bytes.indexOf(needle.text) : bytes.indexOf(needle.bytes);
  if (at < 0) return undefined;
  const from = at + needle.text.length;
  const text =
    typeof bytes === 'string' ? bytes.slice(from, from + 40) : bytes.toString('latin1', from, from + 40);
  const m = /^\s*(\d{16,20})(?![\d.eE])/.exec(text);
  return m && Number(m[1]) === parsed ? (m[1] as string) : undefined;
}

/**
 * True when a nanosecond time read as a double (within ±128 ns of its digits at today's values)
 * could round to another microsecond than its digits do: only then are the digits looked up.
 * Three times in four the whole interval lies inside one microsecond's rounding interval.
 */
function ambiguous(v: number): boolean {
  // Not a whole number: refused later as a time (spans.ts); nothing to look up.
  if (!Number.isInteger(v) || v < 0) return false;
  // Half the distance between neighbouring doubles at v: how far the digits may be from it.
  const half = 2 ** (Math.floor(Math.log2(v)) - 53) + 1;
  const r = Number((BigInt(v) + 500n) % 1000n);
  return r < half || r >= 1000 - half;
}

/** A JSON number that lost digits in parsing. */
function inexact(v: unknown): boolean {
  return typeof v === 'number' && !Number.isSafeInteger(v);
}

/** The span objects of OTLP `resourceSpans` elements, unconverted. */
function otlpSpanObjects(resourceSpans: unknown[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const rs of resourceSpans) {
    const scopes = isObject(rs) ? (rs.scopeSpans ?? rs.instrumentationLibrarySpans) : undefined;
    if (!Array.isArray(scopes)) continue;
    for (const ss of scopes) {
      const spans = isObject(ss) ? ss.spans : undefined;
      if (Array.isArray(spans)) for (const s of spans) if (isObject(s)) out.push(s);
    }
  }
  return out;
}

/**
 * The most memory one value read whole may take (by {@link parsedSizeEstimate}): one trace of a
 * batch-get-traces response, one segment document or span record (also when read member by
 * member), one member of a huge document. It must fit the parse worker's heap
 * (pipeline.ts WORKER_HEAP_MB) beside the interning tables (wire.ts); past it the input is
 * refused with the value's position and size, never dropped.
 */
export const MAX_VALUE_HEAP = 32 * 1024 * 1024;

/**
 * Bytes of one value the splitter holds as text at most: a larger one is streamed and assembled
 * in bounded memory (large-value.ts), its long strings cut; a JSON string in it (a `Document`)
 * is kept whole up to this size.
 */
export const MAX_VALUE_BYTES = 12 * 1024 * 1024;

/** Values smaller than this are parsed unestimated: whatever they hold fits (21 × this at worst). */
const ESTIMATE_FROM = 256 * 1024;

/** Members of a top-level object that a container shape reads element by element. */
const CONTAINER_KEYS: ReadonlySet<string> = new Set([
  'Traces',
  'Segments',
  'Spans',
  'resourceSpans',
  'UnprocessedTraceIds',
  'TraceSegmentDocuments',
  'Records',
  'Events',
  'QueryResultRows',
]);

/** The start of a `\u` escape, as bytes. */
const BACKSLASH_U = Buffer.from('\\u');

/** Span record members holding nanosecond times as bare numbers. */
const NANO_KEYS: ReadonlySet<string> = new Set(['startTimeUnixNano', 'endTimeUnixNano']);

/**
 * Members whose elements the splitter may pass on in pieces when one is too large to parse whole
 * (an OTLP resource with a huge `spans` array): read by {@link ResourceSpansStream}.
 */
export const STREAM_KEYS: ReadonlySet<string> = new Set(['resourceSpans']);

/** The CloudTrail item of some records: each one evidence or a counted problem, never guessed. */
function trailItem(records: TrailRecord[], offset: number): DumpItem {
  const events: TrailEvent[] = [];
  const problems: TrailProblem[] = [];
  for (const r of records) {
    const e = readTrailEvent(r.record, offset, r.where);
    if (isTrailProblem(e)) problems.push(e);
    else events.push(e);
  }
  return { kind: 'trail', events, problems, offset };
}

export class ShapeReader {
  /** The first shape recognised in this input. */
  shape: DumpShape = 'empty';
  /** Members seen in the current part-mode object (for its trace metadata). */
  private partTrace: { id?: string; duration?: number; limitExceeded?: boolean } = {};
  private partSawSegments = false;
  /** Set after a daemon header line: the next value is one segment document. */
  private sawDaemonHeader = false;

  /** The members of a top-level object read in parts that is not (yet) known as a container. */
  private record:
    { members: Record<string, unknown>; bytes: number; heap: number; offset: number } | undefined;
  /** True once the object read in parts showed a member only a container shape has. */
  private partContainer = false;

  /** Strings whose lone surrogates were replaced by U+FFFD (json/parse.ts): reported as data problems. */
  readonly surrogates = { replaced: 0 };
  /** False while the value being read held no `\u` escape in its bytes (see parse()). */
  private escapes = true;

  /** The OTLP `resourceSpans` element being streamed, if any. */
  private resourceSpans: ResourceSpansStream | undefined;

  /**
   * A piece of a part too large to parse whole: an OTLP resource is read span by span (see
   * {@link STREAM_KEYS}); any other value is assembled in bounded memory ({@link streamedValue}).
   */
  private streamed(event: StreamedPart): DumpItem[] {
    if (event.key !== 'resourceSpans' || !event.element || event.top !== 'object' || this.large)
      return this.streamedValue(event);
    this.setShape('otlp');
    this.partContainer = true;
    this.record = undefined;
    if (event.first) this.resourceSpans = new ResourceSpansStream();
    const reader = this.resourceSpans as ResourceSpansStream;
    const spans = reader.push(event.bytes, event.offset);
    if (event.last) {
      spans.push(...reader.end(event.offset + event.bytes.length));
      this.resourceSpans = undefined;
    }
    return spans.length > 0 ? [{ kind: 'spans', spans, offset: event.offset }] : [];
  }

  /** The value too large to hold as text being streamed, if any (large-value.ts). */
  private large: { stream: LargeValueStream; offset: number } | undefined;

  /** A part too large to hold as text: assembled in bounded memory, then read as any part. */
  private streamedValue(event: StreamedPart): DumpItem[] {
    if (event.first) {
      const what = !event.key
        ? 'this array element'
        : event.element
          ? `an element of "${event.key}"`
          : `member "${event.key}"`;
      this.large = {
        offset: event.offset,
        stream: new LargeValueStream(
          event.offset,
          what,
          {
            maxText: MAX_VALUE_BYTES,
            maxHeap: MAX_VALUE_HEAP,
            onSurrogate: () => this.surrogates.replaced++,
          },
          event.key || null,
        ),
      };
    }
    const large = this.large as { stream: LargeValueStream; offset: number };
    large.stream.push(event.bytes, event.offset);
    if (!event.last) return [];
    this.large = undefined;
    const { value, bytes, heap } = large.stream.end();
    // Its bytes were never searched: the strings in it may hold escapes.
    this.escapes = true;
    return this.fromPart({ ...event, offset: large.offset }, value, () => ({ bytes, heap }));
  }

  /** True once an OTLP document held a nanosecond time as a bare number above 2^53. */
  private exactNanos = false;

  /**
   * Parses one value. Flat span records write nanosecond times as bare 19-digit numbers, which
   * `JSON.parse` rounds (to 256 ns): their two times are read again from the text, so that a span
   * gives the same microsecond in every layout. OTLP documents write strings; one that does not
   * is parsed again keeping every time's digits, and so is every value after it.
   */
  private parse(bytes: Buffer | string, offset: number, what: string, key?: string): unknown {
    // A string is part of a value already estimated (a Document string of a trace).
    if (typeof bytes !== 'string') {
      if (bytes.length >= ESTIMATE_FROM) checkSize(bytes, offset, what);
      // A string in it can hold a `\u` escape only if its bytes do (a native search, cheaper
      // than looking for surrogate escapes in every Document string).
      this.escapes = bytes.indexOf(BACKSLASH_U) >= 0;
    }
    const value = parseJson(bytes, offset, what, {
      exactNanos: this.exactNanos,
      surrogates: this.surrogates,
      escapes: this.escapes,
    });
    if (this.exactNanos || !isObject(value)) return value;
    if (isSpanRecord(value)) {
      // A flat record (the common case): its two times read again from their digits.
      for (const k of ['startTimeUnixNano', 'endTimeUnixNano'] as const) {
        const v = value[k];
        if (!inexact(v) || !ambiguous(v as number)) continue;
        const digits = digitsOf(bytes, k, v as number);
        if (digits === undefined)
          return parseJson(bytes, offset, what, {
            exactNanos: true,
            surrogates: this.surrogates,
            escapes: this.escapes,
          });
        value[k] = digits;
      }
      return value;
    }
    // OTLP writes times as strings, but a hand-made document may not: then every value after it
    // is parsed keeping its digits.
    const spans = isOtlpDocument(value)
      ? otlpSpanObjects(value.resourceSpans as unknown[])
      : key === 'resourceSpans'
        ? otlpSpanObjects([value])
        : [];
    if (!spans.some((s) => inexact(s.startTimeUnixNano) || inexact(s.endTimeUnixNano))) return value;
    this.exactNanos = true;
    return parseJson(bytes, offset, what, {
      exactNanos: true,
      surrogates: this.surrogates,
      escapes: this.escapes,
    });
  }

  /** Converts one split event into zero or more items; throws {@link ShapeError}. */
  read(event: SplitEvent): DumpItem[] {
    if (event.kind === 'whole') {
      const value = this.parse(event.bytes, event.offset, 'this document');
      return this.fromTop(value, event.offset);
    }
    if (event.kind === 'parts-end') {
      const items: DumpItem[] = [];
      const record = this.record;
      this.record = undefined;
      const container = this.partContainer;
      this.partContainer = false;
      // A record too large to parse whole (a segment document with megabytes of metadata), read
      // member by member: now whole, it is read as any top-level value is.
      if (!container && record) items.push(...this.fromTop(record.members, record.offset));
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
    if (event.kind === 'stream') return this.streamed(event);
    const value = this.parse(
      event.bytes,
      event.offset,
      event.key ? `member "${event.key}"` : 'this array element',
      event.key,
    );
    return this.fromPart(event, value, () => ({
      bytes: event.bytes.length,
      heap: parsedSizeEstimate(event.bytes),
    }));
  }

  /**
   * One member of a top-level value read in parts; `size` says how long it was and about how much
   * memory it takes parsed (asked only of a record's members: counting costs a pass over the bytes).
   */
  private fromPart(
    event: Pick<PartValue, 'offset' | 'top' | 'element' | 'topOffset'> & { key: string | undefined },
    value: unknown,
    size: () => { bytes: number; heap: number },
  ): DumpItem[] {
    if (event.top === 'array') return this.fromArrayElement(value, event.offset);
    const key = event.key ?? '';
    if (this.isContainerPart(key, value)) {
      this.partContainer = true;
      this.record = undefined;
    } else if (!this.partContainer) this.addToRecord(event, key, value, size());
    if (!event.element) {
      // A non-array member of a huge top-level object.
      if (key === 'Id' && typeof value === 'string') this.partTrace.id = value;
      else if (key === 'Duration' && duration(value) !== undefined) this.partTrace.duration = duration(value);
      else if (key === 'LimitExceeded' && typeof value === 'boolean') this.partTrace.limitExceeded = value;
      this.rejectTopKey(key, event.offset);
      return [];
    }
    this.rejectTopKey(key, event.offset);
    switch (key) {
      case 'Traces':
        this.setShape('batch-get-traces');
        return this.trace(value, event.offset);
      case 'Segments':
      case 'Spans': {
        this.setShape('trace');
        this.partSawSegments = true;
        const { docs, spans } = this.entries([value], event.offset, key);
        return [
          ...docs.map((doc): DumpItem => ({ kind: 'segment', doc, offset: event.offset })),
          ...(spans.length > 0 ? [{ kind: 'spans' as const, spans, offset: event.offset }] : []),
        ];
      }
      case 'resourceSpans':
        // One resource of a huge OTLP/JSON document.
        this.setShape('otlp');
        return [
          {
            kind: 'spans',
            spans: spansOfResource(value, { offset: event.offset, what: 'resourceSpans[]' }),
            offset: event.offset,
          },
        ];
      case 'events':
        // One log event of a huge filter-log-events or get-log-events output.
        this.setShape('cloudwatch-log-events');
        return this.logEvents([value], event.offset);
      case 'UnprocessedTraceIds':
        return typeof value === 'string' ? [{ kind: 'unprocessed', ids: [value] }] : [];
      case 'Records':
        // One record of a huge CloudTrail log file.
        this.setShape('cloudtrail-records');
        return [
          trailItem(
            [{ record: recordOf(value, event.offset, 'Records[]'), where: 'Records[]' }],
            event.offset,
          ),
        ];
      case 'Events':
        this.setShape('cloudtrail-lookup-events');
        return [
          trailItem(
            [{ record: lookupRecord(value, event.offset, 'Events[]'), where: 'Events[]' }],
            event.offset,
          ),
        ];
      case 'QueryResultRows':
        this.setShape('cloudtrail-lake');
        return [
          {
            ...trailItem(
              [{ record: lakeRecord(value, event.offset, 0), where: 'QueryResultRows[]' }],
              event.offset,
            ),
          },
        ];
      case 'TraceSegmentDocuments':
        this.setShape('put-trace-segments');
        return [{ kind: 'segment', doc: this.segmentDoc(value, event.offset), offset: event.offset }];
      default:
        return [];
    }
  }

  /**
   * True for a member that a container shape reads element by element (a huge batch-get-traces
   * response, Trace object, OTLP document, log-events page): the object is then no record.
   * `events` is also a span record's own member: only log events carry a `message`.
   */
  private isContainerPart(key: string, value: unknown): boolean {
    if (key === 'events') return isObject(value) && 'message' in value;
    return CONTAINER_KEYS.has(key);
  }

  /**
   * Keeps a member of a top-level object read in parts, until the object ends or shows itself a
   * container. Bounded: a record past {@link MAX_VALUE_HEAP} is refused, with its size.
   */
  private addToRecord(
    event: Pick<PartValue, 'element' | 'topOffset'> & { bytes?: Buffer },
    key: string,
    value: unknown,
    size: { bytes: number; heap: number },
  ): void {
    const record = (this.record ??= { members: {}, bytes: 0, heap: 0, offset: event.topOffset });
    record.bytes += size.bytes;
    record.heap += size.heap;
    if (record.heap > MAX_VALUE_HEAP)
      throw tooLarge('this value', record.offset, `the first ${record.bytes} bytes of it`, record.heap);
    // A flat span record's nanosecond times keep their digits (see parse()).
    const digits =
      NANO_KEYS.has(key) && event.bytes ? /^\s*(\d{16,20})\s*$/.exec(event.bytes.toString('latin1')) : null;
    const member = digits ? digits[1] : value;
    if (!event.element) {
      record.members[key] = member;
      return;
    }
    const list = record.members[key];
    if (Array.isArray(list)) list.push(member);
    else record.members[key] = [member];
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
    if (isSpanRecord(value)) {
      this.setShape('otel-spans');
      return [{ kind: 'spans', spans: [spanFromRecord(value, { offset, what: 'the span record' })], offset }];
    }
    if (isOtlpDocument(value)) {
      this.setShape('otlp');
      return [{ kind: 'spans', spans: spansOfOtlp(value, { offset, what: 'the OTLP document' }), offset }];
    }
    const config = configShape(value);
    if (config) {
      this.setShape(config);
      return [{ kind: 'config', facts: configFacts(value, offset), offset }];
    }
    const trail = trailShape(value);
    if (trail) {
      this.setShape(trail);
      return [trailItem(trailRecords(value, offset), offset)];
    }
    if (Array.isArray(value.events) && value.events.some((e) => isObject(e) && 'message' in e)) {
      this.setShape('cloudwatch-log-events');
      return this.logEvents(value.events, offset);
    }
    if ('@message' in value) {
      // A Logs Insights result row (`fields @message`), saved as JSON lines.
      this.setShape('otel-spans');
      return this.logEvents([{ message: value['@message'] }], offset);
    }
    if (value.format === 'json' && 'version' in value && !('trace_id' in value)) {
      // Daemon UDP packet header; the segment document follows as the next value.
      this.sawDaemonHeader = true;
      this.setShape('daemon-packets');
      return [];
    }
    if (Array.isArray(value.Traces)) {
      const retrieved = 'RetrievalStatus' in value || 'TraceFormat' in value;
      this.setShape(retrieved ? 'list-retrieved-traces' : 'batch-get-traces');
      const items: DumpItem[] = value.Traces.flatMap((t) => this.trace(t, offset));
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
      return value.TraceSegmentDocuments.map((d): DumpItem => ({
        kind: 'segment',
        doc: this.segmentDoc(d, offset),
        offset,
      }));
    }
    if (Array.isArray(value.Segments) || Array.isArray(value.Spans)) {
      this.setShape('trace');
      return this.trace(value, offset);
    }
    if ('Document' in value && !('Segments' in value)) {
      // One `{Id, Document}` entry on its own (cut out of a Segments array).
      this.setShape('segment-documents');
      return this.entryItems([value], offset, 'Segments');
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
      return this.trace(value, offset);
    }
    if (isObject(value) && isSpanRecord(value)) {
      this.setShape('otel-spans');
      return [{ kind: 'spans', spans: [spanFromRecord(value, { offset, what: 'a span record' })], offset }];
    }
    if (isObject(value) && looksLikeSegment(value)) {
      this.setShape('segment-documents');
      return [{ kind: 'segment', doc: value, offset }];
    }
    if (isObject(value) && ('HasFault' in value || 'ResponseTime' in value)) throw summariesError(offset);
    if (isObject(value) && ('Document' in value || 'Id' in value)) {
      // A bare Segments[] array ({Id, Document} entries).
      this.setShape('segment-documents');
      return this.entryItems([value], offset, 'array');
    }
    throw unknownShape(value, offset);
  }

  /**
   * One Trace object: its X-Ray segment documents as a trace item, and (list-retrieved-traces in
   * OTEL format) its span documents as a spans item.
   */
  private trace(value: unknown, offset: number): DumpItem[] {
    if (!isObject(value)) throw new ShapeError('expected a Trace object in Traces[]', offset);
    const list = Array.isArray(value.Segments)
      ? value.Segments
      : Array.isArray(value.Spans)
        ? value.Spans
        : [];
    const key = Array.isArray(value.Segments) ? 'Segments' : 'Spans';
    const { docs, spans } = this.entries(list, offset, key);
    const items: DumpItem[] = [];
    if (docs.length > 0 || spans.length === 0)
      items.push({
        kind: 'trace',
        id: typeof value.Id === 'string' ? value.Id : undefined,
        duration: duration(value.Duration),
        limitExceeded: typeof value.LimitExceeded === 'boolean' ? value.LimitExceeded : undefined,
        segments: docs,
        offset,
      });
    if (spans.length > 0) items.push({ kind: 'spans', spans, offset });
    return items;
  }

  /** {@link entries} as items: segments one by one, spans together. */
  private entryItems(list: unknown[], offset: number, key: string): DumpItem[] {
    const { docs, spans } = this.entries(list, offset, key);
    return [
      ...docs.map((doc): DumpItem => ({ kind: 'segment', doc, offset })),
      ...(spans.length > 0 ? [{ kind: 'spans' as const, spans, offset }] : []),
    ];
  }

  /**
   * `{Id, Document: "<json>"}`, `{Id, Document: {…}}`, or an already-parsed document. A Document
   * holding an OpenTelemetry span (a flat record or an OTLP document, as list-retrieved-traces
   * gives in OTEL format) is read as spans; anything else must be an X-Ray segment document.
   */
  private entries(list: unknown[], offset: number, key: string): { docs: SegmentDoc[]; spans: Span[] } {
    const docs: SegmentDoc[] = [];
    const spans: Span[] = [];
    for (const [i, entry] of list.entries()) {
      if (!isObject(entry)) throw new ShapeError(`expected an object in ${key}[]`, offset);
      if (!('Document' in entry)) {
        if (looksLikeSegment(entry)) docs.push(entry);
        else
          throw new ShapeError(
            `an entry of ${key}[] has neither a Document nor segment fields (id, name, trace_id)`,
            offset,
          );
        continue;
      }
      const raw = entry.Document;
      const doc = typeof raw === 'string' ? this.parse(raw, offset, `${key}[${i}].Document`) : raw;
      const what = `${key}[${i}].Document`;
      if (isObject(doc) && isSpanRecord(doc)) spans.push(spanFromRecord(doc, { offset, what }));
      else if (isObject(doc) && isOtlpDocument(doc)) spans.push(...spansOfOtlp(doc, { offset, what }));
      else docs.push(this.segmentDoc(doc, offset));
    }
    return { docs, spans };
  }

  /**
   * CloudWatch Logs events (`filter-log-events`, `get-log-events`, Logs Insights rows): each
   * `message` is one span record of `aws/spans`, as a JSON string.
   */
  private logEvents(events: unknown[], offset: number): DumpItem[] {
    const spans: Span[] = [];
    for (const [i, e] of events.entries()) {
      const message = isObject(e) ? e.message : undefined;
      const what = `events[${i}].message`;
      // A Lambda log line (`START RequestId: …`) means another log group was exported.
      const json = typeof message === 'string' && message.trimStart().startsWith('{');
      const record = json ? this.parse(message, offset, what) : message;
      if (!isObject(record) || !isSpanRecord(record))
        throw new ShapeError(
          `${what} is not an OpenTelemetry span record`,
          offset,
          'xray-lp reads the spans of the aws/spans log group (Transaction Search): export that log group',
        );
      spans.push(spanFromRecord(record, { offset, what }));
    }
    return spans.length > 0 ? [{ kind: 'spans', spans, offset }] : [];
  }

  private segmentDoc(document: unknown, offset: number): SegmentDoc {
    const doc =
      typeof document === 'string'
        ? parseJson(document, offset, 'a segment Document string', {
            surrogates: this.surrogates,
            escapes: this.escapes,
          })
        : document;
    if (!isObject(doc)) throw new ShapeError('a segment Document is not a JSON object', offset);
    // Inside a Segments/Spans entry a document is a segment even when it lacks fields (extract
    // reports those as problems); only a foreign object is refused.
    if (!('id' in doc || 'trace_id' in doc || 'name' in doc || 'start_time' in doc)) {
      throw new ShapeError(
        `a segment Document lacks X-Ray segment fields (found keys: ${Object.keys(doc).slice(0, 8).join(', ')})`,
        offset,
      );
    }
    return doc;
  }
}

/** Refuses a value whose parsing would take more than {@link MAX_VALUE_HEAP}. */
function checkSize(bytes: Buffer, offset: number, what: string): void {
  const heap = parsedSizeEstimate(bytes);
  if (heap > MAX_VALUE_HEAP) throw tooLarge(what, offset, `${bytes.length} bytes`, heap);
}

function tooLarge(what: string, offset: number, bytes: string, heap: number): ShapeError {
  const mib = (n: number): string => `${Math.ceil(n / 1048576)} MiB`;
  return new ShapeError(
    `${what} is too large to read: ${bytes} would take about ${mib(heap)} of memory, more than the ${mib(MAX_VALUE_HEAP)} one trace, segment document or span may take`,
    offset,
    'remove or shorten its largest field (metadata, attributes) and ingest the file again, or ingest the other files without it',
  );
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
    `not a trace export (found ${isObject(value) ? `keys: ${keys}` : keys})`,
    offset,
    'expected X-Ray traces (batch-get-traces output, Trace objects, segment documents), OpenTelemetry spans (aws/spans records, OTLP/JSON), configuration exports or CloudTrail logs (Records files, lookup-events output)',
  );
}
