import test from 'ava';
import { cli } from '../support/helpers.js';
import { fixtureStore } from '../query/fixture.js';

const db = fixtureStore().then(({ store, file }) => {
  store.close();
  return file;
});

test('calls prints the newest calls first, with --limit', async (t) => {
  const r = await cli(['--db', await db, 'calls', '--limit', '2', '--wide']);
  t.is(r.code, 0);
  const lines = r.out.split('\n');
  t.regex(lines[1]!, /time\s*│ workload\s*│ service\s*│ operation\s*│ resource\s*│ outcome\s*│ trace id/);
  t.regex(
    lines[3]!,
    /2026-11-22T00:30:00Z │ api\s*│ s3\s*│ GetObject\s*│ arn:aws:s3:::\*\/\*\s*│ denied\s*│ 1-/,
  );
  t.regex(lines[4]!, /2026-11-21T23:30:00Z/);
  t.is(lines.length, 7);
  t.regex(r.err, /showing the newest 2/);
});

test('calls --json: one document, every field', async (t) => {
  const r = await cli(['--db', await db, 'calls', '--json', '--principal', 'worker', '--outcome', 'ok']);
  t.is(r.code, 0);
  const rows = JSON.parse(r.out) as Record<string, unknown>[];
  t.is(rows.length, 1);
  t.deepEqual(Object.keys(rows[0]!), [
    'time',
    'durationMs',
    'workload',
    'workloadKey',
    'workloadKind',
    'service',
    'serviceName',
    'operation',
    'region',
    'account',
    'actions',
    'resources',
    'mapping',
    'outcome',
    'httpStatus',
    'errorType',
    'traceId',
    'via',
  ]);
  t.like(rows[0], { operation: 'BatchGetItem', actions: ['dynamodb:BatchGetItem'] });
});

test('calls --csv joins lists with spaces', async (t) => {
  const r = await cli(['--db', await db, 'calls', '--csv', '--principal', 'worker', '--outcome', 'ok']);
  const [header, row] = r.out.split('\r\n');
  t.is(
    header,
    'time,workload,service,operation,resources,outcome,traceId,actions,region,account,httpStatus,errorType,durationMs,workloadKey,workloadKind,serviceName,mapping,via',
  );
  t.true(
    row!.includes(
      ',arn:aws:dynamodb:us-east-1:222222222222:table/a arn:aws:dynamodb:us-east-1:222222222222:table/b,ok,',
    ),
  );
});

for (const bad of ['0', '-3', 'ten', '1.5']) {
  test(`calls --limit ${bad} is a usage error`, async (t) => {
    const r = await cli(['--db', await db, 'calls', '--limit', bad]);
    t.is(r.code, 2);
    t.regex(r.err, /--limit .* must be a whole number from 1 to 1000000/);
  });
}
