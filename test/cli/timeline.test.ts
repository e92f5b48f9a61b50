import test from 'ava';
import { bar, renderTimeline } from '../../src/cli/commands/timeline.js';
import { cli } from '../support/helpers.js';
import { fixtureStore } from '../query/fixture.js';

const db = fixtureStore().then(({ store, file }) => {
  store.close();
  return file;
});

test('timeline draws one bar per day, scaled to the busiest', async (t) => {
  const r = await cli(['--db', await db, 'timeline']);
  t.is(r.code, 0);
  t.is(
    r.out,
    [
      'day         calls',
      `2026-11-20      4 ${'█'.repeat(40)} errors 1, throttles 1`,
      `2026-11-21      4 ${'█'.repeat(40)} faults 1`,
      `2026-11-22      1 ${'█'.repeat(10)}${' '.repeat(30)} denied 1`,
      '9 calls in 3 days; the longest bar is 4 calls',
      '',
    ].join('\n'),
  );
});

test('timeline --by hour --json', async (t) => {
  const r = await cli([
    '--db',
    await db,
    'timeline',
    '--by',
    'hour',
    '--json',
    '--principal',
    'api',
    '--until',
    '2026-11-20T12:00',
  ]);
  t.is(r.code, 0);
  t.deepEqual(JSON.parse(r.out), [
    { start: '2026-11-20T10:00:00.000Z', calls: 2, errors: 0, faults: 0, throttles: 1, denied: 0 },
    { start: '2026-11-20T11:00:00.000Z', calls: 0, errors: 0, faults: 0, throttles: 0, denied: 0 },
  ]);
});

test('timeline with a bad --by or nothing to show', async (t) => {
  const bad = await cli(['--db', await db, 'timeline', '--by', 'week']);
  t.is(bad.code, 2);
  t.regex(bad.err, /argument 'week' is invalid. Allowed choices are day, hour/);
  const none = await cli(['--db', await db, 'timeline', '--service', 'kinesis']);
  t.is(none.code, 0);
  t.regex(none.out, /^No calls match \(service kinesis\); the recorded period is/);
});

const bars: [number, number, string][] = [
  [0, 10, ''],
  [10, 10, '█'.repeat(40)],
  [5, 10, '█'.repeat(20)],
  [1, 1000, '▏'],
  [3, 64, '█▉'],
];
for (const [v, max, expected] of bars) {
  test(`bar(${v}, ${max})`, (t) => {
    t.is(bar(v, max), expected);
  });
}

test('renderTimeline neutralises nothing it does not print: labels come from ISO times', (t) => {
  t.regex(
    renderTimeline(
      [{ start: '2026-11-20T05:00:00.000Z', calls: 1, errors: 0, faults: 0, throttles: 0, denied: 0 }],
      'hour',
    ),
    /^hour \(UTC\)\s+calls\n2026-11-20T05:00Z\s+1 █/,
  );
});
