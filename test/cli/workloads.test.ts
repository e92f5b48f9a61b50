import test from 'ava';
import { cli } from '../support/helpers.js';
import { fixtureStore } from '../query/fixture.js';

const db = fixtureStore().then(({ store, file }) => {
  store.close();
  return file;
});

test('principals --wide prints one row per workload, every column', async (t) => {
  const r = await cli(['--db', await db, 'principals', '--wide']);
  t.is(r.code, 0);
  const lines = r.out.split('\n');
  t.regex(
    lines[1]!,
    /kind\s*│ name\s*│ ARN \/ id\s*│ account\s*│ region\s*│ traced by │ traces │ days │ calls │ actions │ denied │ first seen\s*│ last seen/,
  );
  t.regex(
    lines[3]!,
    /│ lambda │ api\s*│ arn:aws:lambda:eu-west-1:123456789012:function:api\s*│ 123456789012 │ eu-west-1 │ X-Ray\s+│\s+3 │\s+3 │\s+5 │\s+2 │\s+1 │ 2026-11-20T10:00:00Z │ 2026-11-22T00:30:00Z │/,
  );
});

test('principals --json with a range and a workload filter', async (t) => {
  const r = await cli([
    '--db',
    await db,
    'principals',
    '--json',
    '--since',
    '2026-11-21',
    '--principal',
    'api',
  ]);
  t.is(r.code, 0);
  const rows = JSON.parse(r.out) as Record<string, unknown>[];
  t.deepEqual(Object.keys(rows[0]!), [
    'id',
    'key',
    'kind',
    'name',
    'arn',
    'account',
    'region',
    'attrs',
    'formats',
    'traces',
    'activeDays',
    'calls',
    'distinctActions',
    'denied',
    'errors',
    'faults',
    'throttles',
    'firstSeen',
    'lastSeen',
  ]);
  t.like(rows[0], {
    name: 'api',
    formats: ['x-ray'],
    calls: 3,
    distinctActions: 1,
    denied: 1,
    firstSeen: '2026-11-21T12:00:00.000Z',
  });
});

test('principals --csv', async (t) => {
  const r = await cli(['--db', await db, 'principals', '--csv', '--outcome', 'fault']);
  t.is(r.code, 0);
  t.is(
    r.out,
    'kind,name,key,account,region,formats,traces,activeDays,calls,distinctActions,denied,firstSeen,lastSeen\r\n' +
      'lambda,worker,arn:aws:lambda:us-east-1:222222222222:function:worker,222222222222,us-east-1,x-ray,1,1,1,1,0,2026-11-21T01:00:00.000Z,2026-11-21T01:00:00.000Z\r\n',
  );
});

test('principals with no match explains and exits 0', async (t) => {
  const r = await cli(['--db', await db, 'principals', '--until', '2026-01-01']);
  t.is(r.code, 0);
  t.regex(
    r.out,
    /^No workloads with calls: the range \(until 2026-01-01T00:00:00\.000Z\) is outside the recorded period 2026-11-20T10:00:00\.000Z … 2026-11-22T00:30:00\.000Z\.\n$/,
  );
});

test('principals --completeness adds the verdict of each policy (the whole object in --json)', async (t) => {
  const table = await cli(['--db', await db, 'principals', '--completeness', '--wide']);
  t.is(table.code, 0);
  t.regex(table.out.split('\n')[1]!, /│ denied │ completeness\s*│ first seen/);
  t.regex(table.out, /│ api .*│ too little data │/);
  const json = JSON.parse((await cli(['--db', await db, 'principals', '--completeness', '--json'])).out) as {
    name: string;
    completeness: { verdict: string; reason: string; activeDays: number } | null;
  }[];
  const api = json.find((r) => r.name === 'api')!;
  t.is(api.completeness!.verdict, 'too little data');
  t.regex(api.completeness!.reason, /only 3 traces/);
  t.is(api.completeness!.activeDays, 3);
});
