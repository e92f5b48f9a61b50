/** Which workload a segment belongs to (src/ingest/workloads.ts). */
import test from 'ava';
import { awsCall, batch, counts, hexId, lambdaSegment, repoRoot, T0, traceId } from '../support/helpers.js';
import { workloadRows, ingestText } from './support.js';

test('the Lambda service segment and the function segment are one workload; aliases are attributes', async (t) => {
  const id = traceId(14);
  const fnArn = 'arn:aws:lambda:eu-west-1:123456789012:function:orders';
  const service = {
    id: hexId(),
    name: 'orders',
    origin: 'AWS::Lambda',
    trace_id: id,
    start_time: T0,
    end_time: T0 + 3,
    resource_arn: fnArn,
    http: { response: { status: 200 } },
  };
  const fn = lambdaSegment(id, 'orders', [awsCall('DynamoDB', 'GetItem', { table_name: 'o' })], {
    qualifier: 'live',
  });
  const fn2 = lambdaSegment(traceId(15), 'orders', [], { qualifier: '7' });
  const { store } = await ingestText(
    batch([
      { id, segments: [service, fn] },
      { id: traceId(15), segments: [fn2] },
    ]),
  );
  const p = workloadRows(store);
  t.is(p.length, 1);
  t.like(p[0]!, {
    key: fnArn,
    kind: 'lambda',
    name: 'orders',
    arn: fnArn,
    account: '123456789012',
    region: 'eu-west-1',
  });
  t.deepEqual(JSON.parse(p[0]!.attrs), { formats: ['x-ray'], qualifiers: ['7', 'live'] });
});

test('workload kinds from origins and aws blocks', async (t) => {
  const id = traceId(16);
  const base = { trace_id: id, start_time: T0, end_time: T0 + 1 };
  const segs = [
    {
      ...base,
      id: hexId(),
      name: 'billing',
      origin: 'AWS::ECS::Container',
      aws: {
        ecs: {
          container: 'billing-1',
          cluster_arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
          task_family: 'billing',
        },
      },
    },
    {
      ...base,
      id: hexId(),
      name: 'web',
      origin: 'AWS::EKS::Container',
      aws: { eks: { cluster_name: 'k', pod: 'web-1' }, account_id: '123456789012' },
    },
    {
      ...base,
      id: hexId(),
      name: 'api',
      origin: 'AWS::EC2::Instance',
      aws: { ec2: { instance_id: 'i-1', availability_zone: 'us-east-1c' } },
    },
    {
      ...base,
      id: hexId(),
      name: 'Scorekeep',
      origin: 'AWS::ElasticBeanstalk::Environment',
      aws: { elastic_beanstalk: { environment_name: 'scorekeep-dev' } },
    },
    {
      ...base,
      id: hexId(),
      name: 'flow',
      origin: 'AWS::StepFunctions::StateMachine',
      resource_arn: 'arn:aws:states:eu-west-1:123456789012:execution:flow:run-1',
    },
    {
      ...base,
      id: hexId(),
      name: 'app/Prod',
      origin: 'AWS::ApiGateway::Stage',
      resource_arn: 'arn:aws:apigateway:us-east-1::/restapis/abc/stages/Prod',
      aws: { api_gateway: { account_id: '123456789012', rest_api_id: 'abc', stage: 'Prod' } },
    },
    { ...base, id: hexId(), name: 'plain-service' },
  ];
  const { store } = await ingestText(batch([{ id, segments: segs }]));
  const p = workloadRows(store).map((r) => [r.kind, r.name, r.account, r.region]);
  t.deepEqual(
    p.sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    [
      ['apigateway', 'app/Prod', '123456789012', 'us-east-1'],
      ['beanstalk', 'scorekeep-dev', null, null],
      ['ec2', 'api', null, 'us-east-1'],
      ['ecs', 'billing', '123456789012', 'eu-west-1'],
      ['eks', 'web', '123456789012', null],
      ['service', 'plain-service', null, null],
      ['stepfunctions', 'flow', '123456789012', 'eu-west-1'],
    ],
  );
  t.truthy(
    workloadRows(store).find(
      (r) =>
        r.kind === 'stepfunctions' && r.arn === 'arn:aws:states:eu-west-1:123456789012:stateMachine:flow',
    ),
  );
});

test('inferred segments are never workloads', async (t) => {
  const id = traceId(17);
  const inferred = {
    id: hexId(),
    name: 'DynamoDB',
    inferred: true,
    parent_id: hexId(),
    trace_id: id,
    origin: 'AWS::DynamoDB::Table',
    start_time: T0,
    end_time: T0 + 1,
    aws: { operation: 'GetItem', table_name: 't' },
  };
  const { store } = await ingestText(JSON.stringify(inferred));
  t.is(counts(store).workloads, 0);
});

test('the span workload cache keys on every attribute workloadOfResource reads', async (t) => {
  const { workloadOfResource, RESOURCE_WORKLOAD_KEYS, SPAN_WORKLOAD_KEYS } =
    await import('../../src/ingest/workloads.js');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const read = { resource: new Set<string>(), span: new Set<string>() };
  const spy = (o: Record<string, unknown>, into: Set<string>): Record<string, unknown> =>
    new Proxy(o, {
      get: (target, k) => {
        if (typeof k === 'string') into.add(k);
        return target[k as string];
      },
    });
  // Resources and span attributes of every environment the code knows, and of the samples.
  const resources: Record<string, unknown>[] = [
    { 'cloud.platform': 'aws_lambda', 'faas.name': 'f', 'cloud.region': 'eu-west-1' },
    {
      'cloud.platform': 'aws_ecs',
      'aws.ecs.cluster.arn': 'arn:aws:ecs:eu-west-1:111122223333:cluster/c',
      'aws.ecs.task.family': 'f',
    },
    { 'cloud.platform': 'aws_eks', 'k8s.cluster.name': 'k', 'service.name': 's' },
    { 'cloud.platform': 'aws_elastic_beanstalk', 'service.namespace': 'n', 'service.name': 's' },
    { 'cloud.platform': 'aws_ec2', 'host.id': 'i-1', 'service.name': 's' },
    { 'cloud.platform': 'aws_app_runner', 'service.name': 's' },
    { 'service.name': 's' },
    {},
  ];
  for (const line of fs
    .readFileSync(path.join(repoRoot, 'samples/otel/aws-spans.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')) {
    const r = JSON.parse(line) as {
      resource: { attributes: Record<string, unknown> };
      attributes: Record<string, unknown>;
    };
    workloadOfResource(spy(r.resource.attributes, read.resource), spy(r.attributes, read.span));
  }
  for (const res of resources) {
    workloadOfResource(spy(res, read.resource), spy({}, read.span));
    workloadOfResource(spy(res, read.resource), spy({ 'aws.local.environment': 'lambda:x' }, read.span));
  }
  t.deepEqual(
    [...read.resource].filter((k) => !RESOURCE_WORKLOAD_KEYS.includes(k)),
    [],
  );
  t.deepEqual(
    [...read.span].filter((k) => !SPAN_WORKLOAD_KEYS.includes(k)),
    [],
  );
});

const eksRegions: [string, Record<string, unknown>, string | null][] = [
  [
    'cloud.region',
    {
      'cloud.platform': 'aws_eks',
      'k8s.cluster.name': 'k',
      'service.name': 's',
      'cloud.region': 'eu-central-1',
    },
    'eu-central-1',
  ],
  [
    'the cluster ARN',
    { 'aws.eks.cluster.arn': 'arn:aws:eks:ap-south-1:111122223333:cluster/k', 'service.name': 's' },
    'ap-south-1',
  ],
  ['nothing', { 'cloud.platform': 'aws_eks', 'k8s.cluster.name': 'k', 'service.name': 's' }, null],
];
for (const [from, resource, region] of eksRegions)
  test(`an EKS workload takes the region its resource records: ${from}`, async (t) => {
    const { workloadOfResource } = await import('../../src/ingest/workloads.js');
    const { workload } = workloadOfResource(resource, {});
    t.is(workload.kind, 'eks');
    t.is(workload.region, region);
  });
