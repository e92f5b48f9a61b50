/**
 * `rowsUsage`: usage rows as the observed usage of a comparison (compare/usage-rows.ts), with a
 * row source in memory. The CLI test (test/cli/compare-usage.test.ts) checks that the exported
 * samples compare as the database does; this one checks what the samples do not show.
 */
import test from 'ava';
import { compareUsage, type CompareResult, type ObservedWorkload } from '../../src/compare/compare.js';
import { rowsUsage, type UsageRows } from '../../src/compare/usage-rows.js';
import type { GrantedInputs } from '../../src/granted/granted.js';
import { parsePolicy } from '../../src/iam/evaluate.js';
import type { SpillPermission, SpillPrincipal } from '../../src/store/usage-rows/spill.js';

const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:orders';
const ECS = 'ecs:123456789012:eu-west-1:payments/billing';
const ROLE = 'arn:aws:iam::123456789012:role/app';

/** One principal of the fake rows: its identity columns and what it used. */
interface Fake {
  principal: string;
  kind?: string;
  name?: string;
  account?: string;
  permissions?: [action: string, resource: string, calls: number, denied?: number][];
  unmapped?: number;
}

/** A row source in memory, as store/usage-rows/spill.ts would answer for these rows. */
function rows(fakes: Fake[]): UsageRows {
  const by = new Map(fakes.map((f) => [f.principal, f]));
  return {
    principals: (): SpillPrincipal[] =>
      fakes.map((f) => ({
        principal: f.principal,
        kind: f.kind ?? null,
        name: f.name ?? null,
        account: f.account ?? null,
        region: null,
        first: null,
        last: null,
        days: null,
      })),
    permissions: (keys): SpillPermission[] =>
      keys.flatMap((k) =>
        (by.get(k)?.permissions ?? []).map(([action, resource, calls, denied]) => ({
          action,
          resource,
          resourceType: null,
          resourceUnknown: resource.includes('*'),
          calls,
          denied: denied ?? 0,
          first: NaN,
          last: NaN,
          traceMin: '',
          traceMax: '',
        })),
      ),
    unmapped: (keys) =>
      keys.flatMap((k) => (by.get(k)?.unmapped ? [{ calls: by.get(k)?.unmapped ?? 0 }] : [])),
  };
}

const role = (functions: [string, string][]): GrantedInputs => ({
  roles: [
    {
      arn: ROLE,
      name: 'app',
      file: 'auth.json',
      notes: [],
      policies: [
        parsePolicy(
          {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
          },
          'inline:app',
        ),
      ],
    },
  ],
  policies: [],
  functions: new Map(functions),
  files: [],
});

const GET: Fake['permissions'] = [['s3:GetObject', 'arn:aws:s3:::b/k', 3]];

const cases: {
  name: string;
  fakes: Fake[];
  functions: [string, string][];
  check: (r: CompareResult, w: ObservedWorkload[]) => unknown[];
  want: unknown[];
}[] = [
  {
    name: 'a principal whose calls needed no permission is not compared',
    fakes: [{ principal: FN, permissions: GET }, { principal: 'arn:aws:lambda:eu-west-1:1:function:idle' }],
    functions: [],
    check: (r, w) => [w.map((x) => x.name), r.unmatchedWorkloads.map((u) => u.name)],
    want: [['orders'], ['orders']],
  },
  {
    name: 'a principal with unmapped calls only is compared, and noted',
    fakes: [{ principal: FN, unmapped: 2 }],
    functions: [[FN, ROLE]],
    check: (r) => [r.workloads.length, r.workloads[0]?.notes],
    want: [1, ['2 calls could not be mapped to an IAM action; their permissions are not counted as used']],
  },
  {
    name: 'kind, name and account come from the columns',
    fakes: [{ principal: FN, kind: 'custom', name: 'Orders', account: '999', permissions: GET }],
    functions: [[FN, ROLE]],
    check: (r) => r.workloads.map((w) => [w.kind, w.name, w.account]),
    want: [['custom', 'Orders', '999']],
  },
  {
    name: 'without the columns: kind and name from the ARN or key, no account',
    fakes: [
      { principal: FN, permissions: GET },
      { principal: ECS, permissions: GET },
      { principal: 'arn:aws:states:eu-west-1:1:stateMachine:flow', permissions: GET },
    ],
    functions: [],
    check: (r) => r.unmatchedWorkloads.map((w) => [w.kind, w.name]),
    want: [
      ['lambda', 'orders'],
      ['stepfunctions', 'flow'],
      ['ecs', 'billing'],
    ],
  },
  {
    name: 'a functions file matches by ARN',
    fakes: [{ principal: FN, permissions: GET }],
    functions: [[FN, ROLE]],
    check: (r) => r.workloads.map((w) => [w.name, w.role.matchedBy, w.passes]),
    want: [['orders', 'functions', true]],
  },
  {
    name: 'a functions file matches by name',
    fakes: [{ principal: FN, permissions: GET }],
    functions: [['orders', ROLE]],
    check: (r) => r.workloads.map((w) => [w.name, w.role.matchedBy]),
    want: [['orders', 'functions']],
  },
  {
    name: 'a functions file matches a principal without an ARN by its key',
    fakes: [{ principal: ECS, name: 'billing', permissions: GET }],
    functions: [[ECS, ROLE]],
    check: (r) => r.workloads.map((w) => [w.name, w.role.matchedBy]),
    want: [['billing', 'functions']],
  },
  {
    name: 'the ARN is tried before the name',
    fakes: [{ principal: FN, permissions: GET }],
    functions: [
      ['orders', 'arn:aws:iam::123456789012:role/other'],
      [FN, ROLE],
    ],
    check: (r) => r.workloads.map((w) => w.role.arn),
    want: [ROLE],
  },
  {
    name: 'denied calls and missing permissions are counted from the rows',
    fakes: [
      {
        principal: FN,
        permissions: [
          ['s3:GetObject', 'arn:aws:s3:::b/k', 3, 1],
          ['s3:PutObject', 'arn:aws:s3:::b/k', 2, 2],
        ],
      },
    ],
    functions: [[FN, ROLE]],
    check: (r) => [
      r.workloads[0]?.deniedAtRuntime.map((d) => [d.action, d.denied]),
      r.workloads[0]?.missing.map((m) => [m.action, m.calls, m.denied]),
      r.passed,
    ],
    want: [[['s3:GetObject', 1]], [['s3:PutObject', 2, 2]], false],
  },
];

for (const c of cases)
  test(c.name, (t) => {
    const usage = rowsUsage(rows(c.fakes));
    const r = compareUsage(usage, { granted: role(c.functions) });
    t.deepEqual(c.check(r, [...usage.workloads()]), c.want);
  });

test('workloads are compared in principal order, whatever the order of the rows', (t) => {
  const fakes: Fake[] = [
    { principal: ECS, permissions: GET },
    { principal: FN, permissions: GET },
  ];
  const a = compareUsage(rowsUsage(rows(fakes)), { granted: role([]) });
  const b = compareUsage(rowsUsage(rows([...fakes].reverse())), { granted: role([]) });
  t.deepEqual(
    a.unmatchedWorkloads.map((w) => w.principal),
    [FN, ECS],
  );
  t.deepEqual(a, b);
});
