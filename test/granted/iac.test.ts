/**
 * Infrastructure as code as the granted side (issue 27): for each real-shaped fixture
 * (test/fixtures/iac/README.md), the statements read and where each is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { mergeGranted, readGranted, type GrantedInputs, type IacFormat } from '../../src/granted/granted.js';
import { UserInputError } from '../../src/shared/errors.js';
import { fixturesDir } from '../support/helpers.js';

const dir = path.join(fixturesDir, 'iac');

/** One line per statement: role, policy, line, actions on resources, and origin. */
function statements(g: GrantedInputs): string[] {
  const out: string[] = [];
  const add = (role: string, policies: GrantedInputs['policies']): void => {
    for (const p of policies)
      for (const s of p.statements)
        out.push(
          `${role} | ${p.name} | ${s.actions.join(',')} on ${s.resources.join(',')} | ${p.origin?.resource ?? '-'}:${s.line ?? p.origin?.line ?? '-'}`,
        );
  };
  for (const r of g.roles) add(r.name, r.policies);
  add('(policies)', g.policies);
  return out;
}

/** AmazonRekognitionReadOnlyAccess v10 (bundled catalogue): its actions, in its order. */
const REKOGNITION_READ = [
  'CompareFaces',
  'DetectFaces',
  'DetectLabels',
  'ListCollections',
  'ListFaces',
  'SearchFaces',
  'SearchFacesByImage',
  'DetectText',
  'GetCelebrityInfo',
  'RecognizeCelebrities',
  'DetectModerationLabels',
  'GetLabelDetection',
  'GetFaceDetection',
  'GetContentModeration',
  'GetPersonTracking',
  'GetCelebrityRecognition',
  'GetFaceSearch',
  'GetTextDetection',
  'GetSegmentDetection',
  'DescribeStreamProcessor',
  'ListStreamProcessors',
  'DescribeProjects',
  'DescribeProjectVersions',
  'DetectCustomLabels',
  'DetectProtectiveEquipment',
  'ListTagsForResource',
  'ListDatasetEntries',
  'ListDatasetLabels',
  'DescribeDataset',
  'ListProjectPolicies',
  'ListUsers',
  'SearchUsers',
  'SearchUsersByImage',
  'GetMediaAnalysisJob',
  'ListMediaAnalysisJobs',
];

const cases: {
  name: string;
  format: IacFormat;
  statements: string[];
  functions: [string, string][];
  notes: RegExp[];
}[] = [
  {
    name: 'cloudformation.yaml',
    format: 'cloudformation',
    statements: [
      'orders-api-role | inline:orders-data | dynamodb:GetItem,dynamodb:PutItem on ${GetAtt:OrdersTable.Arn} | OrdersRole:37',
      'orders-api-role | inline:orders-data | sqs:SendMessage on arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:orders-${Ref:Stage} | OrdersRole:43',
      'orders-api-role | inline:orders-data | sns:Publish on arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:order-events | OrdersRole:47',
      'orders-api-role | inline:orders-data | events:PutEvents on ${ImportValue:shared-event-bus-arn} | OrdersRole:51',
      'orders-api-role | inline:orders-data | s3:PutObject on ${Fn::If:IsProd} | OrdersRole:55',
      'orders-api-role | inline:orders-data | s3:GetObject on arn:aws:s3:::orders-archive-use1/* | OrdersRole:59',
      'orders-api-role | inline:orders-data | kms:Decrypt on arn:aws:kms:us-east-1:123456789012:key/b | OrdersRole:65',
      'orders-api-role | OrdersReadPolicy | dynamodb:Query on ${GetAtt:OrdersTable.Arn}/index/* | OrdersReadPolicy:75',
      'orders-api-role | AuditPolicy | logs:PutLogEvents on arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:/audit/${aws:username} | AuditPolicy:87',
      'orders-api-role | inline:cache | elasticache:Connect on * | CachePolicy:98',
      'orders-api-role | arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole | logs:CreateLogGroup,logs:CreateLogStream,logs:PutLogEvents on * | OrdersRole:29',
      'orders-api-role | arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess | ssm:Describe*,ssm:Get*,ssm:List* on * | OrdersRole:30',
    ],
    functions: [['orders-api', 'cloudformation.yaml#OrdersRole']],
    notes: [
      /AWS managed policies from the bundled catalogue of \d{4}-\d\d-\d\d: AWSLambdaBasicExecutionRole v1 of 2015-04-09, AmazonSSMReadOnlyAccess v1 of 2015-05-29;/,
    ],
  },
  {
    name: 'sam.yaml',
    format: 'cloudformation',
    statements: [
      'ThumbnailerRole | Thumbnailer S3ReadPolicy | s3:GetObject,s3:ListBucket,s3:GetBucketLocation,s3:GetObjectVersion,s3:GetLifecycleConfiguration on arn:${AWS::Partition}:s3:::${Ref:ImagesBucket},arn:${AWS::Partition}:s3:::${Ref:ImagesBucket}/* | Thumbnailer:22',
      'ThumbnailerRole | Thumbnailer DynamoDBCrudPolicy | dynamodb:GetItem,dynamodb:DeleteItem,dynamodb:PutItem,dynamodb:Scan,dynamodb:Query,dynamodb:UpdateItem,dynamodb:BatchWriteItem,dynamodb:BatchGetItem,dynamodb:DescribeTable,dynamodb:ConditionCheckItem on arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Ref:ThumbnailsTable},arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Ref:ThumbnailsTable}/index/* | Thumbnailer:24',
      'ThumbnailerRole | Thumbnailer SQSPollerPolicy | sqs:ChangeMessageVisibility,sqs:ChangeMessageVisibilityBatch,sqs:DeleteMessage,sqs:DeleteMessageBatch,sqs:GetQueueAttributes,sqs:ReceiveMessage on arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${GetAtt:JobsQueue.QueueName} | Thumbnailer:26',
      'ThumbnailerRole | Thumbnailer Policies[4] | s3:PutObject on arn:${AWS::Partition}:s3:::thumbnails-${AWS::AccountId}/* | Thumbnailer:31',
      'ThumbnailerRole | arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole | logs:CreateLogGroup,logs:CreateLogStream,logs:PutLogEvents on * | Thumbnailer:15',
      // SAM's automatic policies (Tracing: Active, an SQS event) and a managed policy by name alone.
      'ThumbnailerRole | arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess | xray:PutTraceSegments,xray:PutTelemetryRecords,xray:GetSamplingRules,xray:GetSamplingTargets,xray:GetSamplingStatisticSummaries on * | Thumbnailer:15',
      'ThumbnailerRole | arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole | sqs:ReceiveMessage,sqs:DeleteMessage,sqs:GetQueueAttributes,logs:CreateLogGroup,logs:CreateLogStream,logs:PutLogEvents on * | Thumbnailer:15',
      `ThumbnailerRole | arn:aws:iam::aws:policy/AmazonRekognitionReadOnlyAccess | ${REKOGNITION_READ.map((a) => `rekognition:${a}`).join(',')} on * | Thumbnailer:28`,
    ],
    functions: [['thumbnailer', 'sam.yaml#ThumbnailerRole']],
    notes: [
      /AWS managed policies from the bundled catalogue of \d{4}-\d\d-\d\d: AWSLambdaBasicExecutionRole v1 of 2015-04-09, AWSXrayWriteOnlyAccess v2 of 2018-08-28, AWSLambdaSQSQueueExecutionRole v1 of 2018-06-14, AmazonRekognitionReadOnlyAccess v10 of 2023-11-08;/,
    ],
  },
  {
    name: 'terraform-plan.json',
    format: 'terraform',
    statements: [
      'orders-api-role | inline:orders-data | dynamodb:GetItem,dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/orders | aws_iam_role.orders:-',
      'orders-api-role | inline:events | sns:Publish on arn:aws:sns:us-east-1:123456789012:order-events | data.aws_iam_policy_document.events:-',
      'orders-api-role | aws_iam_policy.reports | s3:PutObject on arn:aws:s3:::orders-reports/* | aws_iam_policy.reports:-',
      'orders-api-role | arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole | logs:CreateLogGroup,logs:CreateLogStream,logs:PutLogEvents on * | aws_iam_role_policy_attachment.basic:-',
    ],
    functions: [['orders-api', 'terraform-plan.json#aws_iam_role.orders']],
    notes: [
      /the policy of aws_iam_role_policy.computed \(terraform-plan.json\) is not known from this file/,
      /AWS managed policies from the bundled catalogue of \d{4}-\d\d-\d\d: AWSLambdaBasicExecutionRole v1 of 2015-04-09;/,
    ],
  },
  {
    name: 'main.tf',
    format: 'terraform',
    statements: [
      'orders-api-role | inline:orders-data | dynamodb:GetItem,dynamodb:PutItem on ${tf:aws_dynamodb_table.orders.arn} | aws_iam_role.orders:5',
      'orders-api-role | inline:orders-data | sqs:SendMessage on arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:orders-jobs | aws_iam_role.orders:5',
      'orders-api-role | inline:events | sns:Publish on arn:aws:sns:us-east-1:123456789012:order-events | data.aws_iam_policy_document.events:41',
      'orders-api-role | inline:events | s3:GetObject on arn:aws:s3:::orders-archive/${aws:username}/* | data.aws_iam_policy_document.events:41',
      'orders-api-role | aws_iam_policy.reports | s3:PutObject on arn:aws:s3:::orders-reports/* | aws_iam_policy.reports:64',
      'orders-api-role | arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole | logs:CreateLogGroup,logs:CreateLogStream,logs:PutLogEvents on * | aws_iam_role_policy_attachment.basic:81',
    ],
    functions: [['orders-api', 'main.tf#aws_iam_role.orders']],
    notes: [
      /the policy of aws_iam_role_policy.from_file \(main.tf:86\) is not known from this file/,
      /AWS managed policies from the bundled catalogue of \d{4}-\d\d-\d\d: AWSLambdaBasicExecutionRole v1 of 2015-04-09;/,
    ],
  },
  {
    name: 'cdk.out/OrdersStack.template.json',
    format: 'cloudformation',
    statements: [
      'OrdersApiServiceRole1A2B3C4D | OrdersApiServiceRoleDefaultPolicy5E6F7A8B | dynamodb:BatchGetItem,dynamodb:ConditionCheckItem,dynamodb:DescribeTable,dynamodb:GetItem,dynamodb:GetRecords,dynamodb:GetShardIterator,dynamodb:Query,dynamodb:Scan on ${GetAtt:OrdersTable315BB997.Arn} | OrdersApiServiceRoleDefaultPolicy5E6F7A8B:43',
      'OrdersApiServiceRole1A2B3C4D | OrdersApiServiceRoleDefaultPolicy5E6F7A8B | xray:PutTelemetryRecords,xray:PutTraceSegments on * | OrdersApiServiceRoleDefaultPolicy5E6F7A8B:60',
      'OrdersApiServiceRole1A2B3C4D | arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole | logs:CreateLogGroup,logs:CreateLogStream,logs:PutLogEvents on * | OrdersApiServiceRole1A2B3C4D:24',
    ],
    functions: [['orders-api', 'cdk.out/OrdersStack.template.json#OrdersApiServiceRole1A2B3C4D']],
    notes: [
      /AWS managed policies from the bundled catalogue of \d{4}-\d\d-\d\d: AWSLambdaBasicExecutionRole v1 of 2015-04-09;/,
    ],
  },
];

for (const c of cases)
  test(`${c.name}: the statements read and where each is written`, async (t) => {
    const file = await readGranted(fs.readFileSync(path.join(dir, c.name), 'utf8'), c.name);
    t.is(file.kind, 'iac');
    if (file.kind === 'iac') t.is(file.format, c.format);
    const g = mergeGranted([file]);
    t.deepEqual(statements(g), c.statements);
    t.deepEqual([...g.functions], c.functions);
    const notes = g.roles.flatMap((r) => r.notes);
    t.is(notes.length, c.notes.length, notes.join('\n'));
    for (const [i, re] of c.notes.entries()) t.regex(notes[i] ?? '', re);
    for (const r of g.roles) t.is(r.origin?.file, c.name);
  });

test('an attached AWS managed policy comes from an authorization-details file given with the template', async (t) => {
  const template = await readGranted(
    fs.readFileSync(path.join(dir, 'cloudformation.yaml'), 'utf8'),
    't.yaml',
  );
  const details = await readGranted(
    JSON.stringify({
      Policies: [
        {
          Arn: 'arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess',
          DefaultVersionId: 'v1',
          PolicyVersionList: [
            {
              VersionId: 'v1',
              Document: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*' }],
              },
            },
          ],
        },
      ],
    }),
    'details.json',
  );
  const g = mergeGranted([template, details]);
  const role = g.roles[0]!;
  // The export wins over the bundled copy (ssm:Describe*, ssm:Get*, ssm:List*), and says so.
  t.deepEqual(role.notes.length, 2, role.notes.join('\n'));
  t.is(
    role.notes[0],
    'managed policies read from details.json: arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess',
  );
  t.regex(role.notes[1] ?? '', /bundled catalogue of .*: AWSLambdaBasicExecutionRole v1 of 2015-04-09;/);
  const ssm = role.policies.find((p) => p.name === 'arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess');
  t.deepEqual(ssm?.statements[0]?.actions, ['ssm:GetParameter']);
  t.deepEqual(ssm?.origin, { file: 't.yaml', resource: 'OrdersRole', line: 30 });
});

const bad: { what: string; name: string; text: string; message: RegExp }[] = [
  {
    what: 'a YAML syntax error',
    name: 'broken.yaml',
    text: 'Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties: [a, b\n',
    message: /^--granted broken\.yaml:5:1: not valid YAML or JSON \(.+\)\. Pass an IAM policy document/,
  },
  {
    what: 'an unknown SAM policy template',
    name: 'sam-bad.yaml',
    text: 'Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - DynamoDBCrudPolicyy:\n            TableName: t\n',
    message:
      /^--granted sam-bad\.yaml:6: Fn: Policies\[0\]: "DynamoDBCrudPolicyy" is not a SAM policy template/,
  },
  {
    what: 'a SAM policy template without its parameter',
    name: 'sam-param.yaml',
    text: 'Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - S3ReadPolicy: {}\n',
    message:
      /^--granted sam-param\.yaml:6: Fn: Policies\[0\]: the SAM policy template S3ReadPolicy needs BucketName/,
  },
  {
    what: 'a role policy that is not an identity policy',
    name: 'trust.yaml',
    text: 'Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Statement:\n              - Effect: Allow\n                Principal: "*"\n                Action: s3:GetObject\n                Resource: "*"\n',
    message: /^--granted trust\.yaml R: policy inline:p statement 1 has a Principal/,
  },
  {
    what: 'invalid Terraform',
    name: 'bad.tf',
    text: 'resource "aws_iam_role" "r" {\n  name = \n}\n',
    message: /^--granted bad\.tf: not valid Terraform \(bad\.tf:2,\d+-3,1: Invalid expression/,
  },
  {
    what: 'YAML that is no template',
    name: 'list.yaml',
    text: '- a\n- b\n',
    message: /^--granted list\.yaml: not JSON \(.+\)\. Pass an IAM policy document/,
  },
];

for (const b of bad)
  test(`a bad file names the file, the position and the fix: ${b.what}`, async (t) => {
    const err = await t.throwsAsync(readGranted(b.text, b.name), { instanceOf: UserInputError });
    t.regex(err?.message ?? '', b.message);
  });

for (const [what, text] of [
  [
    'JSON',
    '{"Resources": {"__proto__": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "polluted"}}}}',
  ],
  ['YAML', 'Resources:\n  __proto__:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: polluted\n'],
] as const)
  test(`a logical id __proto__ is a resource like any other (${what}), never a prototype`, async (t) => {
    const f = await readGranted(text, 't');
    if (f.kind !== 'iac') return t.fail(f.kind);
    t.deepEqual(
      f.roles.map((r) => [r.name, r.arn]),
      [['polluted', 't#__proto__']],
    );
    t.is(({} as Record<string, unknown>).Type, undefined);
  });
