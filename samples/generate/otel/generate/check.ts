/**
 * Validates samples/otel/ and prints the attribute inventory:
 *
 *   npm run check        (= node --import tsx generate/check.ts)
 *
 * - every layout parses, and all five hold the same spans (same ids, same record text);
 * - ids are well formed, every parentSpanId resolves inside its trace, every trace has one root;
 * - every time lies in the week 2026-11-23T00:00Z … 2026-11-29T23:59:59Z, and each trace id starts
 *   with the epoch second of its first span (so it is also a valid X-Ray id);
 * - list-retrieved-traces pages hold at most 5 traces, chain NextToken, and Duration matches.
 * Then prints, per rpc.service (and per scope for non-SDK spans), the span attribute keys seen.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { here } from './capture.js';
import { WEEK_END_MS, WEEK_START_MS } from './plan.js';

const out = path.resolve(here, '../../../otel');
let failures = 0;
const fail = (msg: string): void => {
  failures++;
  console.error(`FAIL ${msg}`);
};

interface Flat {
  resource: { attributes: Record<string, unknown> };
  scope: { name: string; version?: string };
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  startTimeUnixNano: number;
  endTimeUnixNano: number;
  durationNano: number;
  attributes: Record<string, unknown>;
  status: { code: string; message?: string };
  events: { name: string; timeUnixNano: number; attributes: Record<string, unknown> }[];
}

/** Nanosecond integers exceed 2^53: read them back exactly from the text. */
const nanos = (text: string, key: string): bigint[] =>
  [...text.matchAll(new RegExp(`"${key}":(\\d+)`, 'g'))].map((m) => BigInt(m[1]!));

/** Split a concatenation of pretty-printed JSON documents (as the CLI prints pages). */
function splitDocs(text: string): unknown[] {
  return text
    .split(/\n(?=\{\n)/)
    .filter((t) => t.trim())
    .map((t) => JSON.parse(t) as unknown);
}

function checkLayout(dir: string, full: boolean): void {
  const lines = fs.readFileSync(path.join(dir, 'aws-spans.jsonl'), 'utf8').split('\n').filter(Boolean);
  const weekStart = BigInt(WEEK_START_MS) * 1_000_000n;
  const weekEnd = BigInt(WEEK_END_MS) * 1_000_000n;
  const byTrace = new Map<string, Flat[]>();
  for (const line of lines) {
    const r = JSON.parse(line) as Flat;
    if (!/^[0-9a-f]{32}$/.test(r.traceId)) fail(`bad traceId ${r.traceId}`);
    if (!/^[0-9a-f]{16}$/.test(r.spanId)) fail(`bad spanId ${r.spanId}`);
    const [start] = nanos(line, 'startTimeUnixNano');
    const [end] = nanos(line, 'endTimeUnixNano');
    const [dur] = nanos(line, 'durationNano');
    if (start === undefined || end === undefined || dur === undefined) fail(`${r.spanId}: missing times`);
    else {
      if (end - start !== dur) fail(`${r.spanId}: durationNano`);
      if (start < weekStart || end > weekEnd) fail(`${r.spanId}: outside the week`);
      for (const t of nanos(line, 'timeUnixNano'))
        if (t < start || t > end) fail(`${r.spanId}: event outside span`);
    }
    byTrace.set(r.traceId, [...(byTrace.get(r.traceId) ?? []), r]);
  }
  for (const [traceId, spans] of byTrace) {
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !s.parentSpanId);
    if (roots.length !== 1) fail(`${traceId}: ${roots.length} roots`);
    for (const s of spans)
      if (s.parentSpanId && !ids.has(s.parentSpanId)) fail(`${s.spanId}: dangling parent`);
    const first = spans.map((s) => Math.floor(s.startTimeUnixNano / 1e9)).reduce((a, b) => Math.min(a, b));
    if (parseInt(traceId.slice(0, 8), 16) !== first) fail(`${traceId}: epoch prefix != first start second`);
  }

  // OTLP/JSON: same span ids, one request per trace.
  const otlp = fs.readFileSync(path.join(dir, 'otlp-traces.jsonl'), 'utf8').split('\n').filter(Boolean);
  const otlpIds = new Set<string>();
  for (const l of otlp) {
    const body = JSON.parse(l) as { resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[] };
    for (const rs of body.resourceSpans)
      for (const ss of rs.scopeSpans) for (const s of ss.spans) otlpIds.add(s.spanId);
  }
  if (otlp.length !== byTrace.size) fail(`${dir}: ${otlp.length} OTLP requests for ${byTrace.size} traces`);
  if (otlpIds.size !== lines.length)
    fail(`${dir}: OTLP has ${otlpIds.size} spans, aws/spans ${lines.length}`);
  console.log(`${path.relative(out, dir) || 'out'}: ${lines.length} spans in ${byTrace.size} traces`);
  if (!full) return;

  // filter-log-events and the S3 export carry the same record text.
  const fle = JSON.parse(fs.readFileSync(path.join(dir, 'filter-log-events-aws-spans.json'), 'utf8')) as {
    events: { message: string; timestamp: number; ingestionTime: number; eventId: string }[];
  };
  const messages = new Set(lines);
  if (fle.events.length !== lines.length) fail('filter-log-events: event count');
  for (const e of fle.events) {
    if (!messages.has(e.message)) fail('filter-log-events: message not in aws/spans');
    if (!/^\d{56}$/.test(e.eventId)) fail(`bad eventId ${e.eventId}`);
    if (e.ingestionTime < e.timestamp) fail('ingestionTime before timestamp');
  }
  const exportDir = path.join(dir, 's3-export/exportedlogs');
  const [task] = fs.readdirSync(exportDir);
  const gz = zlib
    .gunzipSync(fs.readFileSync(path.join(exportDir, task!, 'default/000000.gz')))
    .toString('utf8');
  const gzLines = gz.split('\n').filter(Boolean);
  if (gzLines.length !== lines.length) fail('s3 export: line count');
  for (const l of gzLines) {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.*)$/.exec(l);
    if (!m || !messages.has(m[2]!)) fail('s3 export: line shape');
  }

  // list-retrieved-traces pages.
  const pages = splitDocs(fs.readFileSync(path.join(dir, 'list-retrieved-traces-otel.json'), 'utf8')) as {
    RetrievalStatus: string;
    TraceFormat: string;
    Traces: { Id: string; Duration: number; Spans: { Id: string; Document: string }[] }[];
    NextToken?: string;
  }[];
  let seen = 0;
  pages.forEach((p, i) => {
    if (p.RetrievalStatus !== 'COMPLETE' || p.TraceFormat !== 'OTEL') fail('xray page header');
    if (p.Traces.length > 5) fail('xray page over 5 traces');
    if (i < pages.length - 1 !== Boolean(p.NextToken)) fail('xray NextToken chain');
    for (const t of p.Traces) {
      seen++;
      const otelId = t.Id.replace(/^1-([0-9a-f]{8})-([0-9a-f]{24})$/, '$1$2');
      const spans = byTrace.get(otelId);
      if (!spans) fail(`xray trace ${t.Id} unknown`);
      else if (spans.length !== t.Spans.length) fail(`xray trace ${t.Id}: span count`);
      for (const s of t.Spans) {
        if (!messages.has(s.Document)) fail('xray Document not in aws/spans');
        if ((JSON.parse(s.Document) as Flat).spanId !== s.Id) fail('xray span Id');
      }
    }
  });
  if (seen !== byTrace.size) fail(`xray: ${seen} traces of ${byTrace.size}`);
}

function inventory(dir: string): void {
  const lines = fs.readFileSync(path.join(dir, 'aws-spans.jsonl'), 'utf8').split('\n').filter(Boolean);
  const keys = new Map<string, Set<string>>();
  const resources = new Map<string, Set<string>>();
  for (const l of lines) {
    const r = JSON.parse(l) as Flat;
    const group =
      typeof r.attributes['rpc.service'] === 'string'
        ? `${r.attributes['rpc.service']} (${r.kind})`
        : `${r.scope.name} (${r.kind})`;
    const set = keys.get(group) ?? new Set<string>();
    Object.keys(r.attributes).forEach((k) => set.add(k));
    r.events.forEach((e) => Object.keys(e.attributes).forEach((k) => set.add(`event ${e.name}: ${k}`)));
    keys.set(group, set);
    const svc = String(r.resource.attributes['service.name']);
    const rs = resources.get(svc) ?? new Set<string>();
    Object.keys(r.resource.attributes).forEach((k) => rs.add(k));
    resources.set(svc, rs);
  }
  console.log(`\nspan attribute keys in ${path.relative(out, dir) || 'out'}:`);
  for (const [g, s] of [...keys].sort()) console.log(`  ${g}: ${[...s].join(', ')}`);
  console.log('resource attribute keys:');
  for (const [g, s] of [...resources].sort()) console.log(`  ${g}: ${[...s].join(', ')}`);
}

checkLayout(out, true);
if (fs.existsSync(path.join(out, 'adot/aws-spans.jsonl'))) checkLayout(path.join(out, 'adot'), false);
inventory(out);
if (fs.existsSync(path.join(out, 'adot/aws-spans.jsonl'))) inventory(path.join(out, 'adot'));
if (failures) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('\nall checks passed');
