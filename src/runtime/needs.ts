/**
 * A workload's run-time needs, from its kind, how its data was recorded, the triggers its traces
 * show and what its configuration export says: the one entry point of this folder.
 */
import { compareText } from '../shared/order.js';
import { eventSourceKind, eventSourceNeeds } from './event-sources.js';
import { deadLetterNeeds, lambdaKeyNotes, lambdaLogNeeds, lambdaVpcNeeds } from './lambda.js';
import { scopeOf } from './scope.js';
import { SOURCES } from './sources.js';
import { lambdaSamplingReads, openTelemetryUpload, xrayNeeds } from './telemetry.js';
import type { RuntimeNeed, RuntimeNeeds, RuntimeNote, WorkloadFacts } from './types.js';

export type * from './types.js';
export { EVENT_SOURCE_RULES, eventSourceKind, type EventSourceKind } from './event-sources.js';
export { SOURCES } from './sources.js';
export { attrsOf, factsOf } from './facts.js';
export {
  dependentNeeds,
  KMS_BY_ACTION,
  namedDependent,
  PASS_ROLE,
  type NamedDependent,
} from './dependent.js';

/** The run-time needs of one workload. */
export function runtimeNeeds(w: WorkloadFacts): RuntimeNeeds {
  const needs: RuntimeNeed[] = [];
  const possible: RuntimeNeed[] = [];
  const notes: RuntimeNote[] = [];
  const scope = scopeOf(w);
  const xray = w.formats.includes('x-ray') || w.config?.tracing === 'Active';
  if (w.kind === 'lambda') {
    needs.push(...lambdaLogNeeds(w.name, scope, w.config?.logGroup));
    if (scope.account === '*' || scope.region === '*')
      notes.push({
        rule: 'lambda-logs',
        source: SOURCES.lambdaLogs,
        message: `the traces did not record the function's ${scope.account === '*' ? 'account' : 'region'}: its log group is granted with * in its place; ingest the function's SERVER spans or its configuration (aws lambda get-function-configuration) to narrow it`,
      });
    if (w.config?.vpc) needs.push(...lambdaVpcNeeds());
    if (w.config?.deadLetter) {
      const dl = deadLetterNeeds(w.config.deadLetter);
      if (dl) needs.push(...dl);
      else
        notes.push({
          rule: 'lambda-dead-letter',
          source: SOURCES.lambdaDlq,
          message: `DeadLetterConfig.TargetArn ${w.config.deadLetter} is neither an SQS queue nor an SNS topic: nothing granted for it`,
        });
    }
    if (w.config) notes.push(...lambdaKeyNotes(w.config, scope));
    const seen = new Set<string>();
    for (const [arns, origin, how] of [
      [w.triggers, 'runtime', 'its traces show the function invoked from it'],
      [w.config?.eventSources ?? [], 'config', 'an event-source mapping in its configuration'],
    ] as const) {
      for (const arn of arns) {
        if (seen.has(arn)) continue;
        seen.add(arn);
        const es = eventSourceNeeds(arn, origin, how);
        if (es) needs.push(...es);
        if (eventSourceKind(arn) === 'mq')
          notes.push({
            rule: 'mq-trigger',
            source: SOURCES.mqTrigger,
            message: `the Amazon MQ mapping of ${arn} also reads the broker's credentials with secretsmanager:GetSecretValue on the secret its SourceAccessConfigurations name: grant it on that secret`,
          });
      }
    }
  }
  if (xray) needs.push(...xrayNeeds(w.kind));
  // Lambda's own tracing does not sample through X-Ray; an OpenTelemetry SDK may (remote sampler).
  if ((xray && w.kind === 'lambda') || (w.formats.includes('opentelemetry') && w.kind !== 'apigateway'))
    possible.push(...lambdaSamplingReads());
  if (w.formats.includes('opentelemetry') && !xray && w.kind !== 'apigateway') {
    const o = openTelemetryUpload(w.kind);
    possible.push(...o.possible);
    notes.push(o.note);
  }
  if (w.kind === 'ecs')
    notes.push({
      rule: 'ecs-task-role',
      source: SOURCES.ecsExecutionRole,
      message:
        "this policy is for the ECS task role (the role the application's own calls use); the task execution role, which pulls the image from ECR and sends the awslogs driver's logs, is another role (AmazonECSTaskExecutionRolePolicy)",
    });
  if (w.kind === 'eks')
    notes.push({
      rule: 'eks-pod-role',
      source: SOURCES.ecsTaskRole,
      message:
        "this policy is for the pod's role (IAM roles for service accounts or EKS Pod Identity); the node role, which pulls images and runs the node's agents, is another role",
    });
  return { needs: dedupe(needs), possible: dedupe(possible), notes, scope };
}

/** The run-time needs of several workloads that share one role: the union. */
export function unionNeeds(all: readonly RuntimeNeeds[]): RuntimeNeeds {
  const seen = new Set<string>();
  const notes: RuntimeNote[] = [];
  for (const n of all.flatMap((a) => a.notes)) {
    if (seen.has(n.message)) continue;
    seen.add(n.message);
    notes.push(n);
  }
  return {
    needs: dedupe(all.flatMap((a) => a.needs)),
    possible: dedupe(all.flatMap((a) => a.possible)),
    notes,
    scope: all[0]?.scope,
  };
}

/** One need per (action, resource), the first reason kept; sorted. */
function dedupe(needs: RuntimeNeed[]): RuntimeNeed[] {
  const out = new Map<string, RuntimeNeed>();
  for (const n of needs) {
    const k = `${n.action}\u0000${n.resource}`;
    if (!out.has(k)) out.set(k, n);
  }
  return [...out.values()].sort(
    (a, b) => compareText(a.action, b.action) || compareText(a.resource, b.resource),
  );
}
