/**
 * Telemetry upload, decided by how a workload's data was recorded. X-Ray segments are uploaded
 * with the role of whoever runs the daemon (Lambda's for active tracing, the task's or the
 * instance's for a daemon beside the application, Step Functions' for a traced state machine).
 * OpenTelemetry data leaves through an exporter the spans do not name: that is said in a note,
 * and the candidate actions are only recognised, not granted.
 */
import { SOURCES } from './sources.js';
import type { RuntimeNeed, RuntimeNote } from './types.js';

const WRITES = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const SAMPLING = ['xray:GetSamplingRules', 'xray:GetSamplingStatisticSummaries', 'xray:GetSamplingTargets'];

function needs(actions: readonly string[], rule: string, why: string, source: string): RuntimeNeed[] {
  return actions.map((action) => ({ action, resource: '*', origin: 'runtime', rule, why, source }));
}

/**
 * Centrally sampled tracing in the workload's own process. Lambda's own tracing reads no sampling rules (Lambda samples), yet AWS documents
 * AWSXRayDaemonWriteAccess for traced functions, which grants them; a function whose own tracer
 * samples centrally (an OpenTelemetry SDK with the X-Ray remote sampler) does call them. Whether
 * it does is not in the segments: recognised as run-time needs, not granted.
 */
export function lambdaSamplingReads(): RuntimeNeed[] {
  return needs(
    SAMPLING,
    'xray-sampling',
    "a tracer inside the workload that samples centrally (the X-Ray remote sampler) reads X-Ray's sampling rules with its role; Lambda's own tracing does not",
    SOURCES.xrayDaemonManaged,
  );
}

/** The X-Ray writes of a workload whose data came as X-Ray segments, by kind. */
export function xrayNeeds(kind: string): RuntimeNeed[] {
  switch (kind) {
    case 'lambda':
      // Active tracing: Lambda samples and its daemon uploads with the function's role; the SDK
      // in the function reads no sampling rules.
      return needs(
        WRITES,
        'lambda-xray',
        "the function's traces are X-Ray segments: with active tracing, Lambda uploads them with its role (the actions have no resource type)",
        SOURCES.lambdaXray,
      );
    case 'stepfunctions':
      return needs(
        [...WRITES, 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
        'stepfunctions-xray',
        "the state machine's traces are X-Ray segments: with X-Ray tracing enabled, Step Functions samples and uploads them with the state machine's role",
        SOURCES.sfnXray,
      );
    case 'apigateway':
      // API Gateway traces with its own service identity: the stage has no role to grant.
      return [];
    default:
      return needs(
        [...WRITES, ...SAMPLING],
        'xray-daemon',
        "the workload's traces are X-Ray segments uploaded by an X-Ray daemon (or agent), which samples and uploads with the role it runs as: this one when the daemon runs beside the application",
        SOURCES.xrayDaemonManaged,
      );
  }
}

/**
 * What an OpenTelemetry workload may need to upload its spans, and the note saying why it is not
 * granted: the ADOT collector's X-Ray exporter calls `PutTraceSegments`/`PutTelemetryRecords`,
 * the X-Ray OTLP endpoint `PutSpans` (and `PutSpansForIndexing`), Application Signals writes
 * `PutTraceSegments`; a collector elsewhere uses its own role. The spans name none of these.
 */
export function openTelemetryUpload(kind: string): { possible: RuntimeNeed[]; note: RuntimeNote } {
  const why =
    'the workload was traced with OpenTelemetry: its exporter may upload spans with this role (ADOT collector: PutTraceSegments; X-Ray OTLP endpoint: PutSpans)';
  return {
    possible: needs(
      [...WRITES, 'xray:PutSpans', 'xray:PutSpansForIndexing'],
      'otel-upload',
      why,
      SOURCES.xrayOtlp,
    ),
    note: {
      rule: 'otel-upload',
      source: SOURCES.xrayOtlp,
      message: `traced with OpenTelemetry: the spans do not say how they were uploaded (an ADOT collector${kind === 'lambda' ? ' layer' : ''} with the X-Ray exporter needs xray:PutTraceSegments and xray:PutTelemetryRecords; the X-Ray OTLP endpoint needs xray:PutSpans; a collector elsewhere uses its own role), so none is granted: add the one your exporter uses`,
    },
  };
}
