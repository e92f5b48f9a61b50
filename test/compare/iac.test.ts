/**
 * Comparing with infrastructure as code (issue 27): a value the template does not fix is a named
 * placeholder that never matches, as `*` or otherwise; pseudo parameters are the workload's own
 * account, region and partition, and nothing else; findings say where each statement is written.
 */
import test from 'ava';
import { compareUsage, type ObservedPermission, type ObservedUsage } from '../../src/compare/compare.js';
import { mergeGranted, readGranted } from '../../src/granted/granted.js';
import { evaluate, parsePolicy, resourceMatches } from '../../src/iam/evaluate.js';
import { runtimeNeeds } from '../../src/runtime/needs.js';

const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api';
const TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders';

/** One workload that used `permissions`. */
function usage(permissions: [action: string, resource: string][], principal = FN): ObservedUsage {
  const account = principal.split(':')[4] ?? null;
  return {
    workloads: () => [
      {
        principal,
        kind: 'lambda',
        name: 'orders-api',
        account,
        lookup: [principal, 'orders-api'],
        permissions: permissions.map(([action, resource]): ObservedPermission => ({
          action,
          resource,
          resourceUnknown: false,
          calls: 1,
          denied: 0,
        })),
        unmappedCalls: 0,
      },
    ],
  };
}

/** A template whose function runs as a role granting `dynamodb:GetItem` on `resource`. */
function template(resource: string): string {
  return [
    'Resources:',
    '  Role:',
    '    Type: AWS::IAM::Role',
    '    Properties:',
    '      Policies:',
    '        - PolicyName: data',
    '          PolicyDocument:',
    "            Version: '2012-10-17'",
    '            Statement:',
    '              - Effect: Allow',
    '                Action: dynamodb:GetItem',
    `                Resource: ${resource}`,
    '  Fn:',
    '    Type: AWS::Lambda::Function',
    '    Properties:',
    '      FunctionName: orders-api',
    '      Role: !GetAtt Role.Arn',
    '',
  ].join('\n');
}

async function compare(resource: string, principal = FN) {
  const granted = mergeGranted([await readGranted(template(resource), 'template.yaml')]);
  const r = compareUsage(usage([['dynamodb:GetItem', TABLE]], principal), { granted, runtime: 'none' });
  const w = r.workloads[0];
  if (!w) throw new Error(JSON.stringify(r.unmatchedWorkloads));
  return w;
}

const placeholders = [
  '!Ref OrdersTable',
  '!GetAtt OrdersTable.Arn',
  '!ImportValue orders-table-arn',
  "!If [IsProd, 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders', '*']",
  '!Sub arn:aws:dynamodb:eu-west-1:123456789012:table/${TableName}',
  '!Sub arn:aws:dynamodb:eu-west-1:123456789012:${Fn::Select}',
];

for (const resource of placeholders)
  test(`an unresolvable value never matches as *: Resource ${resource}`, async (t) => {
    const w = await compare(resource);
    // Not allowed, not even conditionally: the call is missing, the grant unused.
    t.deepEqual(
      w.missing.map((m) => [m.action, m.resource, m.reason]),
      [['dynamodb:GetItem', TABLE, 'not-granted']],
    );
    t.deepEqual(w.conditional, []);
    t.deepEqual(
      w.unused.map((u) => u.unused),
      [['dynamodb:GetItem']],
    );
    t.regex(w.unused[0]?.resource ?? '', /\$\{(Ref|GetAtt|ImportValue|Fn::If|Fn::Select):/);
  });

const patterns: [pattern: string, resource: string][] = [
  ['${Ref:OrdersTable}', TABLE],
  ['${Ref:OrdersTable}', '*'],
  ['arn:aws:dynamodb:eu-west-1:123456789012:table/${Ref:Name}', TABLE],
  ['arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders', TABLE],
  ['${tf:aws_dynamodb_table.orders.arn}', TABLE],
  ['arn:aws:s3:::${GetAtt:Bucket.Arn}*', 'arn:aws:s3:::b/${GetAtt:Bucket.Arn}x'],
];
for (const [pattern, resource] of patterns)
  test(`the evaluator matches a placeholder with nothing: ${pattern} against ${resource}`, (t) => {
    t.is(resourceMatches(pattern, resource), 'no');
    const policy = parsePolicy(
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: pattern }] },
      'p',
    );
    t.is(evaluate([policy], 'dynamodb:GetItem', resource), 'not-allowed');
  });

// An action the template leaves to a parameter is kept by name, matches nothing, and is listed
// as granted and never used (the whole file was refused before).
const actionPlaceholders: [yaml: string, name: RegExp][] = [
  ['!Ref ReadAction', /^\$\{Ref:ReadAction\}$/],
  ['!ImportValue read-action', /^\$\{ImportValue:read-action\}$/],
  ["!If [IsProd, 'dynamodb:GetItem', 'dynamodb:*']", /^\$\{Fn::If/],
];
for (const [yaml, name] of actionPlaceholders)
  test(`an unresolvable action is kept by name and never matches: ${yaml}`, async (t) => {
    const granted = mergeGranted([
      await readGranted(
        template("'*'").replace('Action: dynamodb:GetItem', `Action: ${yaml}`),
        'template.yaml',
      ),
    ]);
    const w = compareUsage(usage([['dynamodb:GetItem', TABLE]]), { granted, runtime: 'none' }).workloads[0];
    t.deepEqual(
      w?.missing.map((m) => m.action),
      ['dynamodb:GetItem'],
    );
    t.is(w?.unused.length, 1);
    t.regex(w?.unused[0]?.action ?? '', name);
    const policy = parsePolicy(
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: [w?.unused[0]?.action], Resource: '*' }],
      },
      'p',
    );
    t.is(evaluate([policy], 'dynamodb:GetItem', TABLE), 'not-allowed');
  });

for (const notAction of ['${Ref:Action', 'Ref:Action}', '${Ref:A}x', '${Other:A}'])
  test(`a malformed action is still refused: ${notAction}`, (t) => {
    t.throws(
      () =>
        parsePolicy(
          { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: notAction, Resource: '*' }] },
          'p',
        ),
      { message: /is not an action/ },
    );
  });

test('a policy variable still matches conditionally (it is not a placeholder)', (t) => {
  t.is(resourceMatches('arn:aws:s3:::home/${aws:username}/*', 'arn:aws:s3:::home/ana/x'), 'maybe');
});

const scopes: { what: string; resource: string; principal: string; granted: boolean }[] = [
  {
    what: 'the workload’s own account and region',
    resource: '!Sub arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders',
    principal: FN,
    granted: true,
  },
  {
    what: 'another account',
    resource: '!Sub arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders',
    principal: 'arn:aws:lambda:eu-west-1:999999999999:function:orders-api',
    granted: false,
  },
  {
    what: 'another region',
    resource: '!Sub arn:aws:dynamodb:${AWS::Region}:123456789012:table/orders',
    principal: 'arn:aws:lambda:us-east-1:123456789012:function:orders-api',
    granted: false,
  },
];
for (const s of scopes)
  test(`pseudo parameters stand for the workload's own account and region: ${s.what}`, async (t) => {
    const w = await compare(s.resource, s.principal);
    t.is(w.missing.length === 0, s.granted);
  });

test('findings say where the statement and the role are written', async (t) => {
  const w = await compare('!Ref OrdersTable');
  t.deepEqual(w.role.origin, { file: 'template.yaml', resource: 'Role', line: 2 });
  t.deepEqual(w.unused[0]?.origin, { file: 'template.yaml', resource: 'Role', line: 10 });
});

test('a SAM function with an SQS event: AWSLambdaSQSQueueExecutionRole (bundled) grants its run-time needs', async (t) => {
  const queue = 'arn:aws:sqs:eu-west-1:123456789012:jobs';
  const sam = [
    'Transform: AWS::Serverless-2016-10-31',
    'Resources:',
    '  Fn:',
    '    Type: AWS::Serverless::Function',
    '    Properties:',
    '      FunctionName: orders-api',
    '      Policies:',
    '        - Statement:',
    '            - Effect: Allow',
    '              Action: dynamodb:GetItem',
    `              Resource: ${TABLE}`,
    '      Events:',
    '        Jobs:',
    '          Type: SQS',
    '          Properties:',
    `            Queue: ${queue}`,
    '',
  ].join('\n');
  const granted = mergeGranted([await readGranted(sam, 'sam.yaml')]);
  const used = usage([['dynamodb:GetItem', TABLE]]);
  const runtime = runtimeNeeds({
    kind: 'lambda',
    name: 'orders-api',
    arn: FN,
    account: '123456789012',
    region: 'eu-west-1',
    formats: ['x-ray'],
    triggers: [queue],
  });
  const w = compareUsage(
    { workloads: () => [...used.workloads()].map((x) => ({ ...x, runtime })) },
    { granted },
  ).workloads[0]!;
  const sqs = w.runtimeNeeds.filter((n) => n.action.startsWith('sqs:'));
  t.deepEqual(sqs.map((n) => [n.action, n.granted]).sort(), [
    ['sqs:DeleteMessage', true],
    ['sqs:GetQueueAttributes', true],
    ['sqs:ReceiveMessage', true],
  ]);
  t.false(
    w.notes.some((n) => n.includes('is unknown')),
    w.notes.join('\n'),
  );
  // Granted on * by the managed policy, used on the queue: run-time needs, not unused grants.
  t.false(
    w.unused.some((u) => u.unused.some((a) => a.startsWith('sqs:'))),
    JSON.stringify(w.unused),
  );
});
