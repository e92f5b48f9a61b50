/**
 * Runs the same workloads under the AWS Distro for OpenTelemetry (ADOT) JS auto-instrumentation
 * with Application Signals enabled, and records what ADOT exports.
 *
 *   npm run adot   (= unshare --net: a private network namespace with only loopback, then
 *                   node --import tsx generate/adot.ts [--out <dir>] [--raw <dir>])
 *
 * ADOT is installed separately in adot/ (it pins its own OpenTelemetry versions). Each workload
 * child is started with `--require …/register`, the way ADOT is meant to be loaded, and ADOT's
 * OTLP/HTTP JSON trace exporter is pointed at a receiver on 127.0.0.1 here. The received bodies
 * are real ADOT output; they are written raw (raw/adot-otlp-received.raw.jsonl: random ids, real
 * clock) and, after the same deterministic rewrite as the main run, in the flat aws/spans layout
 * and as OTLP/JSON (samples/otel/adot/aws-spans.jsonl, samples/otel/adot/otlp-traces.jsonl).
 *
 * Why a network namespace: outside Lambda, ADOT always runs the EC2 resource detector, which
 * sends an HTTP request to the instance metadata address 169.254.169.254. In the namespace that
 * request fails at once without leaving the machine.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Attributes } from '@opentelemetry/api';
import { ATTEMPTS, dirOption, here, platformEnv, resourceProblem, runChild } from './capture.js';
import { normalize, type NormTrace } from './normalize.js';
import { startStub } from '../../common/stub.js';
import { ACCOUNT, buildPlan, REGION, stubConfig } from './plan.js';
import type { RawCapture, RawSpan } from './tracing.js';
import { awsSpansJsonl, otlpJsonl } from './layouts.js';

const adotDir = path.resolve(here, '../adot');
// samples/otel/adot, or the folder given with --out (the live check in xray-lp's tests writes elsewhere).
const outDir = dirOption('out') ?? path.resolve(here, '../../../otel/adot');
/**
 * The raw bodies are not deterministic: kept beside the generator, out of samples/ and out of git,
 * or in the folder given with --raw.
 */
const rawDir = dirOption('raw') ?? path.resolve(here, '../raw');
const adotPkg = JSON.parse(
  fs.readFileSync(
    path.join(adotDir, 'node_modules/@aws/aws-distro-opentelemetry-node-autoinstrumentation/package.json'),
    'utf8',
  ),
) as { version: string };

/** A minimal OTLP/HTTP receiver: keeps every JSON body posted to /v1/traces. */
async function startReceiver(): Promise<{
  port: number;
  bodies: { path: string; body: string }[];
  close(): Promise<void>;
}> {
  const bodies: { path: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/v1/traces') bodies.push({ path: req.url, body: body.toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- OTLP/JSON -> the raw capture shape, so normalize() and the layouts can be reused ---------
type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};
const fromAny = (v: AnyValue): unknown =>
  v.stringValue !== undefined
    ? v.stringValue
    : v.intValue !== undefined
      ? Number(v.intValue)
      : v.doubleValue !== undefined
        ? v.doubleValue
        : v.boolValue !== undefined
          ? v.boolValue
          : v.arrayValue
            ? (v.arrayValue.values ?? []).map(fromAny)
            : null;
const attrs = (kvs?: { key: string; value: AnyValue }[]): Attributes =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, fromAny(kv.value)])) as Attributes;
const hr = (ns: string): [number, number] => [
  Number(BigInt(ns) / 1_000_000_000n),
  Number(BigInt(ns) % 1_000_000_000n),
];

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: AnyValue }[];
  droppedAttributesCount?: number;
  events?: { name: string; timeUnixNano: string; attributes?: { key: string; value: AnyValue }[] }[];
  droppedEventsCount?: number;
  links?: unknown[];
  droppedLinksCount?: number;
  status?: { code?: number; message?: string };
  flags?: number;
}
interface OtlpBody {
  resourceSpans: {
    resource: { attributes?: { key: string; value: AnyValue }[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[];
  }[];
}

function toRawCapture(envName: string, bodies: string[], units: RawCapture['units']): RawCapture {
  let resource: Attributes | undefined;
  const spans: RawSpan[] = [];
  for (const b of bodies) {
    for (const rs of (JSON.parse(b) as OtlpBody).resourceSpans) {
      const r = attrs(rs.resource.attributes);
      resource ??= r;
      if (JSON.stringify(r) !== JSON.stringify(resource))
        throw new Error(
          `the resource differs between export batches: ${JSON.stringify(r)} vs ${JSON.stringify(resource)}`,
        );
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans)
          spans.push({
            name: s.name,
            kind: s.kind - 1, // OTLP enum is SpanKind + 1
            traceId: s.traceId,
            spanId: s.spanId,
            traceFlags: (s.flags ?? 1) & 0xff,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            ...(s.parentSpanId && s.flags !== undefined && s.flags & 0x200 ? { parentIsRemote: true } : {}),
            startTime: hr(s.startTimeUnixNano),
            endTime: hr(s.endTimeUnixNano),
            attributes: attrs(s.attributes),
            status: {
              code: s.status?.code ?? 0,
              ...(s.status?.message ? { message: s.status.message } : {}),
            },
            events: (s.events ?? []).map((e) => ({
              name: e.name,
              time: hr(e.timeUnixNano),
              attributes: attrs(e.attributes),
            })),
            links: [],
            droppedAttributesCount: s.droppedAttributesCount ?? 0,
            droppedEventsCount: s.droppedEventsCount ?? 0,
            droppedLinksCount: s.droppedLinksCount ?? 0,
            scope: { name: ss.scope.name, ...(ss.scope.version ? { version: ss.scope.version } : {}) },
          });
    }
  }
  return { env: envName, resource: { attributes: resource ?? {} }, spans, units };
}

const plan = buildPlan();
const stub = await startStub(stubConfig(plan));
const receiver = await startReceiver();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-samples-adot-'));
const register = path.join(
  adotDir,
  'node_modules/@aws/aws-distro-opentelemetry-node-autoinstrumentation/build/src/register.js',
);
const raw: string[] = [];
const traces: NormTrace[] = [];
const problems: string[] = [];
try {
  for (const e of plan) {
    const unitsFile = path.join(tmp, `units-${e.env.replace(/[^a-z0-9]/gi, '_')}.json`);
    const env: NodeJS.ProcessEnv = {
      ...platformEnv(e, stub, tmp),
      OTS_MODE: 'adot',
      OTS_OUT: unitsFile,
      OTS_ADOT_DIR: adotDir,
      OTEL_AWS_APPLICATION_SIGNALS_ENABLED: 'true',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${receiver.port}/v1/traces`,
      OTEL_AWS_APPLICATION_SIGNALS_EXPORTER_ENDPOINT: `http://127.0.0.1:${receiver.port}/v1/metrics`,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      // The default X-Ray sampler polls a local X-Ray daemon for rules; sample everything instead.
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      // Only the env + AWS detectors (no host/process detectors, whose values are this machine's).
      ...(e.kind === 'ecs' ? { OTEL_NODE_RESOURCE_DETECTORS: 'env,aws' } : {}),
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // The child runs under tsx, whose loader opens an IPC pipe to the parent tsx process; the net
      // instrumentation would record that as an `ipc.connect` root span. Nothing else uses `net`
      // (the AWS SDK's own HTTP/net activity is suppressed by ADOT's aws-sdk configuration).
      OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'net',
      // ADOT's ServiceEvents feature (on with Application Signals) would post logs/metrics to a
      // CloudWatch agent on localhost:4316; there is none here.
      OTEL_AWS_SERVICE_EVENTS_ENABLED: 'false',
    };
    for (let attempt = 1; ; attempt++) {
      const before = receiver.bodies.length;
      const mark = stub.checkpoint();
      await runChild(
        [
          '--require',
          path.join(here, 'adot-preload.cjs'),
          '--require',
          register,
          '--import',
          'tsx',
          path.join(here, 'workload.ts'),
        ],
        env,
        `${e.env} (ADOT)`,
      );
      await new Promise((r) => setTimeout(r, 300));
      const bodies = receiver.bodies.slice(before).map((b) => b.body);
      const units = JSON.parse(fs.readFileSync(unitsFile, 'utf8')) as RawCapture['units'];
      let capture: RawCapture;
      try {
        // Throws when the resource differs between export batches.
        capture = toRawCapture(e.env, bodies, units);
        const problem = resourceProblem(e, capture.resource.attributes);
        if (problem) throw new Error(problem);
      } catch (err) {
        if (attempt < ATTEMPTS) {
          console.error(
            `${e.env}: ${(err as Error).message}; running it again (attempt ${attempt + 1} of ${ATTEMPTS})`,
          );
          stub.rewind(mark);
          receiver.bodies.length = before;
          continue;
        }
        problems.push(`${e.env}: ${(err as Error).message} (${attempt} attempts)`);
        break;
      }
      bodies.forEach((b) => raw.push(JSON.stringify({ env: e.env, body: JSON.parse(b) as unknown })));
      try {
        traces.push(...normalize(e, capture));
      } catch (err) {
        problems.push(`${e.env}: ${(err as Error).message}`);
      }
      break;
    }
  }
} finally {
  await receiver.close();
  await stub.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}

fs.mkdirSync(outDir, { recursive: true });
fs.mkdirSync(rawDir, { recursive: true });
fs.writeFileSync(path.join(rawDir, 'adot-otlp-received.raw.jsonl'), raw.map((l) => l + '\n').join(''));
fs.writeFileSync(path.join(outDir, 'aws-spans.jsonl'), awsSpansJsonl(traces));
fs.writeFileSync(path.join(outDir, 'otlp-traces.jsonl'), otlpJsonl(traces));
console.log(
  `ADOT ${adotPkg.version}: ${raw.length} OTLP bodies received, ${traces.length} traces normalized (account ${ACCOUNT}, ${REGION})`,
);
for (const p of problems) console.error(`problem: ${p}`);
if (problems.length) process.exit(1);
