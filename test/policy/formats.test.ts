import { completenessOf } from '../../src/policy/completeness.js';
import { parse } from '@cdktf/hcl2json';
import test from 'ava';
import YAML from 'yaml';
import { logicalId, renderAll, renderPolicy, terraformName } from '../../src/policy/formats.js';
import type { WorkloadPolicy } from '../../src/policy/build.js';

function policy(resources: string[], name = 'orders-api'): WorkloadPolicy {
  const document = {
    Version: '2012-10-17' as const,
    Statement: [
      {
        Sid: 'DynamodbABC',
        Effect: 'Allow' as const,
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: resources,
      },
    ],
  };
  return {
    principal: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
    kind: 'lambda',
    name,
    account: '123456789012',
    region: 'eu-west-1',
    document,
    documents: [document],
    size: 0,
    warnings: [],
    evidence: [],
    completeness: completenessOf([], { traces: 0, activeDays: 0, first: null, last: null, formats: [] }),
    replay: { permissions: 0, allowed: 0 },
  };
}

const plain = policy(['arn:aws:dynamodb:eu-west-1:123456789012:table/orders']);
const templ = policy(['arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders']);
// Values from the data that could break a naive emitter.
const hostile = policy(
  ['arn:aws:s3:::b/it\'s "quoted" ${not-a-var} %{x} #hash: - [x]\nnew line'],
  "we'ird: name",
);

/** CloudFormation's !Sub as a YAML custom tag. */
const sub = { tag: '!Sub', resolve: (s: string) => ({ 'Fn::Sub': s }) };

test('iam format is the policy JSON', (t) => {
  t.deepEqual(JSON.parse(renderPolicy(plain, 'iam')), plain.document);
});

test('cloudformation: Policies entries parse as YAML; placeholders use !Sub', (t) => {
  const doc = YAML.parse(renderAll([plain, templ], 'cloudformation'), { customTags: [sub] }) as {
    Policies: { PolicyName: string; PolicyDocument: { Statement: { Resource: unknown[] }[] } }[];
  };
  t.is(doc.Policies.length, 2);
  t.deepEqual(doc.Policies[0]!.PolicyDocument, {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DynamodbABC',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: ['arn:aws:dynamodb:eu-west-1:123456789012:table/orders'],
      },
    ],
  });
  t.deepEqual(doc.Policies[1]!.PolicyDocument.Statement[0]!.Resource, [
    { 'Fn::Sub': 'arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders' },
  ]);
});

test('sam: a function resource with Policies', (t) => {
  const doc = YAML.parse(renderAll([plain], 'sam'), { customTags: [sub] }) as {
    Resources: Record<string, { Type: string; Properties: { Policies: unknown[] } }>;
  };
  const fn = doc.Resources.OrdersApiFunction!;
  t.is(fn.Type, 'AWS::Serverless::Function');
  t.deepEqual(fn.Properties.Policies, [plain.document]);
});

test('serverless: per-function iamRoleStatements with Serverless variables', (t) => {
  const doc = YAML.parse(renderAll([templ], 'serverless')) as {
    functions: Record<
      string,
      { iamRoleStatements: { Effect: string; Action: string[]; Resource: string[] }[] }
    >;
  };
  t.deepEqual(doc.functions['orders-api']!.iamRoleStatements, [
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      Resource: ['arn:aws:dynamodb:${aws:region}:${aws:accountId}:table/orders'],
    },
  ]);
});

test('terraform: aws_iam_policy_document blocks parse as HCL; placeholders use data sources', async (t) => {
  const json = (await parse('main.tf', renderAll([plain, templ], 'terraform'))) as {
    data: {
      aws_iam_policy_document: Record<
        string,
        { statement: { actions: string[]; resources: string[]; sid: string; effect: string }[] }[]
      >;
      aws_caller_identity?: unknown;
    };
  };
  const docs = json.data.aws_iam_policy_document;
  t.truthy(json.data.aws_caller_identity);
  const st = docs['orders-api']![0]!.statement;
  t.is(st.length, 1);
  t.deepEqual(st[0]!.actions, ['dynamodb:GetItem', 'dynamodb:PutItem']);
  const all = Object.values(docs).flatMap((d) => d.flatMap((x) => x.statement.flatMap((s) => s.resources)));
  t.true(all.includes('arn:aws:dynamodb:eu-west-1:123456789012:table/orders'));
  t.true(
    all.includes(
      'arn:aws:dynamodb:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/orders',
    ),
  );
});

test('hostile values stay data in every format', async (t) => {
  const value = hostile.document.Statement[0]!.Resource[0]!;
  const cfn = YAML.parse(renderAll([hostile], 'cloudformation'), { customTags: [sub] }) as {
    Policies: { PolicyName: string; PolicyDocument: { Statement: { Resource: string[] }[] } }[];
  };
  t.is(cfn.Policies[0]!.PolicyDocument.Statement[0]!.Resource[0], value);
  t.is(cfn.Policies.length, 1);
  const sls = YAML.parse(renderAll([hostile], 'serverless')) as {
    functions: Record<string, { iamRoleStatements: { Resource: string[] }[] }>;
  };
  t.is(sls.functions["we'ird: name"]!.iamRoleStatements[0]!.Resource[0], value);
  const tf = (await parse('x.tf', renderAll([hostile], 'terraform'))) as {
    data: { aws_iam_policy_document: Record<string, { statement: { resources: string[] }[] }[]> };
  };
  const [block] = Object.values(tf.data.aws_iam_policy_document);
  // hcl2json shows a literal "${" escaped as "$${" the way Terraform source writes it.
  t.is(block![0]!.statement[0]!.resources[0]!.replace('$${', '${').replace('%%{', '%{'), value);
});

test('identifiers for templates', (t) => {
  t.is(logicalId('orders-api', 'Function'), 'OrdersApiFunction');
  t.is(logicalId('9lives', 'Function'), 'W9livesFunction');
  t.is(terraformName('orders-api.v2'), 'orders-api_v2');
  t.is(terraformName('../..'), 'workload');
});

test('workloads with the same name get distinct names in one file', async (t) => {
  const a = policy(['arn:aws:dynamodb:eu-west-1:111111111111:table/a']);
  const b = {
    ...policy(['arn:aws:dynamodb:eu-west-1:222222222222:table/b']),
    principal: 'arn:aws:lambda:eu-west-1:222222222222:function:orders-api',
  };
  const sam = YAML.parse(renderAll([a, b], 'sam'), { customTags: [sub] }) as {
    Resources: Record<string, unknown>;
  };
  t.deepEqual(Object.keys(sam.Resources), ['OrdersApiFunction', 'OrdersApi2Function']);
  const tf = (await parse('x.tf', renderAll([a, b], 'terraform'))) as {
    data: { aws_iam_policy_document: Record<string, unknown> };
  };
  t.deepEqual(Object.keys(tf.data.aws_iam_policy_document).sort(), ['orders-api', 'orders-api-2']);
  const sls = YAML.parse(renderAll([a, b], 'serverless')) as { functions: Record<string, unknown> };
  t.is(Object.keys(sls.functions).length, 2);
});
