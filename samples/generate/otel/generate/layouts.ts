/**
 * The five export layouts, all made from the same normalized spans:
 *
 * 1. `aws/spans` flat records (one JSON object per line), the shape Transaction Search stores;
 * 2. `aws logs filter-log-events --log-group-name aws/spans` output;
 * 3. a CloudWatch Logs export to S3 of that log group (gzip, `<ISO time> <record>` lines);
 * 4. `aws xray list-retrieved-traces --trace-format OTEL` output pages (at most 5 traces each);
 * 5. OTLP/JSON request bodies from the real @opentelemetry/otlp-transformer JsonTraceSerializer,
 *    one per line (Collector file-exporter style), one per trace.
 */
import zlib from 'node:zlib';
import type { Attributes, HrTime } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { digits, hex, seeded } from '../../common/seed.js';
import type { NormSpan, NormTrace } from './normalize.js';

const KIND = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
const STATUS = ['UNSET', 'OK', 'ERROR'] as const;

/**
 * JSON.stringify that writes bigint values as plain JSON integers (nanosecond timestamps exceed
 * 2^53, so they cannot go through `number` without losing digits).
 */
function stringify(value: unknown, indent?: number): string {
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => (typeof v === 'bigint' ? `__OTS_BIGINT_${v.toString()}__` : v),
    indent,
  );
  return text.replace(/"__OTS_BIGINT_(\d+)__"/g, '$1');
}

/** Layout 1: one flat `aws/spans` record. */
export function flatRecord(s: NormSpan): Record<string, unknown> {
  const rec: Record<string, unknown> = {
    resource: { attributes: s.resource.attributes },
    scope: { name: s.scope.name, ...(s.scope.version ? { version: s.scope.version } : {}) },
    traceId: s.traceId,
    spanId: s.spanId,
  };
  if (s.parentSpanId) rec.parentSpanId = s.parentSpanId;
  Object.assign(rec, {
    name: s.name,
    kind: KIND[s.kind],
    startTimeUnixNano: s.startNs,
    endTimeUnixNano: s.endNs,
    durationNano: s.endNs - s.startNs,
    attributes: s.attributes,
    status: {
      code: STATUS[s.status.code],
      ...(s.status.message !== undefined ? { message: s.status.message } : {}),
    },
    events: s.events.map((e) => ({ name: e.name, timeUnixNano: e.timeNs, attributes: e.attributes })),
  });
  return rec;
}

export const flatRecordJson = (s: NormSpan): string => stringify(flatRecord(s));

/** All spans of all traces, in start-time order (ties: trace order, then span order). */
function allSpans(traces: NormTrace[]): NormSpan[] {
  return traces
    .flatMap((t) => t.spans)
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (a.s.startNs < b.s.startNs ? -1 : a.s.startNs > b.s.startNs ? 1 : a.i - b.i))
    .map(({ s }) => s);
}

export function awsSpansJsonl(traces: NormTrace[]): string {
  return allSpans(traces)
    .map((s) => flatRecordJson(s) + '\n')
    .join('');
}

/** The log event CloudWatch Logs holds for one span in `aws/spans`. */
interface LogEvent {
  logStreamName: string;
  timestamp: number;
  message: string;
  ingestionTime: number;
  eventId: string;
}

/** Log stream of the aws/spans log group. [assumption: Transaction Search writes one `default` stream] */
const SPANS_LOG_STREAM = 'default';

function logEvents(traces: NormTrace[]): LogEvent[] {
  return allSpans(traces).map((s) => {
    const timestamp = Number(s.startNs / 1_000_000n);
    return {
      logStreamName: SPANS_LOG_STREAM,
      timestamp,
      message: flatRecordJson(s),
      // Spans reach the log group a second or two after the span ended.
      ingestionTime: Number(s.endNs / 1_000_000n) + seeded(`ingest:${s.spanId}`, 700, 2600),
      // CloudWatch event ids are 56 decimal digits.
      eventId: digits(`event-id:${s.traceId}:${s.spanId}`, 56),
    };
  });
}

/** Layout 2: `aws logs filter-log-events --log-group-name aws/spans` (CLI output, 4-space indent). */
export function filterLogEvents(traces: NormTrace[]): string {
  return stringify({ events: logEvents(traces), searchedLogStreams: [] }, 4) + '\n';
}

/** Layout 3: a CloudWatch Logs export task's object: gzip of `<ISO timestamp> <message>` lines. */
export function s3ExportGzip(traces: NormTrace[]): Buffer {
  const text = logEvents(traces)
    .map((e) => `${new Date(e.timestamp).toISOString()} ${e.message}\n`)
    .join('');
  return zlib.gzipSync(text, { level: 9 });
}

/** Layout 4: `aws xray list-retrieved-traces --trace-format OTEL` pages, concatenated. */
export function listRetrievedTraces(traces: NormTrace[], pageSize = 5): { text: string; pages: number } {
  const ordered = [...traces].sort((a, b) => (a.spans[0]!.startNs < b.spans[0]!.startNs ? -1 : 1));
  const docs: string[] = [];
  for (let p = 0; p * pageSize < ordered.length; p++) {
    const page = ordered.slice(p * pageSize, (p + 1) * pageSize);
    const doc: Record<string, unknown> = {
      RetrievalStatus: 'COMPLETE',
      TraceFormat: 'OTEL',
      Traces: page.map((t) => {
        const start = t.spans.reduce((m, s) => (s.startNs < m ? s.startNs : m), t.spans[0]!.startNs);
        const end = t.spans.reduce((m, s) => (s.endNs > m ? s.endNs : m), t.spans[0]!.endNs);
        return {
          Id: `1-${t.traceId.slice(0, 8)}-${t.traceId.slice(8)}`,
          Duration: Number((end - start) / 1_000_000n) / 1000,
          Spans: [...t.spans]
            .sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0))
            .map((s) => ({ Id: s.spanId, Document: flatRecordJson(s) })),
        };
      }),
    };
    if ((p + 1) * pageSize < ordered.length)
      doc.NextToken = Buffer.from(`otel-samples-retrieval/page/${p + 2}/${hex(`next:${p}`, 24)}`).toString(
        'base64',
      );
    docs.push(stringify(doc, 4) + '\n');
  }
  return { text: docs.join(''), pages: docs.length };
}

const toHr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

/** Rebuild the SDK's ReadableSpan, so the real OTLP serializer can encode it. */
function toReadable(s: NormSpan, resource: Resource): ReadableSpan {
  const ctx = { traceId: s.traceId, spanId: s.spanId, traceFlags: s.traceFlags };
  return {
    name: s.name,
    kind: s.kind,
    spanContext: () => ctx,
    parentSpanContext: s.parentSpanId
      ? {
          traceId: s.traceId,
          spanId: s.parentSpanId,
          traceFlags: s.traceFlags,
          isRemote: s.parentIsRemote ?? false,
        }
      : undefined,
    startTime: toHr(s.startNs),
    endTime: toHr(s.endNs),
    duration: toHr(s.endNs - s.startNs),
    status: s.status,
    attributes: s.attributes,
    links: [],
    events: s.events.map((e) => ({
      name: e.name,
      time: toHr(e.timeNs),
      attributes: e.attributes as Attributes,
      ...(e.droppedAttributesCount ? { droppedAttributesCount: e.droppedAttributesCount } : {}),
    })),
    ended: true,
    resource,
    instrumentationScope: s.scope,
    droppedAttributesCount: s.droppedAttributesCount,
    droppedEventsCount: s.droppedEventsCount,
    droppedLinksCount: s.droppedLinksCount,
  };
}

/** Layout 5: OTLP/JSON bodies (ExportTraceServiceRequest), one per trace, one per line. */
export function otlpJsonl(traces: NormTrace[]): string {
  const resources = new Map<string, Resource>();
  const ordered = [...traces].sort((a, b) => (a.spans[0]!.startNs < b.spans[0]!.startNs ? -1 : 1));
  const decoder = new TextDecoder();
  return ordered
    .map((t) => {
      const readable = t.spans.map((s) => {
        let r = resources.get(s.env);
        if (!r) {
          r = resourceFromAttributes(
            s.resource.attributes,
            s.resource.schemaUrl ? { schemaUrl: s.resource.schemaUrl } : {},
          );
          resources.set(s.env, r);
        }
        return toReadable(s, r);
      });
      return decoder.decode(JsonTraceSerializer.serializeRequest(readable)) + '\n';
    })
    .join('');
}
