/**
 * OpenTelemetry spans in every layout they are exported in, brought to one shape: the flat records
 * of CloudWatch Transaction Search (`aws/spans`) and the OTLP/JSON `resourceSpans` documents
 * (docs/otel-format.md). Everything after this (workload, calls, outcomes) reads {@link Span}.
 *
 * A span that cannot be stored exactly once (bad trace or span id, no resource, no start time) is
 * refused with its position: the input is rejected whole, as for any malformed dump.
 */
import { ShapeError } from './errors.js';
import { asObject, isObject } from '../shared/values.js';
import { PLAUSIBLE_SECONDS } from '../shared/time.js';

/** A span's kind, as OTLP names it. */
export type SpanKind = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER' | 'UNSPECIFIED';

/** One span, whatever layout it came in. */
export interface Span {
  /** The trace id in X-Ray form (`1-8hex-24hex`): the same id as the W3C 32 digits, stored once. */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: SpanKind;
  /** Epoch seconds (microsecond precision). */
  start: number;
  end: number | null;
  /** Span attributes as a plain map (arrays kept as arrays). */
  attributes: Record<string, unknown>;
  /** Resource attributes as a plain map. */
  resource: Record<string, unknown>;
  status: { code: 'OK' | 'ERROR' | 'UNSET'; message: string | null };
  /** Events (`exception` events carry the error). */
  events: { name: string; attributes: Record<string, unknown> }[];
}

const KINDS: readonly SpanKind[] = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const HEX32 = /^[0-9a-f]{32}$/i;
const HEX16 = /^[0-9a-f]{16}$/i;
const XRAY_ID = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/i;

/**
 * A trace id in the one form xray-lp stores: X-Ray's `1-<8 hex>-<24 hex>`. A W3C id (32 hex
 * digits) is the same id with the digits concatenated (X-Ray documents this equivalence), so the
 * same trace exported by X-Ray and by Transaction Search is stored once. Other texts are returned
 * as they are (X-Ray input keeps what it had); undefined for text that is no trace id at all.
 */
export function canonicalTraceId(id: string): string {
  const t = id.trim();
  if (HEX32.test(t)) return `1-${t.slice(0, 8).toLowerCase()}-${t.slice(8).toLowerCase()}`;
  const x = XRAY_ID.exec(t);
  if (x) return `1-${(x[1] as string).toLowerCase()}-${(x[2] as string).toLowerCase()}`;
  return t;
}

/** Where a span was found, for error messages. */
export interface SpanContext {
  offset: number;
  /** What the value is called in messages (`the span record`, `Spans[3].Document`). */
  what: string;
}

function fail(ctx: SpanContext, message: string, hint: string): never {
  throw new ShapeError(`${ctx.what}: ${message}`, ctx.offset, hint);
}

const HINT_IDS =
  'OpenTelemetry trace ids are 32 and span ids 16 hexadecimal digits: the export is damaged or not a span export';

function traceIdOf(v: unknown, ctx: SpanContext): string {
  if (typeof v !== 'string' || !(HEX32.test(v) || XRAY_ID.test(v)) || /^0+$/.test(v))
    fail(ctx, `traceId ${JSON.stringify(v)} is not a trace id`, HINT_IDS);
  return canonicalTraceId(v);
}

function spanIdOf(v: unknown, name: string, ctx: SpanContext): string {
  if (typeof v !== 'string' || !HEX16.test(v) || /^0+$/.test(v))
    fail(ctx, `${name} ${JSON.stringify(v)} is not a span id`, HINT_IDS);
  return v.toLowerCase();
}

/** Nanosecond epoch times this far out are not times: before 2000 or after 2200. */
const NANOS_MIN = BigInt(PLAUSIBLE_SECONDS.min) * 1_000_000_000n;
const NANOS_MAX = BigInt(PLAUSIBLE_SECONDS.max) * 1_000_000_000n;

/**
 * A nanosecond epoch time, as a decimal string (OTLP) or a JSON number (flat records), in epoch
 * seconds to the microsecond. Flat records write 19-digit numbers, above 2^53: the shape reader
 * keeps their digits (shapes.ts), so that every layout of a span gives the same time. Anything
 * that is not a whole, plausible nanosecond time is refused.
 */
function nanos(v: unknown, name: string, ctx: SpanContext, required: boolean): number | null {
  if (v === undefined || v === null || v === '' || v === 0 || v === '0') {
    if (required)
      fail(ctx, `${name} is missing`, 'a span needs its start time: the export is damaged or incomplete');
    return null;
  }
  let n: bigint;
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) n = BigInt(v);
  else if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
  else
    fail(
      ctx,
      `${name} ${JSON.stringify(v)} is not a time in nanoseconds`,
      'write times as nanoseconds since the epoch, as OTLP does',
    );
  if (n < NANOS_MIN || n > NANOS_MAX)
    fail(
      ctx,
      `${name} ${JSON.stringify(v)} is not a plausible time in nanoseconds (before 2000 or after 2200)`,
      'times are nanoseconds since 1970-01-01: check the unit, or whether the value overflowed when it was written',
    );
  // Microseconds, rounded half up, exactly (what the rest of xray-lp keeps).
  return Number((n + 500n) / 1000n) / 1e6;
}

function kindOf(v: unknown): SpanKind {
  if (typeof v === 'number' && Number.isInteger(v)) return KINDS[v] ?? 'UNSPECIFIED';
  if (typeof v === 'string') {
    const k = v.toUpperCase().replace(/^SPAN_KIND_/, '');
    if ((KINDS as readonly string[]).includes(k)) return k as SpanKind;
  }
  return 'UNSPECIFIED';
}

function statusOf(v: unknown): Span['status'] {
  const s = asObject(v);
  const code = s?.code;
  const message = typeof s?.message === 'string' && s.message !== '' ? s.message : null;
  // OTLP: 0 unset, 1 ok, 2 error; flat records: the names.
  const c =
    typeof code === 'number'
      ? ['UNSET', 'OK', 'ERROR'][code]
      : typeof code === 'string'
        ? code.toUpperCase().replace(/^STATUS_CODE_/, '')
        : 'UNSET';
  return { code: c === 'OK' || c === 'ERROR' ? c : 'UNSET', message };
}

/* ------------------------------------------------------------------ flat records (aws/spans) */

/** True when a JSON object is a flat span record (Transaction Search, `aws/spans`). */
export function isSpanRecord(v: Record<string, unknown>): boolean {
  return 'traceId' in v && 'spanId' in v;
}

/** A flat span record: plain attribute maps, kind as a name, times in nanoseconds. */
export function spanFromRecord(r: Record<string, unknown>, ctx: SpanContext): Span {
  const resource = asObject(asObject(r.resource)?.attributes);
  if (!resource)
    fail(
      ctx,
      'the span has no resource attributes',
      'every span record of aws/spans carries `resource.attributes`: the export is damaged or not a span export',
    );
  const parent = r.parentSpanId;
  const events = Array.isArray(r.events) ? r.events : [];
  return {
    traceId: traceIdOf(r.traceId, ctx),
    spanId: spanIdOf(r.spanId, 'spanId', ctx),
    parentSpanId:
      parent === undefined || parent === null || parent === '' ? null : spanIdOf(parent, 'parentSpanId', ctx),
    name: typeof r.name === 'string' ? r.name : '',
    kind: kindOf(r.kind),
    start: nanos(r.startTimeUnixNano, 'startTimeUnixNano', ctx, true) as number,
    end: nanos(r.endTimeUnixNano, 'endTimeUnixNano', ctx, false),
    attributes: asObject(r.attributes) ?? {},
    resource,
    status: statusOf(r.status),
    events: events.filter(isObject).map((e) => ({
      name: typeof e.name === 'string' ? e.name : '',
      attributes: asObject(e.attributes) ?? {},
    })),
  };
}

/* ------------------------------------------------------------------ OTLP/JSON */

/** True when a JSON object is an OTLP/JSON traces document. */
export function isOtlpDocument(v: Record<string, unknown>): boolean {
  return Array.isArray(v.resourceSpans);
}

/**
 * An OTLP `AnyValue` as plain JSON: `stringValue`, `intValue` (a decimal string), `doubleValue`,
 * `boolValue`, `arrayValue.values`, `kvlistValue.values`, `bytesValue` (base64, kept as text).
 */
export function anyValue(v: unknown): unknown {
  const o = asObject(v);
  if (!o) return null;
  if ('stringValue' in o) return o.stringValue;
  if ('intValue' in o) {
    const n = typeof o.intValue === 'string' ? Number(o.intValue) : o.intValue;
    return typeof n === 'number' && Number.isSafeInteger(n) ? n : String(o.intValue);
  }
  if ('doubleValue' in o) return o.doubleValue;
  if ('boolValue' in o) return o.boolValue;
  if ('arrayValue' in o) {
    const values = asObject(o.arrayValue)?.values;
    return Array.isArray(values) ? values.map(anyValue) : [];
  }
  if ('kvlistValue' in o) return attributeMap(asObject(o.kvlistValue)?.values);
  if ('bytesValue' in o) return o.bytesValue;
  return null;
}

/** An OTLP attribute list (`[{key, value}]`) as a plain map. Own keys only: `__proto__` stays data. */
export function attributeMap(list: unknown): Record<string, unknown> {
  // No prototype: a key named `__proto__` is an own property like any other (and assignment is
  // several times faster than defineProperty, which this ran per attribute before).
  const out = Object.create(null) as Record<string, unknown>;
  if (!Array.isArray(list)) return out;
  for (const kv of list) {
    const o = asObject(kv);
    if (!o || typeof o.key !== 'string') continue;
    out[o.key] = anyValue(o.value);
  }
  return out;
}

/**
 * The `attributes` of an OTLP span, event or resource: absent is none; anything but a list of
 * `{key, value}` pairs (a flat `{name: value}` map, as aws/spans records write) is refused, so
 * that no span is taken in with its attributes, and so its calls, silently lost.
 */
export function otlpAttributes(list: unknown, ctx: SpanContext, what: string): Record<string, unknown> {
  if (list !== undefined && list !== null && !Array.isArray(list))
    fail(
      ctx,
      `${what} is ${isObject(list) ? 'an object' : `a ${typeof list}`}, not a list of {key, value} pairs`,
      'OTLP/JSON writes attributes as [{"key": "rpc.method", "value": {"stringValue": "GetItem"}}]; a flat {"rpc.method": "GetItem"} map belongs in an aws/spans record, one per line: fix the exporter or convert the file',
    );
  return attributeMap(list);
}

/** An OTLP span (ids lower-case hex, `kind` an integer, times decimal strings) with its resource. */
export function spanFromOtlp(
  s: Record<string, unknown>,
  resource: Record<string, unknown>,
  ctx: SpanContext,
): Span {
  const parent = s.parentSpanId;
  const events = Array.isArray(s.events) ? s.events : [];
  return {
    traceId: traceIdOf(s.traceId, ctx),
    spanId: spanIdOf(s.spanId, 'spanId', ctx),
    parentSpanId:
      parent === undefined || parent === null || parent === '' ? null : spanIdOf(parent, 'parentSpanId', ctx),
    name: typeof s.name === 'string' ? s.name : '',
    kind: kindOf(s.kind),
    start: nanos(s.startTimeUnixNano, 'startTimeUnixNano', ctx, true) as number,
    end: nanos(s.endTimeUnixNano, 'endTimeUnixNano', ctx, false),
    attributes: otlpAttributes(s.attributes, ctx, "the span's attributes"),
    resource,
    status: statusOf(s.status),
    events: events.filter(isObject).map((e) => ({
      name: typeof e.name === 'string' ? e.name : '',
      attributes: otlpAttributes(e.attributes, ctx, "a span event's attributes"),
    })),
  };
}

/** The resource of one `resourceSpans` element (refused when absent: no workload without it). */
export function otlpResource(rs: Record<string, unknown>, ctx: SpanContext): Record<string, unknown> {
  const resource = asObject(rs.resource);
  if (!resource)
    fail(
      ctx,
      'a resourceSpans entry has no resource',
      'OTLP exports carry the resource of their spans: the export is damaged',
    );
  return otlpAttributes(resource.attributes, ctx, "the resource's attributes");
}

/** Every span of one `resourceSpans` element. */
export function spansOfResource(rs: unknown, ctx: SpanContext): Span[] {
  const r = asObject(rs);
  if (!r)
    fail(
      ctx,
      'a resourceSpans entry is not an object',
      'expected OTLP/JSON: {"resourceSpans": [{"resource", "scopeSpans"}]}',
    );
  const resource = otlpResource(r, ctx);
  const out: Span[] = [];
  const scopes = Array.isArray(r.scopeSpans)
    ? r.scopeSpans
    : Array.isArray(r.instrumentationLibrarySpans)
      ? r.instrumentationLibrarySpans
      : [];
  for (const ss of scopes) {
    const spans = asObject(ss)?.spans;
    if (!Array.isArray(spans)) continue;
    for (const s of spans) {
      const o = asObject(s);
      if (!o) fail(ctx, 'a span is not an object', 'expected OTLP/JSON spans');
      out.push(spanFromOtlp(o, resource, ctx));
    }
  }
  return out;
}

/** Every span of an OTLP/JSON document. */
export function spansOfOtlp(doc: Record<string, unknown>, ctx: SpanContext): Span[] {
  const out: Span[] = [];
  for (const rs of doc.resourceSpans as unknown[]) for (const s of spansOfResource(rs, ctx)) out.push(s);
  return out;
}
