/**
 * Makes the captured spans deterministic without touching what the instrumentation wrote.
 *
 * Rewritten (because they come from the clock or from random generators):
 * - trace ids: `<8 hex: epoch seconds of the trace start><24 hex seeded>`, so each is also a valid
 *   X-Ray trace id (as the ADOT / X-Ray id generator makes them);
 * - span ids: seeded per trace and position;
 * - all times: laid out on the plan's timeline in the week 2026-11-23 … 2026-11-29 (UTC). The
 *   spans of a trace keep their captured order and nesting; the durations are seeded per
 *   operation (the stub answers in microseconds, which says nothing about AWS latency);
 * - `exception.stacktrace` event attributes: the checkout path of this generator is replaced with
 *   the function's path on the platform (`/var/task` on Lambda, `/usr/src/app` on ECS).
 *
 * Kept exactly as captured: span names, kinds, every span and resource attribute, status, event
 * names and every other event attribute, instrumentation scopes, dropped counts.
 */
import path from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import { hex, seeded } from '../../common/seed.js';
import type { Environment, Unit } from './plan.js';
import type { RawCapture, RawSpan } from './tracing.js';
import { here } from './capture.js';

export interface NormSpan {
  env: string;
  unit: string;
  resource: { attributes: Attributes; schemaUrl?: string };
  scope: RawSpan['scope'];
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  parentIsRemote?: boolean;
  traceFlags: number;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
  status: RawSpan['status'];
  events: { name: string; timeNs: bigint; attributes: Attributes; droppedAttributesCount?: number }[];
  links: RawSpan['links'];
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
}

/** A trace: its unit and its spans, root first, then in captured start order. */
export interface NormTrace {
  env: string;
  unit: string;
  traceId: string;
  spans: NormSpan[];
}

const MS = 1_000_000n;
const projectRoot = path.resolve(here, '..');

/** Seeded call latency in nanoseconds, per AWS operation (ranges in microseconds). */
const LATENCY_US: Record<string, [number, number]> = {
  'DynamoDB.GetItem': [3_100, 8_900],
  'DynamoDB.PutItem': [4_800, 11_700],
  'DynamoDB.Query': [6_200, 14_800],
  'DynamoDB.UpdateItem': [5_100, 12_900],
  'DynamoDB.DeleteItem': [4_000, 9_000],
  'SNS.Publish': [18_000, 44_000],
  'SQS.SendMessage': [9_000, 24_000],
  'SQS.ReceiveMessage': [12_000, 39_000],
  'SQS.DeleteMessage': [7_000, 18_000],
  'SFN.StartExecution': [25_000, 58_000],
  'S3.GetObject': [24_000, 88_000],
  'S3.PutObject': [34_000, 109_000],
  'S3.HeadObject': [8_000, 22_000],
  'S3.PutObjectAcl': [14_000, 33_000],
  'SecretsManager.GetSecretValue': [12_000, 34_000],
  'Kinesis.PutRecord': [10_000, 29_000],
};

function latencyNs(span: RawSpan, seed: string): bigint {
  const op = `${String(span.attributes['rpc.service'])}.${String(span.attributes['rpc.method'])}`;
  const [lo, hi] = LATENCY_US[op] ?? [5_000, 20_000];
  let ns = BigInt(seeded(`lat:${seed}`, lo * 1000, hi * 1000));
  // A throttled call is retried by the SDK (standard mode: 3 attempts, jittered backoff).
  const throttled = span.events.some((e) =>
    String(e.attributes?.['exception.type'] ?? '').includes('ProvisionedThroughputExceeded'),
  );
  if (throttled) ns += BigInt(seeded(`backoff:${seed}`, 140_000, 420_000)) * 1000n;
  return ns;
}

function rewriteStack(attrs: Attributes, platformRoot: string): Attributes {
  const st = attrs['exception.stacktrace'];
  if (typeof st !== 'string') return attrs;
  return { ...attrs, 'exception.stacktrace': st.split(projectRoot).join(platformRoot) };
}

export function normalize(env: Environment, capture: RawCapture): NormTrace[] {
  const platformRoot = env.kind === 'lambda' ? '/var/task' : '/usr/src/app';
  const claimed = new Set<string>();
  const traces: NormTrace[] = [];
  env.units.forEach((unit: Unit) => {
    const mapping = capture.units.find((u) => u.unit === unit.id);
    if (!mapping) throw new Error(`${env.env}: unit ${unit.id} produced no trace`);
    const spans = capture.spans.filter((s) => s.traceId === mapping.traceId);
    const roots = spans.filter((s) => !s.parentSpanId);
    if (roots.length !== 1) throw new Error(`${unit.id}: expected one root span, got ${roots.length}`);
    const root = roots[0]!;
    const children = spans
      .filter((s) => s !== root)
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    if (children.some((c) => c.parentSpanId !== root.spanId))
      throw new Error(`${unit.id}: unexpected nesting`);
    if (children.length !== unit.steps.length)
      throw new Error(`${unit.id}: ${children.length} client spans for ${unit.steps.length} planned calls`);
    spans.forEach((s) => claimed.add(s.spanId));

    const t0 = BigInt(unit.t0Ms) * MS + BigInt(unit.t0SubMsNanos);
    const traceId =
      Math.floor(unit.t0Ms / 1000)
        .toString(16)
        .padStart(8, '0') + hex(`trace:${unit.id}`, 24);
    const ids = new Map<string, string>();
    [root, ...children].forEach((s, i) => ids.set(s.spanId, hex(`span:${unit.id}:${i}`, 16)));

    // Timeline: root starts at t0; calls run one after another; the root ends after the last.
    const coldStart = root.attributes['faas.coldstart'] === true;
    let cursor = t0 + BigInt(seeded(`lead:${unit.id}`, 150_000, 1_400_000));
    const times = new Map<RawSpan, [bigint, bigint]>();
    children.forEach((c, i) => {
      const seed = `${unit.id}:${i}`;
      let d = latencyNs(c, seed);
      // The first call of a cold environment also opens the connection and resolves the config.
      if (coldStart && i === 0) d += BigInt(seeded(`cold:${seed}`, 90_000, 240_000)) * 1000n;
      times.set(c, [cursor, cursor + d]);
      cursor += d + BigInt(seeded(`gap:${seed}`, 40_000, 900_000));
    });
    times.set(root, [t0, cursor + BigInt(seeded(`tail:${unit.id}`, 300_000, 2_100_000))]);

    const out: NormSpan[] = [root, ...children].map((s, i) => {
      const [startNs, endNs] = times.get(s)!;
      const n: NormSpan = {
        env: env.env,
        unit: unit.id,
        resource: capture.resource,
        scope: s.scope,
        traceId,
        spanId: ids.get(s.spanId)!,
        traceFlags: s.traceFlags,
        name: s.name,
        kind: s.kind,
        startNs,
        endNs,
        attributes: s.attributes,
        status: s.status,
        // An exception event is recorded just before the span ends.
        events: s.events.map((e, k) => ({
          name: e.name,
          timeNs: endNs - BigInt(seeded(`event:${unit.id}:${i}:${k}`, 20_000, 180_000)),
          attributes: rewriteStack(e.attributes ?? {}, platformRoot),
          ...(e.droppedAttributesCount ? { droppedAttributesCount: e.droppedAttributesCount } : {}),
        })),
        links: s.links,
        droppedAttributesCount: s.droppedAttributesCount,
        droppedEventsCount: s.droppedEventsCount,
        droppedLinksCount: s.droppedLinksCount,
      };
      if (s.parentSpanId) {
        n.parentSpanId = ids.get(s.parentSpanId);
        if (s.parentIsRemote) n.parentIsRemote = true;
      }
      if (s.links.length) throw new Error(`${unit.id}: span links are not remapped`);
      return n;
    });
    traces.push({ env: env.env, unit: unit.id, traceId, spans: out });
  });
  const stray = capture.spans.filter((s) => !claimed.has(s.spanId));
  if (stray.length) throw new Error(`${env.env}: ${stray.length} spans outside any planned unit`);
  return traces;
}
