/**
 * The benchmark's OpenTelemetry data: a generated X-Ray dump (generator.ts) rewritten as the spans
 * the OpenTelemetry JS instrumentations would have recorded for the same work (attribute
 * spellings as in samples/otel: `@opentelemetry/instrumentation-aws-sdk` 0.78 and
 * `instrumentation-aws-lambda` 0.75), in the layouts users export:
 *
 * - `otel-spans`: flat `aws/spans` records, one per line, nanosecond times as 19-digit numbers;
 * - `otlp`: one OTLP/JSON request per line (one per trace), the Collector file exporter's layout;
 * - `otlp-one-resource`: one OTLP/JSON document whose single resource holds every span (the
 *   case that needs streaming below the splitter's part mode).
 *
 * The same traces, calls and outcomes as the X-Ray dump, so that ingest speed per MB compares.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { JsonSplitter } from '../../src/json/split.js';

export type OtelLayout = 'otel-spans' | 'otlp' | 'otlp-one-resource';

/** What was written. */
export interface OtelMeta {
  format: 'xray-lp-bench-otel';
  layout: OtelLayout;
  /** sha256 of the X-Ray dump it was made from. */
  from: string;
  bytes: number;
  traces: number;
  spans: number;
  /** AWS SDK call spans. */
  calls: number;
}

type Doc = Record<string, unknown>;
type Attrs = Record<string, unknown>;

interface FlatSpan {
  resource: Attrs;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'SERVER' | 'CLIENT' | 'INTERNAL';
  start: number;
  end: number;
  attributes: Attrs;
  status: { code: 'UNSET' | 'ERROR'; message?: string };
  events: { name: string; time: number; attributes: Attrs }[];
}

const obj = (v: unknown): Doc | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Doc) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const nanos = (seconds: number): string => `${Math.round(seconds * 1e6)}000`;

/** The resource OpenTelemetry's detectors give the workload of an X-Ray segment, and its SERVER attributes. */
function resourceOf(seg: Doc): { resource: Attrs; server: Attrs } | undefined {
  const aws = obj(seg.aws) ?? {};
  const origin = str(seg.origin) ?? '';
  const name = str(seg.name) ?? 'unknown';
  if (origin === 'AWS::Lambda::Function') {
    const arn = str(aws.function_arn) ?? '';
    const [, , , region = '', account = ''] = arn.split(':');
    return {
      resource: {
        'service.name': name,
        'cloud.provider': 'aws',
        'cloud.platform': 'aws_lambda',
        'cloud.region': region,
        'faas.name': name,
        'faas.version': '$LATEST',
        'telemetry.sdk.language': 'nodejs',
      },
      server: {
        'faas.invocation_id': str(aws.request_id) ?? seg.id,
        'cloud.resource_id': arn,
        'cloud.account.id': account,
      },
    };
  }
  if (origin === 'AWS::Lambda') return undefined; // the Lambda service's own segment: no OTel span
  const account = str(aws.account_id);
  const ecs = obj(aws.ecs);
  const ec2 = obj(aws.ec2);
  const region = str(ec2?.availability_zone)?.slice(0, -1);
  return {
    resource: {
      'service.name': name,
      'cloud.provider': 'aws',
      'cloud.platform': ecs ? 'aws_ecs' : 'aws_ec2',
      ...(account ? { 'cloud.account.id': account } : {}),
      ...(region ? { 'cloud.region': region } : {}),
      ...(ecs ? { 'aws.ecs.task.family': name, 'container.name': str(ecs.container) ?? name } : {}),
      ...(ec2 ? { 'host.id': str(ec2.instance_id) ?? '' } : {}),
      'telemetry.sdk.language': 'nodejs',
    },
    server: {},
  };
}

/** The attributes the JS aws-sdk instrumentation 0.78 records for an X-Ray `aws` subsegment. */
function callAttributes(node: Doc): Attrs {
  const aws = obj(node.aws) ?? {};
  const service = str(node.name) ?? '';
  const a: Attrs = {
    'rpc.system': 'aws-api',
    'rpc.method': str(aws.operation) ?? '',
    'rpc.service': service,
  };
  const region = str(aws.region);
  if (region) a['cloud.region'] = region;
  const table = str(aws.table_name);
  const tables = Array.isArray(aws.table_names) ? aws.table_names : table ? [table] : undefined;
  if (service === 'DynamoDB' && tables) {
    a['db.system.name'] = 'dynamodb';
    a['aws.dynamodb.table_names'] = tables;
    if (tables.length === 1) a['db.namespace'] = tables[0];
  }
  if (service === 'S3' && str(aws.bucket_name)) a['aws.s3.bucket'] = aws.bucket_name;
  const queue = str(aws.queue_url);
  if (service === 'SQS' && queue) {
    a['url.full'] = queue;
    a['messaging.system'] = 'aws_sqs';
    a['messaging.destination.name'] = queue.slice(queue.lastIndexOf('/') + 1);
  }
  if (service === 'SNS' && str(aws.topic_arn)) {
    a['messaging.system'] = 'aws.sns';
    a['messaging.destination.name'] = aws.topic_arn;
  }
  if (service === 'Lambda' && str(aws.function_name)) a['faas.invoked_name'] = aws.function_name;
  const status = obj(obj(node.http)?.response)?.status;
  if (typeof status === 'number') a['http.response.status_code'] = status;
  if (str(aws.request_id)) a['aws.request.id'] = aws.request_id;
  return a;
}

/** The spans of one X-Ray trace (its segment documents, parsed). */
function spansOfTrace(traceId: string, segments: Doc[]): FlatSpan[] {
  const w3c = traceId.replace(/^1-/, '').replace('-', '');
  const out: FlatSpan[] = [];
  for (const seg of segments) {
    if (seg.inferred === true) continue;
    const who = resourceOf(seg);
    if (!who) continue;
    const start = Number(seg.start_time);
    const end = Number(seg.end_time ?? start);
    out.push({
      resource: who.resource,
      traceId: w3c,
      spanId: str(seg.id) ?? '',
      name: str(seg.name) ?? '',
      kind: 'SERVER',
      start,
      end,
      attributes: who.server,
      status: { code: 'UNSET' },
      events: [],
    });
    const stack: { node: Doc; parent: string }[] = [];
    const push = (n: Doc, parent: string): void => {
      const subs = n.subsegments;
      if (Array.isArray(subs)) for (const s of subs) if (obj(s)) stack.push({ node: s as Doc, parent });
    };
    push(seg, str(seg.id) ?? '');
    while (stack.length > 0) {
      const { node, parent } = stack.pop()!;
      const id = str(node.id);
      if (!id) continue;
      const s = Number(node.start_time ?? start);
      const e = Number(node.end_time ?? s);
      if (node.namespace === 'aws') {
        const cause = obj(node.cause);
        const ex = Array.isArray(cause?.exceptions) ? obj(cause.exceptions[0]) : undefined;
        out.push({
          resource: who.resource,
          traceId: w3c,
          spanId: id,
          parentSpanId: parent,
          name: `${str(node.name) ?? ''}.${str(obj(node.aws)?.operation) ?? ''}`,
          kind: 'CLIENT',
          start: s,
          end: e,
          attributes: callAttributes(node),
          status: ex ? { code: 'ERROR', message: str(ex.message) ?? '' } : { code: 'UNSET' },
          events: ex
            ? [
                {
                  name: 'exception',
                  time: e,
                  attributes: {
                    'exception.type': str(ex.type) ?? '',
                    'exception.message': str(ex.message) ?? '',
                  },
                },
              ]
            : [],
        });
        continue; // an SDK call's children are its internals
      }
      const url = str(obj(obj(node.http)?.request)?.url);
      out.push({
        resource: who.resource,
        traceId: w3c,
        spanId: id,
        parentSpanId: parent,
        name: str(node.name) ?? '',
        kind: node.namespace === 'remote' ? 'CLIENT' : 'INTERNAL',
        start: s,
        end: e,
        attributes: url ? { 'url.full': url, 'http.request.method': 'GET' } : {},
        status: { code: 'UNSET' },
        events: [],
      });
      push(node, id);
    }
  }
  return out;
}

/** A flat `aws/spans` record (times as bare 19-digit numbers, as Transaction Search writes them). */
function flatRecord(s: FlatSpan): string {
  const record = {
    resource: { attributes: s.resource },
    scope: {
      name:
        s.kind === 'SERVER'
          ? '@opentelemetry/instrumentation-aws-lambda'
          : '@opentelemetry/instrumentation-aws-sdk',
      version: '0.78.0',
    },
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: 0,
    endTimeUnixNano: 1,
    durationNano: 2,
    attributes: s.attributes,
    status: s.status,
    events: s.events.map((e) => ({ name: e.name, timeUnixNano: 3, attributes: e.attributes })),
  };
  return JSON.stringify(record)
    .replace('"startTimeUnixNano":0', `"startTimeUnixNano":${nanos(s.start)}`)
    .replace('"endTimeUnixNano":1', `"endTimeUnixNano":${nanos(s.end)}`)
    .replace('"durationNano":2', `"durationNano":${Math.round((s.end - s.start) * 1e6) * 1000}`)
    .replace('"timeUnixNano":3', `"timeUnixNano":${nanos(s.end)}`);
}

/** OTLP `KeyValue` list. */
function kv(attrs: Attrs): unknown[] {
  return Object.entries(attrs).map(([key, v]) => ({
    key,
    value: Array.isArray(v)
      ? { arrayValue: { values: v.map((x) => ({ stringValue: String(x) })) } }
      : typeof v === 'number'
        ? { intValue: String(v) }
        : { stringValue: String(v) },
  }));
}

const OTLP_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

function otlpSpan(s: FlatSpan): unknown {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: OTLP_KIND[s.kind],
    startTimeUnixNano: nanos(s.start),
    endTimeUnixNano: nanos(s.end),
    attributes: kv(s.attributes),
    droppedAttributesCount: 0,
    events: s.events.map((e) => ({
      timeUnixNano: nanos(e.time),
      name: e.name,
      attributes: kv(e.attributes),
      droppedAttributesCount: 0,
    })),
    droppedEventsCount: 0,
    status: s.status.code === 'ERROR' ? { code: 2, message: s.status.message } : { code: 0 },
    links: [],
    droppedLinksCount: 0,
    flags: 257,
  };
}

/** One OTLP request for the spans of one trace, grouped by resource. */
function otlpRequest(spans: FlatSpan[]): string {
  const groups = new Map<string, FlatSpan[]>();
  for (const s of spans) {
    const key = JSON.stringify(s.resource);
    const g = groups.get(key);
    if (g) g.push(s);
    else groups.set(key, [s]);
  }
  return JSON.stringify({
    resourceSpans: [...groups.values()].map((g) => ({
      resource: { attributes: kv(g[0]!.resource), droppedAttributesCount: 0 },
      scopeSpans: [
        {
          scope: { name: '@opentelemetry/instrumentation-aws-sdk', version: '0.78.0' },
          spans: g.map(otlpSpan),
        },
      ],
    })),
  });
}

/** Rewrites the X-Ray dump `xrayFile` (concatenated batch-get-traces output) as `layout` into `out`. */
export async function writeOtelDump(
  xrayFile: string,
  sha256: string,
  layout: OtelLayout,
  out: string,
): Promise<OtelMeta> {
  const file = createWriteStream(out, { highWaterMark: 1 << 20 });
  const sink: Writable = file;
  const meta: OtelMeta = {
    format: 'xray-lp-bench-otel',
    layout,
    from: sha256,
    bytes: 0,
    traces: 0,
    spans: 0,
    calls: 0,
  };
  const write = async (s: string): Promise<void> => {
    meta.bytes += Buffer.byteLength(s);
    if (!sink.write(s)) await once(sink, 'drain');
  };
  let first = true;
  if (layout === 'otlp-one-resource') {
    const resource = { 'service.name': 'bench', 'cloud.provider': 'aws', 'cloud.platform': 'aws_ecs', 'cloud.account.id': '111122223333', 'cloud.region': 'us-east-1', 'aws.ecs.task.family': 'bench' }; // prettier-ignore
    await write(
      `{"resourceSpans":[{"resource":${JSON.stringify({ attributes: kv(resource) })},"scopeSpans":[{"scope":{"name":"bench"},"spans":[\n`,
    );
  }
  const splitter = new JsonSplitter({ wholeLimit: Infinity });
  const handle = async (bytes: Buffer): Promise<void> => {
    const doc = JSON.parse(bytes.toString('utf8')) as {
      Traces?: { Id: string; Segments: { Document: string }[] }[];
    };
    for (const t of doc.Traces ?? []) {
      const spans = spansOfTrace(
        t.Id,
        t.Segments.map((s) => JSON.parse(s.Document) as Doc),
      );
      meta.traces++;
      meta.spans += spans.length;
      meta.calls += spans.filter((s) => s.attributes['rpc.system'] === 'aws-api').length;
      if (layout === 'otel-spans') await write(spans.map((s) => `${flatRecord(s)}\n`).join(''));
      else if (layout === 'otlp') await write(`${otlpRequest(spans)}\n`);
      else
        for (const s of spans) {
          await write(`${first ? '' : ',\n'}${JSON.stringify(otlpSpan(s))}`);
          first = false;
        }
    }
  };
  for await (const chunk of createReadStream(xrayFile, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)
    for (const ev of splitter.push(chunk)) if (ev.kind === 'whole') await handle(ev.bytes);
  for (const ev of splitter.end()) if (ev.kind === 'whole') await handle(ev.bytes);
  if (layout === 'otlp-one-resource') await write('\n]}]}]}\n');
  sink.end();
  await once(file, 'close');
  writeFileSync(`${out}.meta.json`, `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}
