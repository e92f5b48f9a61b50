/**
 * Which workload a segment belongs to. A workload is the identity that holds IAM permissions:
 * a Lambda function (all versions and aliases), an ECS task family, a Step Functions state
 * machine, an application on EC2 or Elastic Beanstalk, …
 */
import { isAccountId, isRegion, parseArn } from '../iam/arn.js';
import { parseLambdaFunction } from '../iam/services/lambda.js';
import { asObject as obj, str as s } from '../shared/values.js';
import type { SegmentDoc } from './shapes.js';

/** Kinds of workload, from the segment's origin and `aws` block. */
export type WorkloadKind =
  'lambda' | 'ecs' | 'eks' | 'ec2' | 'beanstalk' | 'stepfunctions' | 'apigateway' | 'apprunner' | 'service';

/** A workload as identified from one segment. */
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

/** Identifies the workload of a (non-inferred) segment. Every segment has one. */
export function workloadOf(doc: SegmentDoc): Workload {
  const aws = obj(doc.aws) ?? {};
  const name = s(doc.name) ?? '(unnamed)';
  const origin = (s(doc.origin) ?? '').toLowerCase();
  const resourceArn = s(doc.resource_arn);
  const segAccount = account(s(aws.account_id));

  if (origin === 'aws::lambda::function' || origin === 'aws::lambda') {
    const arnText = s(aws.function_arn) ?? resourceArn;
    const id = arnText ? parseLambdaFunction(arnText) : null;
    if (id) {
      const attrs: Record<string, string> = {};
      if (id.qualifier) attrs.qualifier = id.qualifier;
      return {
        key: id.arn,
        kind: 'lambda',
        name: id.name,
        arn: id.arn,
        account: id.account ?? segAccount,
        region: id.region,
        attrs,
      };
    }
    const logs = Array.isArray(aws.cloudwatch_logs) ? obj(aws.cloudwatch_logs[0]) : undefined;
    const logArn = parseArn(s(logs?.arn) ?? '');
    const reg = region(logArn?.region);
    const acct = segAccount ?? account(logArn?.account);
    if (acct && reg) {
      const arn = `arn:${logArn?.partition ?? 'aws'}:lambda:${reg}:${acct}:function:${name}`;
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

  if (origin === 'aws::stepfunctions::statemachine') {
    const arn = parseArn(resourceArn ?? '') ?? parseArn(s(aws.resource_arn) ?? '');
    if (arn && arn.service === 'states') {
      // An execution ARN (`execution:machine:run-id`) names its state machine.
      const [type, machine] = arn.resource.split(':');
      const smName =
        (type === 'stateMachine' || type === 'execution' || type === 'express') && machine ? machine : name;
      const smArn = `arn:${arn.partition}:states:${arn.region}:${arn.account}:stateMachine:${smName}`;
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
    const family = s(e.task_family);
    const acct = account(clusterArn?.account) ?? account(taskArn?.account) ?? segAccount;
    const reg = region(clusterArn?.region) ?? region(taskArn?.region) ?? regionOfZone(s(e.availability_zone));
    const cluster = clusterArn?.resource.replace(/^cluster\//, '') ?? null;
    const wlName = family ?? name;
    const attrs: Record<string, string> = {};
    if (cluster) attrs.cluster = cluster;
    const container = s(e.container);
    if (container) attrs.container = container;
    if (family) attrs.task_family = family;
    const launch = s(e.launch_type);
    if (launch) attrs.launch_type = launch;
    return {
      key: fallbackKey('ecs', acct, reg, cluster ? `${cluster}/${wlName}` : wlName),
      kind: 'ecs',
      name: wlName,
      arn: null,
      account: acct,
      region: reg,
      attrs,
    };
  }

  const eks = obj(aws.eks);
  if (origin === 'aws::eks::container' || eks) {
    const cluster = s(eks?.cluster_name);
    const attrs: Record<string, string> = {};
    if (cluster) attrs.cluster = cluster;
    const pod = s(eks?.pod);
    if (pod) attrs.pod = pod;
    return {
      key: fallbackKey('eks', segAccount, null, cluster ? `${cluster}/${name}` : name),
      kind: 'eks',
      name,
      arn: null,
      account: segAccount,
      region: null,
      attrs,
    };
  }

  const eb = obj(aws.elastic_beanstalk);
  const ec2 = obj(aws.ec2);
  const reg = regionOfZone(s(ec2?.availability_zone));
  if (origin === 'aws::elasticbeanstalk::environment' || eb) {
    const env = s(eb?.environment_name) ?? name;
    const attrs: Record<string, string> = { service: name };
    return {
      key: fallbackKey('beanstalk', segAccount, reg, env),
      kind: 'beanstalk',
      name: env,
      arn: null,
      account: segAccount,
      region: reg,
      attrs,
    };
  }
  if (origin === 'aws::ec2::instance' || ec2) {
    const attrs: Record<string, string> = {};
    const instance = s(ec2?.instance_id);
    if (instance) attrs.instance_id = instance;
    return {
      key: fallbackKey('ec2', segAccount, reg, name),
      kind: 'ec2',
      name,
      arn: null,
      account: segAccount,
      region: reg,
      attrs,
    };
  }
  if (origin === 'aws::apprunner::service') {
    return {
      key: fallbackKey('apprunner', segAccount, null, name),
      kind: 'apprunner',
      name,
      arn: null,
      account: segAccount,
      region: null,
      attrs: {},
    };
  }
  const attrs: Record<string, string> = {};
  if (origin) attrs.origin = s(doc.origin) ?? origin;
  return {
    key: fallbackKey('service', segAccount, null, name),
    kind: 'service',
    name,
    arn: null,
    account: segAccount,
    region: null,
    attrs,
  };
}
