/**
 * Every policy checks itself: its evidence replayed through the project's evaluator against the
 * final documents. A document that does not allow its own evidence fails loudly.
 */
import test from 'ava';
import { replayEvidence } from '../../src/policy/replay.js';
import type { PolicyDocument } from '../../src/policy/types.js';

const doc = (resources: string[], action = 'dynamodb:GetItem'): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Sid: 'A', Effect: 'Allow', Action: [action], Resource: resources }],
});
const T = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders';

const CASES: {
  name: string;
  docs: PolicyDocument[];
  observed: [string, string][];
  needs?: [string, string][];
  options?: { accountWildcard?: boolean; regionWildcard?: boolean; placeholders?: boolean };
  fails?: string;
}[] = [
  { name: 'the exact grant', docs: [doc([T])], observed: [['dynamodb:GetItem', T]] },
  {
    name: 'observed across split parts',
    docs: [doc([T]), doc([`${T}-2`])],
    observed: [
      ['dynamodb:GetItem', T],
      ['dynamodb:GetItem', `${T}-2`],
    ],
  },
  {
    name: 'S3 keys under a scoped prefix',
    docs: [doc(['arn:aws:s3:::b/in/*'], 's3:GetObject')],
    observed: [['s3:GetObject', 'arn:aws:s3:::b/in/2026/a.csv']],
  },
  {
    name: 'account and region wildcards: the recorded ARN generalised',
    docs: [doc(['arn:aws:dynamodb:*:*:table/orders'])],
    observed: [['dynamodb:GetItem', T]],
    options: { accountWildcard: true, regionWildcard: true },
  },
  {
    name: 'placeholders are read as text, on both sides',
    docs: [doc(['arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders'])],
    observed: [['dynamodb:GetItem', T]],
    options: { placeholders: true },
  },
  {
    name: 'a run-time need',
    docs: [doc(['*'], 'xray:PutTraceSegments')],
    observed: [],
    needs: [['xray:PutTraceSegments', '*']],
  },
  {
    name: 'a lost resource fails',
    docs: [doc([T])],
    observed: [['dynamodb:GetItem', `${T}-2`]],
    fails: 'dynamodb:GetItem on arn:aws:dynamodb:eu-west-1:123456789012:table/orders-2',
  },
  {
    name: 'a lost run-time need fails',
    docs: [doc([T])],
    observed: [],
    needs: [['logs:PutLogEvents', 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/fn:*']],
    fails: 'logs:PutLogEvents',
  },
  {
    name: 'a lost action fails',
    docs: [doc([T])],
    observed: [['dynamodb:PutItem', T]],
    fails: 'dynamodb:PutItem',
  },
];

for (const c of CASES)
  test(`replay: ${c.name}`, (t) => {
    const run = (): unknown =>
      replayEvidence(
        c.docs,
        c.observed.map(([action, resource]) => ({ action, resource })),
        (c.needs ?? []).map(([action, resource]) => ({ action, resource })),
        c.options ?? {},
        // The account and region of the ARNs above: placeholders stand for these.
        { account: '123456789012', region: 'eu-west-1' },
      );
    if (c.fails) {
      const err = t.throws(run);
      t.regex(err?.message ?? '', /does not allow its own evidence/);
      t.true(err?.message.includes(c.fails));
    } else {
      const n = c.observed.length + (c.needs?.length ?? 0);
      t.deepEqual(run(), { permissions: n, allowed: n });
    }
  });
