/**
 * Dependent actions (src/runtime/dependent.ts): each PassRole and KMS rule, from the calls a
 * workload makes, gives a recognised need (never granted on a guess: the role or key is not in a
 * trace) and a note that names the call, the condition and the source.
 */
import test from 'ava';
import { actionInfo } from '../../src/iam/catalogue.js';
import { evaluate, parsePolicy } from '../../src/iam/evaluate.js';
import { buildStatements } from '../../src/policy/statements.js';
import type { PolicyDocument } from '../../src/policy/types.js';
import {
  dependentNeeds,
  KMS_BY_ACTION,
  namedDependent,
  PASS_ROLE,
  type RuntimeNeed,
} from '../../src/runtime/needs.js';
import { oracleAllows } from '../support/oracle.js';

const SCOPE = { partition: 'aws', region: 'eu-west-1', account: '123456789012' };

for (const [call, rule] of Object.entries(PASS_ROLE))
  test(`PassRole: ${call} → iam:PassRole with iam:PassedToService ${rule.passedTo}`, (t) => {
    t.truthy(actionInfo(call), `${call} is in the reference`);
    const r = dependentNeeds([call.toLowerCase()], SCOPE);
    t.deepEqual(
      r.possible.map((n) => [n.action, n.resource, n.origin, n.rule]),
      [['iam:PassRole', 'arn:aws:iam::123456789012:role/*', 'dependent', 'pass-role']],
    );
    t.is(r.notes.length, 1);
    t.true(r.notes[0]!.message.startsWith(`${call} passes a role`));
    t.true(r.notes[0]!.message.includes(`iam:PassedToService = ${rule.passedTo}`));
    t.regex(
      r.notes[0]!.source,
      /^https:\/\/docs\.aws\.amazon\.com\/service-authorization\/latest\/reference\/list_/,
    );
  });

for (const [call, rule] of Object.entries(KMS_BY_ACTION))
  test(`KMS: ${call} → ${rule.kms.join(', ')} via ${rule.via}`, (t) => {
    t.truthy(actionInfo(call), `${call} is in the reference`);
    for (const k of rule.kms) t.is(actionInfo(k)?.action, k);
    const r = dependentNeeds([call], SCOPE);
    t.deepEqual(
      r.possible.map((n) => [n.action, n.resource, n.rule]),
      rule.kms.map((k) => [k, 'arn:aws:kms:eu-west-1:123456789012:key/*', 'kms-via-service']),
    );
    t.true(r.possible.every((n) => n.why.includes(`kms:ViaService = ${rule.via}.eu-west-1.amazonaws.com`)));
    t.is(r.notes.length, 1);
    t.true(r.notes[0]!.message.includes(`${call} needs ${rule.kms.join(' and ')}`));
    t.is(r.notes[0]!.source, rule.source);
  });

test('calls with no dependent action give nothing; several services, one note each', (t) => {
  t.deepEqual(dependentNeeds(['dynamodb:GetItem', 'logs:PutLogEvents'], SCOPE), { possible: [], notes: [] });
  const r = dependentNeeds(['s3:GetObject', 's3:PutObject', 'sqs:SendMessage', 'ecs:RunTask'], SCOPE);
  t.deepEqual(
    r.notes.map((n) => n.rule),
    ['pass-role', 'kms-via-service', 'kms-via-service'],
  );
});

/* ------------------------------------------------ named dependents: granted with a condition */

const ACCOUNT = '123456789012';
const KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/9999abcd-12ab-34cd-56ef-1234567890ab`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app-task`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/admin`;

const docOf = (need: RuntimeNeed): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: buildStatements([need], 'Runtime'),
});

const NAMED: {
  name: string;
  denied: { action: string; resource: string };
  calls: string[];
  want: { action: string; variable: string; values: string[] };
  allow: [action: string, resource: string, context: Record<string, string>][];
  deny: [action: string, resource: string, context: Record<string, string>][];
}[] = [
  {
    name: 'kms:Decrypt behind s3:GetObject',
    denied: { action: 'kms:Decrypt', resource: KEY },
    calls: ['s3:GetObject', 'dynamodb:GetItem'],
    want: { action: 'kms:Decrypt', variable: 'kms:ViaService', values: ['s3.eu-west-1.amazonaws.com'] },
    allow: [['kms:Decrypt', KEY, { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' }]],
    deny: [
      ['kms:Decrypt', KEY, { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com' }],
      ['kms:Decrypt', KEY, { 'kms:ViaService': 's3.us-east-1.amazonaws.com' }],
      ['kms:Decrypt', OTHER_KEY, { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' }],
      ['kms:Decrypt', KEY, {}],
      ['kms:Encrypt', KEY, { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' }],
    ],
  },
  {
    name: 'kms:GenerateDataKey behind SQS and SNS producers: both services, nothing else',
    denied: { action: 'kms:GenerateDataKey', resource: KEY },
    calls: ['sqs:SendMessage', 'sns:Publish', 's3:GetObject'],
    want: {
      action: 'kms:GenerateDataKey',
      variable: 'kms:ViaService',
      values: ['sns.eu-west-1.amazonaws.com', 'sqs.eu-west-1.amazonaws.com'],
    },
    allow: [
      ['kms:GenerateDataKey', KEY, { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com' }],
      ['kms:GenerateDataKey', KEY, { 'kms:ViaService': 'sns.eu-west-1.amazonaws.com' }],
    ],
    deny: [['kms:GenerateDataKey', KEY, { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' }]],
  },
  {
    name: 'iam:PassRole behind ecs:RunTask',
    denied: { action: 'iam:PassRole', resource: ROLE },
    calls: ['ecs:RunTask'],
    want: { action: 'iam:PassRole', variable: 'iam:PassedToService', values: ['ecs-tasks.amazonaws.com'] },
    allow: [['iam:PassRole', ROLE, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }]],
    deny: [
      ['iam:PassRole', ROLE, { 'iam:PassedToService': 'lambda.amazonaws.com' }],
      ['iam:PassRole', OTHER_ROLE, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }],
    ],
  },
  {
    name: 'iam:PassRole behind lambda:CreateFunction',
    denied: { action: 'iam:PassRole', resource: ROLE },
    calls: ['lambda:CreateFunction'],
    want: { action: 'iam:PassRole', variable: 'iam:PassedToService', values: ['lambda.amazonaws.com'] },
    allow: [['iam:PassRole', ROLE, { 'iam:PassedToService': 'lambda.amazonaws.com' }]],
    deny: [
      ['iam:PassRole', ROLE, { 'iam:PassedToService': 'ec2.amazonaws.com' }],
      ['iam:PassRole', OTHER_ROLE, { 'iam:PassedToService': 'lambda.amazonaws.com' }],
    ],
  },
];

// Every row of both tables: allowed to its service in the key's region, denied to another.
for (const [call, rule] of Object.entries(PASS_ROLE)) {
  const other = rule.passedTo === 'lambda.amazonaws.com' ? 'ec2.amazonaws.com' : 'lambda.amazonaws.com';
  NAMED.push({
    name: `iam:PassRole behind ${call} (table)`,
    denied: { action: 'iam:PassRole', resource: ROLE },
    calls: [call],
    want: { action: 'iam:PassRole', variable: 'iam:PassedToService', values: [rule.passedTo] },
    allow: [['iam:PassRole', ROLE, { 'iam:PassedToService': rule.passedTo }]],
    deny: [
      ['iam:PassRole', ROLE, { 'iam:PassedToService': other }],
      ['iam:PassRole', OTHER_ROLE, { 'iam:PassedToService': rule.passedTo }],
    ],
  });
}
for (const [call, rule] of Object.entries(KMS_BY_ACTION))
  for (const kms of rule.kms) {
    const via = `${rule.via}.eu-west-1.amazonaws.com`;
    const other = rule.via === 's3' ? 'sqs' : 's3';
    NAMED.push({
      name: `${kms} behind ${call} (table)`,
      denied: { action: kms, resource: KEY },
      calls: [call],
      want: { action: kms, variable: 'kms:ViaService', values: [via] },
      allow: [[kms, KEY, { 'kms:ViaService': via }]],
      deny: [
        [kms, KEY, { 'kms:ViaService': `${other}.eu-west-1.amazonaws.com` }],
        [kms, KEY, { 'kms:ViaService': `${rule.via}.us-east-1.amazonaws.com` }],
        [kms, OTHER_KEY, { 'kms:ViaService': via }],
      ],
    });
  }

for (const c of NAMED)
  test(`named dependent: ${c.name} is granted on it with its condition`, async (t) => {
    const d = namedDependent(c.denied, c.calls);
    t.truthy(d);
    const need = d!.need;
    t.deepEqual(
      [need.action, need.resource, need.origin, need.condition],
      [
        c.want.action,
        c.denied.resource,
        'dependent',
        { test: 'StringEquals', variable: c.want.variable, values: c.want.values },
      ],
    );
    t.true(need.source.startsWith('https://docs.aws.amazon.com/'));
    const doc = docOf(need);
    t.deepEqual(doc.Statement[0]!.Condition, { StringEquals: { [c.want.variable]: c.want.values } });
    for (const [action, resource, context] of c.allow) {
      t.true(
        await oracleAllows(doc, action, resource, ACCOUNT, context),
        `oracle allows ${action} ${JSON.stringify(context)}`,
      );
      t.is(evaluate([parsePolicy(doc, 'p')], action, resource, context), 'allowed');
    }
    for (const [action, resource, context] of c.deny) {
      t.false(
        await oracleAllows(doc, action, resource, ACCOUNT, context),
        `oracle denies ${action} on ${resource} ${JSON.stringify(context)}`,
      );
      t.not(evaluate([parsePolicy(doc, 'p')], action, resource, context), 'allowed');
    }
    // The calls it serves are no longer said as unknown.
    const notes = dependentNeeds(c.calls, SCOPE, {
      passRole: new Set(need.rule === 'pass-role' ? d!.calls : []),
      kms: new Set(need.rule === 'kms-via-service' ? d!.calls : []),
    }).notes;
    t.false(
      notes.some((n) =>
        d!.calls.some(
          (call) =>
            n.message.includes(`${call} needs ${need.action}`) || n.message.startsWith(`${call} passes`),
        ),
      ),
    );
  });

test('named dependent: nothing when no call of the workload explains it', (t) => {
  for (const [denied, calls] of [
    [{ action: 'kms:Decrypt', resource: KEY }, ['dynamodb:GetItem', 'kms:Decrypt']],
    [{ action: 'kms:Encrypt', resource: KEY }, ['s3:GetObject']],
    [{ action: 'kms:Decrypt', resource: 'arn:aws:kms:eu-west-1:123456789012:alias/app' }, ['s3:GetObject']],
    [{ action: 'iam:PassRole', resource: ROLE }, ['s3:GetObject']],
    [{ action: 'iam:PassRole', resource: '*' }, ['ecs:RunTask']],
  ] as const)
    t.is(namedDependent(denied, calls), undefined, `${denied.action} on ${denied.resource}`);
});
