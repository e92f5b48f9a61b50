import test from 'ava';
import { closest, didYouMean, editDistance } from '../../src/shared/suggest.js';

const distances: [string, string, number][] = [
  ['', '', 0],
  ['orders-api', 'orders-api', 0],
  ['orders-apii', 'orders-api', 1],
  ['ordres-api', 'orders-api', 2],
  ['kitten', 'sitting', 3],
  ['', 'abc', 3],
];
for (const [a, b, d] of distances)
  test(`editDistance(${JSON.stringify(a)}, ${JSON.stringify(b)}) is ${d}`, (t) => {
    t.is(editDistance(a, b), d);
    t.is(editDistance(b, a), d);
  });

const known = [
  'orders-api',
  'thumbnailer',
  'report-builder',
  'arn:aws:lambda:eu-west-1:123456789012:function:orders-api',
];
const suggestions: [string, string[]][] = [
  ['orders-apii', ['orders-api']],
  ['Thumbnailer', ['thumbnailer']],
  ['thumb*', ['thumbnailer']],
  ['report', ['report-builder']],
  ['zzz', []],
];
for (const [word, expected] of suggestions)
  test(`closest(${JSON.stringify(word)}) suggests ${JSON.stringify(expected)}`, (t) => {
    t.deepEqual(closest(word, known), expected);
  });

test('didYouMean quotes the suggestions, or says nothing when none is close', (t) => {
  t.is(didYouMean('thumbnailr', known), ' (did you mean "thumbnailer"?)');
  t.is(didYouMean('zzz', known), '');
});
