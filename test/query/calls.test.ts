/** Individual calls and the explanation of an empty result (src/query/calls.ts). */
import test from 'ava';
import { explainEmpty, listCalls } from '../../src/query/calls.js';
import { openStore } from '../../src/store/db.js';
import { tempDir } from '../support/helpers.js';
import { D22, fixtureStore } from './fixture.js';

const fixture = fixtureStore();

// ---------------------------------------------------------------- calls

test('calls: newest first, limited, with permissions and unattributed calls', async (t) => {
  const { store } = await fixture;
  const rows = listCalls(store, { filter: {}, limit: 4 });
  t.deepEqual(
    rows.map((r) => [r.time, r.workload, r.service, r.operation, r.outcome]),
    [
      ['2026-11-22T00:30:00.000Z', 'api', 's3', 'GetObject', 'denied'],
      ['2026-11-21T23:30:00.000Z', 'api', 's3', 'GetObject', 'ok'],
      ['2026-11-21T12:00:00.000Z', 'api', 'sts', 'GetCallerIdentity', 'ok'],
      ['2026-11-21T02:00:00.000Z', '(unattributed)', 'dynamodb', 'PutItem', 'ok'],
    ],
  );
  t.like(rows[2], { actions: [], resources: [], mapping: 'no-permission' });
  t.like(rows[3], { workloadKey: null, workloadKind: null, httpStatus: 200, via: 'sdk', durationMs: 50 });
  t.is(listCalls(store, { filter: {} }).length, 9);
});

test('calls: a call needing two permissions lists both resources', async (t) => {
  const { store } = await fixture;
  const [c] = listCalls(store, {
    filter: { workloads: ['worker'], services: ['dynamodb'], outcomes: ['ok'] },
  });
  t.deepEqual(c?.actions, ['dynamodb:BatchGetItem']);
  t.deepEqual(c?.resources, [
    'arn:aws:dynamodb:us-east-1:222222222222:table/a',
    'arn:aws:dynamodb:us-east-1:222222222222:table/b',
  ]);
});

// ---------------------------------------------------------------- empty results

test('explainEmpty says why: empty database, range outside the period, or no match', async (t) => {
  const { store } = await fixture;
  const empty = openStore({ path: `${tempDir()}/e.db` });
  t.regex(
    explainEmpty(empty, {}, 'calls'),
    /^No calls: the database holds no calls yet\. Run `xray-lp ingest <dump>` first\.$/,
  );
  empty.close();
  t.is(
    explainEmpty(store, { since: D22 + 86400 }, 'calls'),
    'No calls: the range (since 2026-11-23T00:00:00.000Z) is outside the recorded period 2026-11-20T10:00:00.000Z … 2026-11-22T00:30:00.000Z.',
  );
  t.is(
    explainEmpty(store, { workloads: ['nobody'] }, 'calls'),
    'No calls match (workload nobody); the recorded period is 2026-11-20T10:00:00.000Z … 2026-11-22T00:30:00.000Z.',
  );
});
