import { oracleAllows as oracle } from '../support/oracle.js';
import test from 'ava';
import {
  actionFitsResources,
  evaluate,
  expandActionPattern,
  explain,
  parsePolicy,
  resourceMatches,
  type Decision,
  type Policy,
} from '../../src/iam/evaluate.js';
import { actionInfo } from '../../src/iam/index.js';
import { referenceCatalogue } from '../../src/iam/catalogue.js';
import { globsOverlap } from '../../src/iam/glob.js';

const ACCT = '111122223333';
const TABLE = `arn:aws:dynamodb:eu-west-1:${ACCT}:table/orders`;
const INDEX = `${TABLE}/index/by-customer`;
const OBJECT = 'arn:aws:s3:::uploads/2026/img.jpg';
const QUEUE = `arn:aws:sqs:eu-west-1:${ACCT}:jobs`;

type Stmt = Record<string, unknown>;
const policy = (statements: Stmt[], version: string | null = '2012-10-17'): Policy =>
  parsePolicy({ ...(version ? { Version: version } : {}), Statement: statements }, 'p');
const allow = (Action: unknown, Resource: unknown, extra: Stmt = {}): Stmt => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...extra,
});
const deny = (Action: unknown, Resource: unknown, extra: Stmt = {}): Stmt => ({
  Effect: 'Deny',
  Action,
  Resource,
  ...extra,
});

const cases: {
  rule: string;
  statements: Stmt[];
  action: string;
  resource: string;
  expected: Decision;
  version?: string | null;
}[] = [
  {
    rule: 'Allow on the exact resource',
    statements: [allow('dynamodb:GetItem', TABLE)],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'allowed',
  },
  {
    rule: 'nothing matches: implicit deny',
    statements: [allow('dynamodb:GetItem', TABLE)],
    action: 'dynamodb:PutItem',
    resource: TABLE,
    expected: 'not-allowed',
  },
  {
    rule: 'Resource "*"',
    statements: [allow('dynamodb:GetItem', '*')],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'allowed',
  },
  {
    rule: 'explicit deny wins over allow',
    statements: [allow('dynamodb:*', '*'), deny('dynamodb:GetItem', TABLE)],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'denied-explicit',
  },
  {
    rule: 'deny elsewhere does not apply',
    statements: [allow('dynamodb:*', '*'), deny('dynamodb:GetItem', `${TABLE}-archive`)],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'allowed',
  },
  {
    rule: 'deny alone is still not an allow',
    statements: [deny('s3:*', '*')],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'not-allowed',
  },
  {
    rule: 'actions are case-insensitive',
    statements: [allow('DynamoDB:getitem', TABLE)],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'allowed',
  },
  {
    rule: '* in actions',
    statements: [allow('dynamodb:Get*', TABLE)],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'allowed',
  },
  {
    rule: '? in actions matches one character',
    statements: [allow('dynamodb:?etItem', TABLE)],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'allowed',
  },
  {
    rule: '? does not match two characters',
    statements: [allow('dynamodb:?tItem', TABLE)],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'not-allowed',
  },
  {
    rule: 'Action "*"',
    statements: [allow('*', '*')],
    action: 'sqs:SendMessage',
    resource: QUEUE,
    expected: 'allowed',
  },
  {
    rule: 'NotAction allows everything except',
    statements: [{ Effect: 'Allow', NotAction: 'dynamodb:Delete*', Resource: '*' }],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'allowed',
  },
  {
    rule: 'NotAction excludes what it lists',
    statements: [{ Effect: 'Allow', NotAction: ['dynamodb:Delete*', 'dynamodb:GetItem'], Resource: '*' }],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'not-allowed',
  },
  {
    rule: 'Deny with NotAction denies the rest',
    statements: [allow('*', '*'), { Effect: 'Deny', NotAction: 's3:*', Resource: '*' }],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'denied-explicit',
  },
  {
    rule: 'NotResource allows other resources',
    statements: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', NotResource: `${TABLE}-secret` }],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'allowed',
  },
  {
    rule: 'NotResource excludes its resources',
    statements: [
      { Effect: 'Allow', Action: 'dynamodb:GetItem', NotResource: [`arn:aws:dynamodb:*:*:table/ord*`] },
    ],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'not-allowed',
  },
  {
    rule: '* in ARNs crosses /',
    statements: [allow('s3:GetObject', 'arn:aws:s3:::uploads/*')],
    action: 's3:GetObject',
    resource: OBJECT,
    expected: 'allowed',
  },
  {
    rule: '* in the resource part crosses :',
    statements: [allow('dynamodb:Query', `arn:aws:dynamodb:eu-west-1:${ACCT}:*`)],
    action: 'dynamodb:Query',
    resource: INDEX,
    expected: 'allowed',
  },
  {
    rule: '? in ARNs',
    statements: [allow('s3:GetObject', 'arn:aws:s3:::upload?/*')],
    action: 's3:GetObject',
    resource: OBJECT,
    expected: 'allowed',
  },
  {
    rule: 'ARN wildcards per segment (region, account)',
    statements: [allow('dynamodb:GetItem', 'arn:aws:dynamodb:*:*:table/orders')],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'allowed',
  },
  {
    rule: 'resources are case-sensitive',
    statements: [allow('dynamodb:GetItem', TABLE.replace('orders', 'Orders'))],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'not-allowed',
  },
  {
    rule: 'a table pattern does not cover its index',
    statements: [allow('dynamodb:Query', TABLE)],
    action: 'dynamodb:Query',
    resource: INDEX,
    expected: 'not-allowed',
  },
  {
    rule: 'short ARN is padded with * (identity policies)',
    statements: [allow('sqs:SendMessage', 'arn:aws:sqs')],
    action: 'sqs:SendMessage',
    resource: QUEUE,
    expected: 'allowed',
  },
  {
    rule: 'Condition makes an allow conditional',
    statements: [
      allow('dynamodb:GetItem', TABLE, { Condition: { Bool: { 'aws:SecureTransport': 'true' } } }),
    ],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'conditional',
  },
  {
    rule: 'a conditional deny makes an allow conditional',
    statements: [
      allow('dynamodb:*', '*'),
      deny('dynamodb:GetItem', '*', { Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-1' } } }),
    ],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'conditional',
  },
  {
    rule: 'a conditional deny alone does not allow',
    statements: [
      deny('dynamodb:GetItem', '*', { Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'false' } } }),
    ],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'not-allowed',
  },
  {
    rule: 'an unconditional allow beats a conditional allow',
    statements: [
      allow('dynamodb:GetItem', TABLE),
      allow('dynamodb:GetItem', TABLE, { Condition: { Bool: { 'aws:SecureTransport': 'true' } } }),
    ],
    action: 'dynamodb:GetItem',
    resource: TABLE,
    expected: 'allowed',
  },
  {
    rule: 'policy variable: conditional',
    statements: [allow('s3:GetObject', 'arn:aws:s3:::uploads/${aws:username}/*')],
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::uploads/alice/a.jpg',
    expected: 'conditional',
  },
  {
    rule: 'policy variable that cannot match: not allowed',
    statements: [allow('s3:GetObject', 'arn:aws:s3:::other/${aws:username}/*')],
    action: 's3:GetObject',
    resource: OBJECT,
    expected: 'not-allowed',
  },
  {
    rule: 'no Version: variables are literal',
    version: null,
    statements: [allow('s3:GetObject', 'arn:aws:s3:::uploads/${aws:username}/*')],
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::uploads/alice/a.jpg',
    expected: 'not-allowed',
  },
  {
    rule: '${*} is a literal star',
    statements: [allow('s3:GetObject', 'arn:aws:s3:::uploads/${*}')],
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::uploads/*',
    expected: 'allowed',
  },
  {
    rule: '${*} is not a wildcard',
    statements: [allow('s3:GetObject', 'arn:aws:s3:::uploads/${*}')],
    action: 's3:GetObject',
    resource: OBJECT,
    expected: 'not-allowed',
  },
  {
    rule: 'wildcard-only action needs Resource "*"',
    statements: [allow('dynamodb:ListTables', TABLE)],
    action: 'dynamodb:ListTables',
    resource: '*',
    expected: 'not-allowed',
  },
  {
    rule: 'Statement as an object',
    statements: [allow(['sqs:SendMessage'], [QUEUE])],
    action: 'sqs:SendMessage',
    resource: QUEUE,
    expected: 'allowed',
  },
];

for (const c of cases)
  test(`evaluate: ${c.rule}`, (t) => {
    t.is(
      evaluate(
        [policy(c.statements, c.version === undefined ? '2012-10-17' : c.version)],
        c.action,
        c.resource,
      ),
      c.expected,
    );
  });

test('evaluate: statements across several policies combine, deny wins', (t) => {
  const a = policy([allow('dynamodb:*', '*')]);
  const b = parsePolicy({ Version: '2012-10-17', Statement: deny('dynamodb:GetItem', TABLE) }, 'b');
  const e = explain([a, b], 'dynamodb:GetItem', TABLE);
  t.is(e.decision, 'denied-explicit');
  t.deepEqual(e.deniedBy, [{ policy: 'b', sid: null, index: 0 }]);
  t.deepEqual(e.allowedBy, [{ policy: 'p', sid: null, index: 0 }]);
});

const invalid: { why: string; doc: unknown; message: RegExp }[] = [
  {
    why: 'Principal (a resource policy)',
    doc: { Statement: { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' } },
    message: /statement 1 has a Principal/,
  },
  {
    why: 'bad Effect',
    doc: { Statement: [{ Effect: 'allow', Action: 's3:*', Resource: '*' }] },
    message: /Effect must be "Allow" or "Deny"/,
  },
  {
    why: 'Action and NotAction',
    doc: { Statement: [{ Effect: 'Allow', Action: 's3:*', NotAction: 'iam:*', Resource: '*' }] },
    message: /exactly one of Action or NotAction/,
  },
  {
    why: 'no Resource',
    doc: { Statement: [{ Effect: 'Allow', Action: 's3:*' }] },
    message: /exactly one of Resource or NotResource/,
  },
  {
    why: 'not an action',
    doc: { Statement: [{ Effect: 'Allow', Action: 'GetObject', Resource: '*' }] },
    message: /is not an action/,
  },
  {
    why: 'empty list',
    doc: { Statement: [{ Effect: 'Allow', Action: [], Resource: '*' }] },
    message: /non-empty/,
  },
  {
    why: 'no Statement (a trust policy file list?)',
    doc: { Version: '2012-10-17' },
    message: /has no Statement/,
  },
  {
    why: 'unknown element',
    doc: { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*', Resources: '*' }] },
    message: /unknown element "Resources"/,
  },
  { why: 'bad Version', doc: { Version: '2020-01-01', Statement: [] }, message: /Version "2020-01-01"/ },
];
for (const c of invalid)
  test(`parsePolicy rejects: ${c.why}`, (t) => {
    const err = t.throws(() => parsePolicy(c.doc, 'doc', '--granted f.json'));
    t.regex(err.message, c.message);
    t.regex(err.message, /^--granted f\.json: /);
  });

test('resourceMatches: three-valued with variables', (t) => {
  t.is(resourceMatches('arn:aws:s3:::b/${aws:userid}/*', 'arn:aws:s3:::b/x/y'), 'maybe');
  t.is(resourceMatches('arn:aws:s3:::b/${aws:userid}/*', 'arn:aws:s3:::b/x/y', false), 'no');
  t.is(resourceMatches('arn:aws:s3:::b/*', 'arn:aws:s3:::b/x/y'), 'yes');
});

test('globsOverlap', (t) => {
  t.true(globsOverlap('arn:aws:dynamodb:*:*:table/*', `${TABLE}`));
  t.true(globsOverlap('a*c', 'ab*'));
  t.false(globsOverlap('table/*/index/*', 'table/orders'));
  t.false(globsOverlap('a?', 'abc'));
});

test('expandActionPattern: wildcards become concrete actions from the reference', (t) => {
  const all = expandActionPattern('dynamodb:*', referenceCatalogue);
  t.true(all.length > 50);
  t.true(all.includes('dynamodb:GetItem'));
  t.deepEqual(expandActionPattern('dynamodb:?etItem', referenceCatalogue), ['dynamodb:GetItem']);
  t.deepEqual(expandActionPattern('DYNAMODB:getitem', referenceCatalogue), ['dynamodb:GetItem']);
  t.deepEqual(expandActionPattern('madeup:DoThing', referenceCatalogue), ['madeup:DoThing']);
});

test('actionFitsResources: dynamodb:* on a table keeps table-level actions only', (t) => {
  const fits = (a: string, r: string[]): boolean => actionFitsResources(actionInfo(a), 'Resource', r);
  t.true(fits('dynamodb:GetItem', [TABLE]));
  t.false(fits('dynamodb:ListTables', [TABLE]), 'wildcard-only action');
  t.true(fits('dynamodb:ListTables', ['*']));
  t.false(fits('dynamodb:DescribeStream', [TABLE]), 'stream action on a table ARN');
  t.true(fits('dynamodb:Query', [INDEX]));
  t.false(fits('dynamodb:GetItem', [QUEUE]));
  const onTable = expandActionPattern('dynamodb:*', referenceCatalogue).filter((a) => fits(a, [TABLE]));
  const onAll = expandActionPattern('dynamodb:*', referenceCatalogue).filter((a) => fits(a, ['*']));
  t.true(onTable.length < onAll.length);
  t.is(onAll.length, expandActionPattern('dynamodb:*', referenceCatalogue).length);
});

/* ---------------------------------------------------------------- oracle */

/** Deterministic PRNG (mulberry32) so the generated cases are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Real actions, each with resources of the right type. */
const REQUESTS: { action: string; resources: string[] }[] = [
  { action: 'dynamodb:GetItem', resources: [TABLE, `arn:aws:dynamodb:eu-west-1:${ACCT}:table/invoices`] },
  { action: 'dynamodb:PutItem', resources: [TABLE, `arn:aws:dynamodb:us-east-1:${ACCT}:table/orders`] },
  { action: 'dynamodb:Query', resources: [TABLE, INDEX] },
  { action: 's3:GetObject', resources: [OBJECT, 'arn:aws:s3:::thumbs/a/b.png'] },
  { action: 's3:PutObject', resources: [OBJECT, 'arn:aws:s3:::thumbs/a/b.png'] },
  { action: 's3:ListBucket', resources: ['arn:aws:s3:::uploads', 'arn:aws:s3:::thumbs'] },
  { action: 'sqs:SendMessage', resources: [QUEUE, `arn:aws:sqs:eu-west-1:${ACCT}:dead-letters`] },
  { action: 'sns:Publish', resources: [`arn:aws:sns:eu-west-1:${ACCT}:events`] },
];
const ACTION_PATTERNS = [
  ...REQUESTS.map((r) => r.action),
  'dynamodb:*',
  'dynamodb:Get*',
  'DynamoDB:putitem',
  'dynamodb:?etItem',
  's3:*',
  's3:*Object',
  's3:List*',
  'sqs:Send*',
  '*',
  'sns:*',
];
const RESOURCE_PATTERNS = [
  '*',
  TABLE,
  INDEX,
  OBJECT,
  QUEUE,
  'arn:aws:s3:::uploads',
  'arn:aws:s3:::uploads/*',
  'arn:aws:s3:::upload?/*',
  'arn:aws:s3:::*',
  `arn:aws:dynamodb:eu-west-1:${ACCT}:table/*`,
  `arn:aws:dynamodb:*:*:table/orders`,
  `arn:aws:dynamodb:eu-west-1:${ACCT}:table/ord*`,
  `arn:aws:sqs:eu-west-1:${ACCT}:*`,
  `arn:aws:sns:*:${ACCT}:events`,
  'arn:aws:s3:::thumbs/*/b.png',
];

function generate(
  seed: number,
  n: number,
): { doc: { Version: string; Statement: Stmt[] }; action: string; resource: string }[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const some = <T>(xs: readonly T[]): T[] => [
    ...new Set(Array.from({ length: 1 + Math.floor(r() * 2) }, () => pick(xs))),
  ];
  const out = [];
  for (let i = 0; i < n; i++) {
    const statements: Stmt[] = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
      const s: Stmt = { Effect: r() < 0.7 ? 'Allow' : 'Deny' };
      s[r() < 0.2 ? 'NotAction' : 'Action'] = some(ACTION_PATTERNS);
      s[r() < 0.2 ? 'NotResource' : 'Resource'] = some(RESOURCE_PATTERNS);
      return s;
    });
    const req = pick(REQUESTS);
    out.push({
      doc: { Version: '2012-10-17', Statement: statements },
      action: req.action,
      resource: pick(req.resources),
    });
  }
  return out;
}

function oracleAllows(doc: unknown, action: string, resource: string): Promise<boolean> {
  return oracle(doc, action, resource, ACCT);
}

test('oracle: evaluate agrees with iam-simulate on 400 generated policies and requests', async (t) => {
  const cases = generate(20261120, 400);
  let compared = 0;
  const disagreements: string[] = [];
  for (const c of cases) {
    const ours = evaluate([parsePolicy(c.doc, 'generated')], c.action, c.resource);
    if (ours === 'conditional') continue;
    compared++;
    const theirs = await oracleAllows(c.doc, c.action, c.resource);
    if ((ours === 'allowed') !== theirs)
      disagreements.push(
        `${c.action} on ${c.resource}: ours ${ours}, oracle ${theirs ? 'Allowed' : 'not'}; ${JSON.stringify(c.doc)}`,
      );
  }
  t.log(`oracle: ${compared} cases compared, ${compared - disagreements.length} agree`);
  t.true(compared >= 380);
  t.deepEqual(disagreements, []);
  // The generator must exercise both answers, or agreement proves little.
  const allowed = cases.filter(
    (c) => evaluate([parsePolicy(c.doc, 'g')], c.action, c.resource) === 'allowed',
  ).length;
  t.true(allowed > 60 && allowed < 340, `${allowed} allowed`);
});

/* ------------------------------------------------ conditions with a request context (the replay) */

const VIA = (op: string, values: string[]): unknown => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { [op]: { 'kms:ViaService': values } },
    },
  ],
});
const CONTEXT_CASES: {
  rule: string;
  policy: unknown;
  context?: Record<string, string>;
  expected: Decision;
}[] = [
  {
    rule: 'no context: conditional',
    policy: VIA('StringEquals', ['s3.eu-west-1.amazonaws.com']),
    expected: 'conditional',
  },
  {
    rule: 'StringEquals, the value in context: allowed',
    policy: VIA('StringEquals', ['sqs.eu-west-1.amazonaws.com', 's3.eu-west-1.amazonaws.com']),
    context: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' },
    expected: 'allowed',
  },
  {
    rule: 'StringEquals, another value: not allowed',
    policy: VIA('StringEquals', ['s3.eu-west-1.amazonaws.com']),
    context: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
    expected: 'not-allowed',
  },
  {
    rule: 'keys compare case-insensitively',
    policy: VIA('StringEquals', ['s3.eu-west-1.amazonaws.com']),
    context: { 'KMS:viaservice': 's3.eu-west-1.amazonaws.com' },
    expected: 'allowed',
  },
  {
    rule: 'StringLike with a wildcard',
    policy: VIA('StringLike', ['s3.*.amazonaws.com']),
    context: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' },
    expected: 'allowed',
  },
  {
    rule: 'a key the context lacks: conditional',
    policy: VIA('StringEquals', ['s3.eu-west-1.amazonaws.com']),
    context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
    expected: 'conditional',
  },
  {
    rule: 'an operator not evaluated: conditional',
    policy: VIA('StringNotEquals', ['s3.eu-west-1.amazonaws.com']),
    context: { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com' },
    expected: 'conditional',
  },
];
for (const c of CONTEXT_CASES)
  test(`evaluate with a request context: ${c.rule}`, (t) => {
    t.is(
      evaluate(
        [parsePolicy(c.policy, 'p')],
        'kms:Decrypt',
        'arn:aws:kms:eu-west-1:123456789012:key/k',
        c.context,
      ),
      c.expected,
    );
  });
