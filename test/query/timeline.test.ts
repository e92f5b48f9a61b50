/** Calls per day or hour (src/query/timeline.ts). */
import test from 'ava';
import { UserInputError } from '../../src/shared/errors.js';
import { queryTimeline } from '../../src/query/timeline.js';
import { rebuildRollups } from '../../src/store/rollups.js';
import { D20, D22, fixtureStore, H } from './fixture.js';

const fixture = fixtureStore();

// ---------------------------------------------------------------- timeline

test('timeline by day fills every day of the matching calls', async (t) => {
  const { store } = await fixture;
  t.deepEqual(
    queryTimeline(store, { filter: {} }).map((r) => [
      r.start,
      r.calls,
      r.errors,
      r.faults,
      r.throttles,
      r.denied,
    ]),
    [
      ['2026-11-20T00:00:00.000Z', 4, 1, 0, 1, 0],
      ['2026-11-21T00:00:00.000Z', 4, 0, 1, 0, 0],
      ['2026-11-22T00:00:00.000Z', 1, 0, 0, 0, 1],
    ],
  );
});

test('timeline by hour shows empty hours inside the asked range, clipped to the recorded period', async (t) => {
  const { store } = await fixture;
  const rows = queryTimeline(store, {
    filter: { workloads: ['worker'], since: D20 + 11 * H, until: D20 + 15 * H },
    by: 'hour',
  });
  t.deepEqual(
    rows.map((r) => [r.start.slice(11, 16), r.calls]),
    [
      ['11:00', 0],
      ['12:00', 1],
      ['13:00', 1],
      ['14:00', 0],
    ],
  );
  // A range far wider than the data stops at the first and last recorded call.
  const wide = queryTimeline(store, { filter: { since: D20 - 30 * 86400, until: D22 + 30 * 86400 } });
  t.deepEqual(
    wide.map((r) => r.start.slice(0, 10)),
    ['2026-11-20', '2026-11-21', '2026-11-22'],
  );
});

test('timeline refuses more buckets than a chart can show', async (t) => {
  const { store } = await fixtureStore(); // modified below: not the shared one
  store.prepare('UPDATE calls SET start_time = start_time - 400 * 86400 WHERE outcome = ?').run('fault');
  rebuildRollups(store); // the rollups follow the calls, as ingest keeps them
  t.throws(() => queryTimeline(store, { filter: {}, by: 'hour' }), {
    instanceOf: UserInputError,
    message: /at most 5000\. Narrow --since\/--until or use --by day/,
  });
  t.is(queryTimeline(store, { filter: {}, by: 'day' }).length, 402);
});

test('timeline of nothing is empty', async (t) => {
  const { store } = await fixture;
  t.deepEqual(queryTimeline(store, { filter: { workloads: ['nobody'] } }), []);
});
