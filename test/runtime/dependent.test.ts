/**
 * Dependent actions (src/runtime/dependent.ts): each PassRole and KMS rule, from the calls a
 * workload makes, gives a recognised need (never granted on a guess: the role or key is not in a
 * trace) and a note that names the call, the condition and the source.
 */
import test from 'ava';
import { actionInfo } from '../../src/iam/catalogue.js';
import { dependentNeeds, KMS_BY_ACTION, PASS_ROLE } from '../../src/runtime/needs.js';

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
