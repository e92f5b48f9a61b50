/**
 * `policiesFromUsage` on an in-memory row source: subjects in code-unit order, kinds and names
 * derived from the principal when the rows lack them, roles grouping their functions (shared
 * roles and unmatched functions reported), principals with neither permission nor unmapped call
 * skipped, unmapped calls as warnings, and an observation that knows no traces.
 */
import test from 'ava';
import { isRuntimeStatement } from '../../src/policy/statements.js';
import { POLICY_FORMATS, renderPolicy } from '../../src/policy/formats.js';
import {
  policiesFromUsage,
  type UsageGrantRow,
  type UsagePrincipal,
  type UsageRowSource,
} from '../../src/policy/usage-rows.js';

const FN = (name: string): string => `arn:aws:lambda:eu-west-1:123456789012:function:${name}`;

const principal = (key: string, extra: Partial<UsagePrincipal> = {}): UsagePrincipal => ({
  principal: key,
  kind: null,
  name: null,
  account: null,
  region: null,
  first: 1_763_280_000,
  last: 1_763_280_000 + 5 * 86_400,
  days: null,
  ...extra,
});

const grant = (action: string, resource: string, calls = 1): UsageGrantRow => ({
  action,
  resource,
  resourceType: null,
  resourceUnknown: false,
  calls,
  denied: 0,
  first: 1_763_280_000,
  last: 1_763_280_100,
  traceMin: '1-00000000-000000000000000000000001',
  traceMax: '1-00000000-000000000000000000000002',
});

/** A source over fixed rows: permissions per principal, unmapped calls per principal. */
function source(
  principals: UsagePrincipal[],
  grants: Record<string, UsageGrantRow[]>,
  unmapped: Record<string, number> = {},
): UsageRowSource {
  return {
    principals: () => principals,
    permissions: (keys) =>
      keys
        .flatMap((k) => grants[k] ?? [])
        .sort((a, b) => (a.action + a.resource < b.action + b.resource ? -1 : 1)),
    unmapped: (keys) =>
      keys
        .filter((k) => unmapped[k])
        .map((k) => ({
          service: 'kms',
          operation: null,
          note: 'operation not recorded',
          calls: unmapped[k] as number,
        })),
  };
}

test('one policy per principal, in code-unit order; kind and name from the key when the rows lack them', (t) => {
  const rows = source(
    [
      principal(FN('b')),
      principal('ecs:123456789012:eu-west-1:payments/worker'),
      principal(FN('a'), { kind: 'lambda', name: 'alpha' }),
    ],
    {
      [FN('a')]: [grant('sqs:SendMessage', 'arn:aws:sqs:eu-west-1:123456789012:q')],
      [FN('b')]: [grant('sns:Publish', 'arn:aws:sns:eu-west-1:123456789012:t')],
      'ecs:123456789012:eu-west-1:payments/worker': [grant('s3:GetObject', 'arn:aws:s3:::b/k')],
    },
  );
  const out = [...policiesFromUsage(rows, { filter: {} })];
  t.deepEqual(
    out.map((p) => [p.principal, p.kind, p.name]),
    [
      [FN('a'), 'lambda', 'alpha'],
      [FN('b'), 'lambda', 'b'],
      ['ecs:123456789012:eu-west-1:payments/worker', 'ecs', 'worker'],
    ],
  );
  t.deepEqual(
    out[1]?.document.Statement.filter((s) => !isRuntimeStatement(s)).flatMap((s) => s.Action),
    ['sns:Publish'],
  );
  // Rows give the kind, so a function's logging is there; how its data was recorded is not.
  t.deepEqual(
    [...new Set(out[1]?.document.Statement.filter(isRuntimeStatement).flatMap((s) => s.Action))],
    ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
  );
});

test('no permission and no unmapped call: no policy; unmapped calls alone: a policy that warns', (t) => {
  const rows = source([principal(FN('idle')), principal(FN('opaque'))], {}, { [FN('opaque')]: 2 });
  const out = [...policiesFromUsage(rows, { filter: {} })];
  t.deepEqual(
    out.map((p) => p.name),
    ['opaque'],
  );
  // Nothing observed: only the function's run-time needs (its logging).
  t.deepEqual(
    out[0]?.document.Statement.filter((s) => !isRuntimeStatement(s)),
    [],
  );
  t.deepEqual(
    [...new Set(out[0]?.document.Statement.flatMap((s) => s.Resource))],
    [
      'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/opaque',
      'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/opaque:*',
    ],
  );
  t.regex(
    out[0]?.warnings.find((w) => w.code === 'unmapped')?.message ?? '',
    /^2 calls to kms could not be mapped to an IAM action \(operation not recorded\)/,
  );
});

test('--by role: functions of one role make one policy; shared roles and unmatched functions are reported', (t) => {
  const role = 'arn:aws:iam::123456789012:role/shared';
  const rows = source([principal(FN('x')), principal(FN('y')), principal(FN('z'))], {
    [FN('x')]: [grant('sqs:SendMessage', 'arn:aws:sqs:eu-west-1:123456789012:q')],
    [FN('y')]: [grant('sns:Publish', 'arn:aws:sns:eu-west-1:123456789012:t')],
    [FN('z')]: [grant('s3:GetObject', 'arn:aws:s3:::b/k')],
  });
  // By ARN or by name, as a list-functions map gives either.
  const run = policiesFromUsage(rows, {
    filter: {},
    roles: new Map([
      [FN('x'), role],
      ['y', role],
    ]),
  });
  const out = [...run];
  t.deepEqual(
    out.map((p) => [p.principal, p.kind]),
    [
      [role, 'role'],
      [FN('z'), 'lambda'],
    ],
  );
  t.deepEqual(out[0]?.members, [FN('x'), FN('y')]);
  t.deepEqual(
    out[0]?.document.Statement.filter((s) => !isRuntimeStatement(s))
      .flatMap((s) => s.Action)
      .sort(),
    ['sns:Publish', 'sqs:SendMessage'],
  );
  // The role writes both functions' logs: the union of their run-time needs.
  t.deepEqual(
    [...new Set(out[0]?.document.Statement.filter(isRuntimeStatement).flatMap((s) => s.Resource))]
      .filter((r) => r.endsWith(':*'))
      .sort(),
    [
      'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/x:*',
      'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/y:*',
    ],
  );
  t.deepEqual(run.sharedRoles, [{ role, functions: [FN('x'), FN('y')] }]);
  t.deepEqual(run.unmatched, [FN('z')]);
});

test('completeness knows no traces, and active days only from the rows', (t) => {
  const rows = source([principal(FN('a')), principal(FN('b'), { days: 4 })], {
    [FN('a')]: [grant('sqs:SendMessage', 'arn:aws:sqs:eu-west-1:123456789012:q')],
    [FN('b')]: [grant('sqs:SendMessage', 'arn:aws:sqs:eu-west-1:123456789012:q')],
  });
  const [a, b] = [...policiesFromUsage(rows, { filter: {} })];
  t.is(a?.completeness.traces, null);
  t.is(a?.completeness.activeDays, null);
  t.regex(a?.completeness.reason ?? '', /traces unknown/);
  t.is(b?.completeness.activeDays, 4);
  t.is(a?.completeness.firstCall, '2025-11-16T08:00:00.000Z');
});

// Observed permissions at or above medium risk are flagged `risky`, with their evidence; the
// rest are not (docs/risk.md).
const observedRisk: [string, string, string | undefined][] = [
  ['iam:PassRole', 'arn:aws:iam::123456789012:role/worker', 'privilege escalation'],
  ['sts:AssumeRole', 'arn:aws:iam::123456789012:role/audit', 'credentials exposure'],
  [
    'secretsmanager:GetSecretValue',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:*',
    'data exfiltration',
  ],
  ['s3:PutBucketPolicy', 'arn:aws:s3:::reports', 'resource exposure'],
  [
    'secretsmanager:GetSecretValue',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf',
    undefined,
  ],
  ['dynamodb:PutItem', 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders', undefined],
  ['dynamodb:DescribeTable', 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders', undefined],
];
for (const [action, resource, cls] of observedRisk)
  test(`risky observed: ${action} on ${resource} ${cls ? `is flagged (${cls})` : 'is not flagged'}`, (t) => {
    const rows = source([principal(FN('a'), { kind: 'lambda', name: 'a' })], {
      [FN('a')]: [grant(action, resource, 7)],
    });
    const [p] = [...policiesFromUsage(rows, { filter: {} })];
    const risky = p?.warnings.filter((w) => w.code === 'risky') ?? [];
    if (!cls) return t.deepEqual(risky, []);
    t.is(risky.length, 1);
    t.is(risky[0]?.action, action);
    t.regex(risky[0]?.hint ?? '', new RegExp(`^risky permissions observed: ${cls}`));
    // The evidence: its level, the calls and a trace.
    t.regex(
      risky[0]?.detail ?? '',
      /^risk (medium|high|critical); 7 calls on .*, trace 1-00000000-000000000000000000000001$/,
    );
    // Every template format carries it in its comments (IAM JSON has none: the CLI prints them on stderr).
    for (const fm of POLICY_FORMATS.filter((f) => f !== 'iam'))
      t.regex(renderPolicy(p!, fm), /\[risky\] .*risky permissions observed/, fm);
  });
