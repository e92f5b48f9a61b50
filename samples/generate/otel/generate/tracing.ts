/**
 * OpenTelemetry set-up inside a workload's child process, and the raw dump of what it captured.
 *
 * - Resource: `defaultResource()` (telemetry.sdk.*) merged with the REAL AWS resource detectors
 *   from @opentelemetry/resource-detector-aws (Lambda: from the environment variables the Lambda
 *   runtime sets; ECS: from the task metadata endpoint v4, served by the stub) and the env
 *   detector (`OTEL_SERVICE_NAME`).
 * - Spans: BasicTracerProvider + SimpleSpanProcessor + InMemorySpanExporter.
 * - Instrumentation: @opentelemetry/instrumentation-aws-sdk (every workload) and
 *   @opentelemetry/instrumentation-aws-lambda (Lambda workloads: it wraps the handler module named
 *   by LAMBDA_TASK_ROOT/_HANDLER and writes the SERVER span of each invocation).
 *
 * This module must run before any @aws-sdk/* or @smithy/* module is loaded, so the
 * instrumentation's require hooks see them.
 */
import fs from 'node:fs';
import os from 'node:os';
import { context, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';
import { AwsLambdaInstrumentation } from '@opentelemetry/instrumentation-aws-lambda';
import { awsEcsDetector, awsLambdaDetector } from '@opentelemetry/resource-detector-aws';
import { defaultResource, detectResources, envDetector, type Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import type { Environment } from './plan.js';

/** A captured span, with nothing dropped: enough to rebuild a ReadableSpan in the parent. */
export interface RawSpan {
  name: string;
  /** api.SpanKind: 0 INTERNAL, 1 SERVER, 2 CLIENT, 3 PRODUCER, 4 CONSUMER. */
  kind: number;
  traceId: string;
  spanId: string;
  traceFlags: number;
  parentSpanId?: string;
  parentIsRemote?: boolean;
  startTime: HrTime;
  endTime: HrTime;
  attributes: Attributes;
  status: { code: number; message?: string };
  events: { name: string; time: HrTime; attributes?: Attributes; droppedAttributesCount?: number }[];
  links: { traceId: string; spanId: string; traceFlags: number; attributes?: Attributes }[];
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
  scope: { name: string; version?: string; schemaUrl?: string };
}

export interface RawCapture {
  env: string;
  resource: { attributes: Attributes; schemaUrl?: string };
  spans: RawSpan[];
  /** Which trace each planned unit (invocation / job) produced. */
  units: { unit: string; traceId: string }[];
}

async function buildResource(env: Environment): Promise<Resource> {
  if (env.kind === 'ecs') {
    // What the task would see: its ENI hostname, and a Fargate cgroup line naming its container.
    // The ECS detector reads both (os.hostname() -> container.name, /proc/self/cgroup -> container.id).
    const cgroup = `${process.env.OTS_TMP}/cgroup`;
    fs.writeFileSync(cgroup, `0::/ecs/${env.taskId}/${env.dockerId}\n`);
    // (The AwsEcsDetector class is not exported; its static DEFAULT_CGROUP_PATH is the file it reads.)
    (awsEcsDetector.constructor as unknown as { DEFAULT_CGROUP_PATH: string }).DEFAULT_CGROUP_PATH = cgroup;
    os.hostname = () => env.hostname;
  }
  const detected = detectResources({
    detectors: env.kind === 'ecs' ? [awsEcsDetector, envDetector] : [awsLambdaDetector, envDetector],
  });
  const resource = defaultResource().merge(detected);
  await resource.waitForAsyncAttributes?.();
  return resource;
}

export interface Tracing {
  provider: BasicTracerProvider;
  resource: Resource;
  dump(units: RawCapture['units']): RawCapture;
}

export async function setupTracing(env: Environment): Promise<Tracing> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const resource = await buildResource(env);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);

  const instrumentations: Instrumentation[] = [new AwsInstrumentation()];
  if (env.kind === 'lambda') instrumentations.push(new AwsLambdaInstrumentation());
  registerInstrumentations({ instrumentations, tracerProvider: provider });

  return {
    provider,
    resource,
    dump: (units) => ({
      env: env.env,
      resource: { attributes: resource.attributes, schemaUrl: resource.schemaUrl },
      spans: exporter.getFinishedSpans().map(toRaw),
      units,
    }),
  };
}

function toRaw(s: ReadableSpan): RawSpan {
  const ctx = s.spanContext();
  const raw: RawSpan = {
    name: s.name,
    kind: s.kind,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    traceFlags: ctx.traceFlags,
    startTime: s.startTime,
    endTime: s.endTime,
    attributes: s.attributes,
    status: { ...s.status },
    events: s.events.map((e) => ({
      name: e.name,
      time: e.time,
      ...(e.attributes ? { attributes: e.attributes } : {}),
      ...(e.droppedAttributesCount ? { droppedAttributesCount: e.droppedAttributesCount } : {}),
    })),
    links: s.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      traceFlags: l.context.traceFlags,
      ...(l.attributes ? { attributes: l.attributes } : {}),
    })),
    droppedAttributesCount: s.droppedAttributesCount,
    droppedEventsCount: s.droppedEventsCount,
    droppedLinksCount: s.droppedLinksCount,
    scope: {
      name: s.instrumentationScope.name,
      ...(s.instrumentationScope.version ? { version: s.instrumentationScope.version } : {}),
      ...(s.instrumentationScope.schemaUrl ? { schemaUrl: s.instrumentationScope.schemaUrl } : {}),
    },
  };
  if (s.parentSpanContext) {
    raw.parentSpanId = s.parentSpanContext.spanId;
    if (s.parentSpanContext.isRemote) raw.parentIsRemote = true;
  }
  return raw;
}
