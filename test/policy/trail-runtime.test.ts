/**
 * A role known only from CloudTrail gets the run-time needs of the workload kind its links name
 * (src/runtime/role-workloads.ts roleWorkloads): a configuration export's Role, an sts:AssumeRole by the
 * Lambda or ECS service. The Lambda service's own calls (awslambda-worker) are those needs, seen.
 * Where nothing names the kind, a warning says so and nothing is guessed.
 */
import path from 'node:path';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies, type WorkloadPolicy } from '../../src/policy/build.js';
import { repoRoot, tempStore, writeFile } from '../support/helpers.js';
import { roleRecord } from '../support/cloudtrail.js';

/** A call made with `role` by its own code. */
const call = (n: number, role: string): Record<string, unknown> =>
  roleRecord({
    n,
    role,
    eventSource: 'dynamodb.amazonaws.com',
    eventName: 'GetItem',
    params: { tableName: 'orders' },
    id: 'rt-call',
  });

/** An AWS service assuming `role` for a workload (the session names it). */
function assumed(n: number, service: string, role: string, session: string): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'AWSService', invokedBy: service },
    eventTime: `2026-11-30T11:00:${String(n).padStart(2, '0')}Z`,
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRole',
    awsRegion: 'eu-west-1',
    sourceIPAddress: service,
    userAgent: service,
    requestParameters: { roleArn: role, roleSessionName: session },
    eventID: `rt-assume-${n}`,
    eventType: 'AwsApiCall',
    managementEvent: true,
    eventCategory: 'Management',
    recipientAccountId: '123456789012',
  };
}

const SQS_ROLE = 'arn:aws:iam::123456789012:role/service-role/sqs-consumer-role';
const TASK_ROLE = 'arn:aws:iam::123456789012:role/orders-task';
const LONE_ROLE = 'arn:aws:iam::123456789012:role/lone';

interface Case {
  name: string;
  /** Fixture files (from the repository root) and records of our own. */
  fixtures: string[];
  records: Record<string, unknown>[];
  /** `action resource` of run-time needs the role's policy must have. */
  needs: string[];
  /** A warning the policy must have. */
  warning?: RegExp;
  /** True when the policy must have no run-time need at all. */
  none?: boolean;
}

const CASES: Case[] = [
  {
    name: "sts:AssumeRole by lambda.amazonaws.com: the function's log group; the Lambda service's CreateLogStream is that need, seen",
    fixtures: ['test/fixtures/cloudtrail/records.json'],
    records: [],
    needs: [
      'logs:CreateLogGroup arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-fn:*',
      'logs:CreateLogStream arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-fn:*',
    ],
  },
  {
    name: "a configuration export's Role: the function's configured needs (VPC, dead-letter queue, tracing)",
    fixtures: ['test/fixtures/config/get-function-configuration.json'],
    records: [call(1, SQS_ROLE)],
    needs: [
      'ec2:CreateNetworkInterface *',
      'sqs:SendMessage arn:aws:sqs:eu-west-1:123456789012:sqs-consumer-dlq',
      'xray:PutTraceSegments *',
    ],
  },
  {
    name: 'sts:AssumeRole by ecs-tasks.amazonaws.com: the ECS task role, said',
    fixtures: [],
    records: [assumed(1, 'ecs-tasks.amazonaws.com', TASK_ROLE, 'task-1'), call(2, TASK_ROLE)],
    needs: [],
    warning: /this policy is for the ECS task role/,
  },
  {
    name: 'nothing names the kind: a warning, and no need guessed',
    fixtures: [],
    records: [call(1, LONE_ROLE)],
    needs: [],
    warning: /no run-time needs: nothing says what kind of workload runs as this role/,
    none: true,
  },
];

for (const c of CASES)
  test(`a CloudTrail role's run-time needs: ${c.name}`, async (t) => {
    const { store, dir } = tempStore();
    const inputs = c.fixtures.map((f) => path.join(repoRoot, f));
    if (c.records.length > 0) inputs.push(writeFile(dir, 'ct.json', JSON.stringify({ Records: c.records })));
    const r = await ingest(store, { inputs });
    t.is(r.rejected, 0);
    const { policies } = buildPolicies(store, { filter: {} });
    t.is(policies.length, 1, policies.map((p) => p.principal).join(', '));
    const p = policies[0] as WorkloadPolicy;
    t.regex(p.principal, /^role:/);
    const needs = p.evidence.flatMap((s) =>
      s.actions
        .filter((a) => a.origin !== 'observed')
        .flatMap((a) => (a.runtime ?? []).map((x) => `${a.action} ${x.resource}`)),
    );
    for (const n of c.needs) t.true(needs.includes(n), `${n} in ${needs.join(' | ')}`);
    if (c.none) t.deepEqual(needs, []);
    if (c.warning)
      t.true(
        p.warnings.some((w) => c.warning!.test(w.message)),
        p.warnings.map((w) => w.message).join('\n'),
      );
    else t.false(p.warnings.some((w) => /nothing says what kind/.test(w.message)));
    store.close();
  });

test('the Lambda service writing logs counts on the log-group need, not as a second statement', async (t) => {
  const { store } = tempStore();
  await ingest(store, { inputs: [path.join(repoRoot, 'test/fixtures/cloudtrail/records.json')] });
  const p = buildPolicies(store, { filter: {} }).policies[0] as WorkloadPolicy;
  const logs = p.evidence.flatMap((s) => s.actions).filter((a) => a.action === 'logs:CreateLogStream');
  t.is(logs.length, 1);
  t.like(logs[0], { origin: 'runtime', calls: 1, sources: ['cloudtrail'] });
  store.close();
});
