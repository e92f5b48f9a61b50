/**
 * `isoTime`: epoch seconds as ISO 8601 UTC. Stored times are doubles; their float error must not
 * move a time into the previous millisecond (X-Ray's 1790813513.66 is stored as
 * 1790813513.6599996), or the same call printed from the database and read back from Parquet
 * (microseconds) would differ.
 */
import test from 'ava';
import { isoTime, parseIsoDay, parseIsoTime } from '../../src/shared/time.js';
import { micros } from '../../src/export/parquet.js';

const CASES: [number | null | undefined, string | null][] = [
  [0, '1970-01-01T00:00:00.000Z'],
  [1790813513.66, '2026-10-01T00:11:53.660Z'],
  [1790813513.6599996, '2026-10-01T00:11:53.660Z'],
  [1790813513.6594, '2026-10-01T00:11:53.659Z'],
  [1790813513 + 0.9999996, '2026-10-01T00:11:54.000Z'],
  [1790813513.123456, '2026-10-01T00:11:53.123Z'],
  [null, null],
  [undefined, null],
  [Number.NaN, null],
  [Number.POSITIVE_INFINITY, null],
  [1e20, null],
];

for (const [input, want] of CASES)
  test(`isoTime(${String(input)}) = ${String(want)}`, (t) => {
    t.is(isoTime(input), want);
  });

test('a time read back from its Parquet microseconds prints as the stored time does', (t) => {
  for (const stored of [1790813513.6599996, 1790813513.0009999, 1790899199.9999995, 1751328000.7030001])
    t.is(isoTime(Number(micros(stored)) / 1e6), isoTime(stored), String(stored));
});

const PARSE: [string, number | null][] = [
  ['2026-11-20', Date.UTC(2026, 10, 20) / 86_400_000],
  ['2026-02-31', null],
  ['2026-2-3', null],
];
for (const [input, want] of PARSE)
  test(`parseIsoDay(${input}) = ${String(want)}`, (t) => {
    t.is(parseIsoDay(input), want);
  });

const T = Date.UTC(2026, 10, 20, 8, 0, 0) / 1000;
const PARSE_TIME: [string, number | null][] = [
  ['2026-11-20T08:00', T],
  ['2026-11-20 08:00:00Z', T],
  ['2026-11-20T08:00:00.123456Z', parseFloat(`${T}.123456`)],
  ['2026-11-20T09:00:00+01:00', T],
  ['2026-11-20T09:00:00+0100', T],
  ['2026-11-20 09:00:00 +01', T],
  ['2026-11-20T03:30:00-04:30', T],
  ['2026-02-31T08:00:00Z', null],
  ['2026-11-20T24:00:00Z', null],
  ['2026-11-20T08:60Z', null],
  ['2026-11-20', null],
  ['yesterday', null],
];
for (const [input, want] of PARSE_TIME)
  test(`parseIsoTime(${input}) = ${String(want)}`, (t) => {
    t.is(parseIsoTime(input), want);
  });
