/**
 * Who made a call recorded on a role (src/iam/caller.ts): an AWS service on the workload's behalf,
 * the workload's own code, or someone elsewhere holding its credentials; and the verdict once
 * the role is known to run Lambda functions or not.
 */
import test from 'ava';
import {
  classifyCaller,
  verdictOf,
  type CallerClass,
  type CallerFacts,
  type CallerVerdict,
} from '../../src/iam/caller.js';

const facts = (f: Partial<CallerFacts>): CallerFacts => ({
  invokedBy: null,
  sourceIp: '3.250.10.20',
  userAgent: null,
  vpcEndpointId: null,
  identityType: 'AssumedRole',
  ...f,
});

/** Caller facts → class at ingest, and the verdict when the role's own calls carry the Lambda token elsewhere, and when not. */
const CALLERS: [string, CallerFacts, CallerClass, CallerVerdict, CallerVerdict][] = [
  ['invokedBy a service', facts({ invokedBy: 'ecs-tasks.amazonaws.com' }), 'service', 'service', 'service'],
  [
    'the Lambda service writing logs',
    facts({ userAgent: 'awslambda-worker/1.0 rusoto/0.48.0' }),
    'service',
    'service',
    'service',
  ],
  ['AWS Internal', facts({ userAgent: 'AWS Internal' }), 'service', 'service', 'service'],
  [
    'a service host as source',
    facts({ sourceIp: 'ecr.amazonaws.com', userAgent: 'x' }),
    'service',
    'service',
    'service',
  ],
  [
    'a Lambda function SDK (exec-env token)',
    facts({ userAgent: 'aws-sdk-js/3.600.0 exec-env/AWS_Lambda_nodejs20.x' }),
    'workload',
    'workload',
    'workload',
  ],
  [
    'boto3 in Lambda',
    facts({ userAgent: 'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux exec-env/AWS_Lambda_python3.12' }),
    'workload',
    'workload',
    'workload',
  ],
  [
    'an ECS task SDK',
    facts({ userAgent: 'aws-sdk-java/2.25.0 exec-env/AWS_ECS_FARGATE' }),
    'workload',
    'workload',
    'workload',
  ],
  [
    'through a VPC endpoint',
    facts({ userAgent: 'aws-sdk-go/1.50', vpcEndpointId: 'vpce-0abc' }),
    'workload',
    'workload',
    'workload',
  ],
  [
    'from a private address',
    facts({ userAgent: 'aws-sdk-go/1.50', sourceIp: '10.0.3.7' }),
    'workload',
    'workload',
    'workload',
  ],
  [
    'the AWS CLI from a laptop',
    facts({ userAgent: 'aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0', sourceIp: '198.51.100.77' }),
    'interactive',
    'outside',
    'outside',
  ],
  ['the console', facts({ userAgent: 'console.amazonaws.com' }), 'interactive', 'outside', 'outside'],
  [
    'an SDK without a run-time token',
    facts({ userAgent: 'aws-sdk-go/1.50 (go1.22; linux; amd64)', sourceIp: '198.51.100.77' }),
    'sdk',
    'outside',
    'workload',
  ],
];
for (const [name, f, caller, lambda, other] of CALLERS)
  test(`caller: ${name}`, (t) => {
    const c = classifyCaller(f).caller;
    t.is(c, caller);
    t.is(verdictOf(c, true), lambda);
    t.is(verdictOf(c, false), other);
  });
