/**
 * Which workload made a call. A workload is the identity that holds IAM permissions: a Lambda
 * function (all versions and aliases), an ECS task family, a Step Functions state machine, an
 * application on EC2 or Elastic Beanstalk, …
 *
 * X-Ray segments (`workloadOf`) and OpenTelemetry resources (`workloadOfResource`) are read by
 * different rules, but every workload is built by the same constructors below: a function traced
 * first with the X-Ray SDK and later with OpenTelemetry is one workload with one key.
 */
import type { TraceFormat } from '../store/write/index.js';
import { formatArn, isAccountId, isRegion, parseArn, partitionOf } from '../iam/arn.js';
import { parseLambdaFunction, type LambdaFunction } from '../iam/services/lambda.js';
import { asObject as obj, str as s } from '../shared/values.js';
import type { SegmentDoc } from './shapes.js';

/** Kinds of workload. */
export type WorkloadKind =
  'lambda' | 'ecs' | 'eks' | 'ec2' | 'beanstalk' | 'stepfunctions' | 'apigateway' | 'apprunner' | 'service';

/** A workload as identified from one segment or span. */
export interface Workload {
  /** Stable identity: the unqualified ARN where there is one, else `kind:account:region:name`. */
  key: string;
  kind: WorkloadKind;
  name: string;
  arn: string | null;
  account: string | null;
  region: string | null;
  /** Extra facts (qualifier, cluster, container, instance…) merged across segments. */
  attrs: Record<string, string>;
}

/** The workload, noting the trace format it was seen in (a workload's formats accumulate when stored). */
export function seenIn(w: Workload, format: TraceFormat): Workload {
  return { ...w, attrs: { ...w.attrs, format } };
}

function account(v: string | null | undefined): string | null {
  return v && isAccountId(v) ? v : null;
}

function region(v: string | null | undefined): string | null {
  return v && isRegion(v) ? v : null;
}

/** `eu-west-1a` → `eu-west-1`. */
function regionOfZone(zone: string | null): string | null {
  if (!zone) return null;
  return region(zone.replace(/[a-z]$/, ''));
}

function fallbackKey(kind: WorkloadKind, acct: string | null, reg: string | null, name: string): string {
  return `${kind}:${acct ?? ''}:${reg ?? ''}:${name}`;
}

/* ------------------------------------------------------------------ constructors */

/** A Lambda function named by its ARN: the unqualified ARN is the key, the qualifier an attribute. */
export function lambdaWorkload(fn: LambdaFunction, fallbackAccount: string | null = null): Workload {
  const attrs: Record<string, string> = {};
  if (fn.qualifier) attrs.qualifier = fn.qualifier;
  return {
    key: fn.arn,
    kind: 'lambda',
    name: fn.name,
    arn: fn.arn,
    account: fn.account ?? fallbackAccount,
    region: fn.region,
    attrs,
  };
}

/**
 * A Lambda function known by name: with its account and region, its ARN (the key of the same
 * function seen with one); without them, a key that says what is missing.
 */
export function namedLambdaWorkload(
  name: string,
  acct: string | null,
  reg: string | null,
  partition?: string,
): Workload {
  if (acct && reg) {
    const arn = formatArn({
      partition: partition ?? partitionOf(reg),
      service: 'lambda',
      region: reg,
      account: acct,
      resource: `function:${name}`,
    });
    return { key: arn, kind: 'lambda', name, arn, account: acct, region: reg, attrs: {} };
  }
  return {
    key: fallbackKey('lambda', acct, reg, name),
    kind: 'lambda',
    name,
    arn: null,
    account: acct,
    region: reg,
    attrs: {},
  };
}

/** An ECS task family (or container name) in its cluster. */
export function ecsWorkload(f: {
  account: string | null;
  region: string | null;
  cluster: string | null;
  family: string | null;
  name: string;
  container?: string | null;
  launchType?: string | null;
}): Workload {
  const wlName = f.family ?? f.name;
  const attrs: Record<string, string> = {};
  if (f.cluster) attrs.cluster = f.cluster;
  if (f.container) attrs.container = f.container;
  if (f.family) attrs.task_family = f.family;
  if (f.launchType) attrs.launch_type = f.launchType;
  return {
    key: fallbackKey('ecs', f.account, f.region, f.cluster ? `${f.cluster}/${wlName}` : wlName),
    kind: 'ecs',
    name: wlName,
    arn: null,
    account: f.account,
    region: f.region,
    attrs,
  };
}

/**
 * A service on an EKS cluster. Regions are not part of the key (X-Ray does not record them), but
 * the workload takes the region its resource records (OpenTelemetry's `cloud.region`, the
 * cluster ARN's), as the other kinds do.
 */
export function eksWorkload(f: {
  account: string | null;
  region?: string | null;
  cluster: string | null;
  name: string;
  pod?: string | null;
}): Workload {
  const attrs: Record<string, string> = {};
  if (f.cluster) attrs.cluster = f.cluster;
  if (f.pod) attrs.pod = f.pod;
  return {
    key: fallbackKey('eks', f.account, null, f.cluster ? `${f.cluster}/${f.name}` : f.name),
    kind: 'eks',
    name: f.name,
    arn: null,
    account: f.account,
    region: f.region ?? null,
    attrs,
  };
}

/** An Elastic Beanstalk environment. */
export function beanstalkWorkload(f: {
  account: string | null;
  region: string | null;
  environment: string;
  service: string;
}): Workload {
  return {
    key: fallbackKey('beanstalk', f.account, f.region, f.environment),
    kind: 'beanstalk',
    name: f.environment,
    arn: null,
    account: f.account,
    region: f.region,
    attrs: { service: f.service },
  };
}

/** An application on EC2, by its service name. */
export function ec2Workload(f: {
  account: string | null;
  region: string | null;
  name: string;
  instanceId?: string | null;
}): Workload {
  const attrs: Record<string, string> = {};
  if (f.instanceId) attrs.instance_id = f.instanceId;
  return {
    key: fallbackKey('ec2', f.account, f.region, f.name),
    kind: 'ec2',
    name: f.name,
    arn: null,
    account: f.account,
    region: f.region,
    attrs,
  };
}

/** Any other service, by name (App Runner services have a kind of their own). */
export function serviceWorkload(f: {
  kind?: 'apprunner' | 'service';
  account: string | null;
  name: string;
  origin?: string | null;
}): Workload {
  const kind = f.kind ?? 'service';
  const attrs: Record<string, string> = {};
  if (f.origin) attrs.origin = f.origin;
  return {
    key: fallbackKey(kind, f.account, null, f.name),
    kind,
    name: f.name,
    arn: null,
    account: f.account,
    region: null,
    attrs,
  };
}

/* ------------------------------------------------------------------ X-Ray segments */

/** Identifies the workload of a (non-inferred) segment. Every segment has one. */
export function workloadOf(doc: SegmentDoc): Workload {
  const aws = obj(doc.aws) ?? {};
  const name = s(doc.name) ?? '(unnamed)';
  const origin = (s(doc.origin) ?? '').toLowerCase();
  const resourceArn = s(doc.resource_arn);
  const segAccount = account(s(aws.account_id));

  if (origin === 'aws::lambda::function' || origin === 'aws::lambda') {
    const arnText = s(aws.function_arn) ?? resourceArn;
    const fn = arnText ? parseLambdaFunction(arnText) : undefined;
    if (fn) return lambdaWorkload(fn, segAccount);
    const logs = Array.isArray(aws.cloudwatch_logs) ? obj(aws.cloudwatch_logs[0]) : undefined;
    const logArn = parseArn(s(logs?.arn) ?? '');
    return namedLambdaWorkload(
      name,
      segAccount ?? account(logArn?.account),
      region(logArn?.region),
      logArn?.partition,
    );
  }

  if (origin === 'aws::stepfunctions::statemachine') {
    const arn = parseArn(resourceArn ?? '') ?? parseArn(s(aws.resource_arn) ?? '');
    if (arn && arn.service === 'states') {
      // An execution ARN (`execution:machine:run-id`) names its state machine.
      const [type, machine] = arn.resource.split(':');
      const smName =
        (type === 'stateMachine' || type === 'execution' || type === 'express') && machine ? machine : name;
      const smArn = formatArn({ ...arn, resource: `stateMachine:${smName}` });
      return {
        key: smArn,
        kind: 'stepfunctions',
        name: smName,
        arn: smArn,
        account: account(arn.account),
        region: region(arn.region),
        attrs: {},
      };
    }
    return {
      key: fallbackKey('stepfunctions', segAccount, null, name),
      kind: 'stepfunctions',
      name,
      arn: null,
      account: segAccount,
      region: null,
      attrs: {},
    };
  }

  if (origin === 'aws::apigateway::stage') {
    const gw = obj(aws.api_gateway) ?? {};
    const arn = parseArn(resourceArn ?? '');
    const acct = account(s(gw.account_id)) ?? segAccount;
    const reg = region(arn?.region);
    const attrs: Record<string, string> = {};
    const apiId = s(gw.rest_api_id);
    const stage = s(gw.stage);
    if (apiId) attrs.rest_api_id = apiId;
    if (stage) attrs.stage = stage;
    const key = resourceArn ?? fallbackKey('apigateway', acct, reg, name);
    return { key, kind: 'apigateway', name, arn: resourceArn, account: acct, region: reg, attrs };
  }

  const ecs = obj(aws.ecs);
  if (origin.startsWith('aws::ecs::') || ecs) {
    const e = ecs ?? {};
    const clusterArn = parseArn(s(e.cluster_arn) ?? '');
    const taskArn = parseArn(s(e.task_arn) ?? '');
    return ecsWorkload({
      account: account(clusterArn?.account) ?? account(taskArn?.account) ?? segAccount,
      region: region(clusterArn?.region) ?? region(taskArn?.region) ?? regionOfZone(s(e.availability_zone)),
      cluster: clusterArn?.resource.replace(/^cluster\//, '') ?? null,
      family: s(e.task_family),
      name,
      container: s(e.container),
      launchType: s(e.launch_type),
    });
  }

  const eks = obj(aws.eks);
  if (origin === 'aws::eks::container' || eks) {
    return eksWorkload({ account: segAccount, cluster: s(eks?.cluster_name), name, pod: s(eks?.pod) });
  }

  const eb = obj(aws.elastic_beanstalk);
  const ec2 = obj(aws.ec2);
  const reg = regionOfZone(s(ec2?.availability_zone));
  if (origin === 'aws::elasticbeanstalk::environment' || eb) {
    return beanstalkWorkload({
      account: segAccount,
      region: reg,
      environment: s(eb?.environment_name) ?? name,
      service: name,
    });
  }
  if (origin === 'aws::ec2::instance' || ec2) {
    return ec2Workload({ account: segAccount, region: reg, name, instanceId: s(ec2?.instance_id) });
  }
  if (origin === 'aws::apprunner::service')
    return serviceWorkload({ kind: 'apprunner', account: segAccount, name });
  return serviceWorkload({ account: segAccount, name, origin: origin ? (s(doc.origin) ?? origin) : null });
}

/* ------------------------------------------------------------------ OpenTelemetry resources */

/**
 * Every resource and span attribute {@link workloadOfResource} reads: two spans that agree on
 * these have the same workload (extract-span.ts caches by them).
 */
export const RESOURCE_WORKLOAD_KEYS: readonly string[] = [
  'cloud.platform',
  'cloud.account.id',
  'cloud.region',
  'cloud.resource_id',
  'faas.id',
  'faas.name',
  'service.name',
  'service.namespace',
  'aws.local.environment',
  'aws.ecs.task.arn',
  'aws.ecs.cluster.arn',
  'aws.ecs.task.family',
  'aws.ecs.launchtype',
  'container.name',
  'aws.eks.cluster.arn',
  'k8s.cluster.name',
  'k8s.pod.name',
  'deployment.environment',
  'deployment.environment.name',
  'host.id',
];
export const SPAN_WORKLOAD_KEYS: readonly string[] = [
  'cloud.resource_id',
  'faas.id',
  'cloud.account.id',
  'aws.local.service',
  'aws.local.environment',
];

/**
 * The workload of a span, from its resource attributes (and, for a Lambda function, the ARN or
 * account its SERVER span carries). `complete` is false for a Lambda function whose account is
 * not known from the span itself: its calls then take the workload of their parent spans (the
 * function's SERVER span has it), and this one only when the trace holds none.
 */
export function workloadOfResource(
  resource: Record<string, unknown>,
  attributes: Record<string, unknown>,
): { workload: Workload; complete: boolean } {
  const r = (k: string): string | null => s(resource[k]);
  const platform = (r('cloud.platform') ?? '').toLowerCase();
  const local = (s(attributes['aws.local.environment']) ?? r('aws.local.environment') ?? '').toLowerCase();
  const service = r('service.name') ?? s(attributes['aws.local.service']) ?? '(unnamed)';
  const acct = account(r('cloud.account.id'));
  const reg = region(r('cloud.region'));

  // The invoked ARN: the SERVER span's cloud.resource_id (faas.id before semconv 1.26; ADOT copies
  // it onto child spans), or the resource's. It names the function whatever else the resource says.
  for (const v of [
    attributes['cloud.resource_id'],
    attributes['faas.id'],
    resource['cloud.resource_id'],
    resource['faas.id'],
  ]) {
    const fn = typeof v === 'string' ? parseLambdaFunction(v) : undefined;
    if (fn) return { workload: lambdaWorkload(fn, acct), complete: true };
  }
  if (platform === 'aws_lambda' || r('faas.name') !== null || local.startsWith('lambda:')) {
    const name = r('faas.name') ?? service;
    const spanAccount = account(s(attributes['cloud.account.id']));
    const w = namedLambdaWorkload(name, acct ?? spanAccount, reg);
    return { workload: w, complete: w.arn !== null };
  }

  const taskArn = parseArn(r('aws.ecs.task.arn') ?? '');
  const clusterArn = parseArn(r('aws.ecs.cluster.arn') ?? '');
  if (platform === 'aws_ecs' || taskArn || clusterArn || r('aws.ecs.task.family') !== null) {
    const launch = r('aws.ecs.launchtype');
    return {
      workload: ecsWorkload({
        account: acct ?? account(clusterArn?.account) ?? account(taskArn?.account),
        region: reg ?? region(clusterArn?.region) ?? region(taskArn?.region),
        cluster: clusterArn?.resource.replace(/^cluster\//, '') ?? null,
        family: r('aws.ecs.task.family'),
        name: service,
        container: r('container.name'),
        launchType: launch ? launch.toUpperCase() : null,
      }),
      complete: true,
    };
  }

  const eksArn = parseArn(r('aws.eks.cluster.arn') ?? '');
  if (platform === 'aws_eks' || eksArn || r('k8s.cluster.name') !== null || local.startsWith('eks:')) {
    const cluster = r('k8s.cluster.name') ?? eksArn?.resource.replace(/^cluster\//, '') ?? null;
    return {
      workload: eksWorkload({
        account: acct ?? account(eksArn?.account),
        region: reg ?? region(eksArn?.region),
        cluster,
        name: service,
        pod: r('k8s.pod.name'),
      }),
      complete: true,
    };
  }

  if (platform === 'aws_elastic_beanstalk') {
    const environment =
      r('service.namespace') ?? r('deployment.environment.name') ?? r('deployment.environment') ?? service;
    return {
      workload: beanstalkWorkload({ account: acct, region: reg, environment, service }),
      complete: true,
    };
  }
  if (platform === 'aws_ec2' || local.startsWith('ec2:')) {
    return {
      workload: ec2Workload({ account: acct, region: reg, name: service, instanceId: r('host.id') }),
      complete: true,
    };
  }
  if (platform === 'aws_app_runner')
    return { workload: serviceWorkload({ kind: 'apprunner', account: acct, name: service }), complete: true };
  return { workload: serviceWorkload({ account: acct, name: service }), complete: true };
}
