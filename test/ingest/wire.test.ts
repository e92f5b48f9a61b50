import test from 'ava';
import type { CallRow } from '../../src/ingest/extract.js';
import { canonicalParams, signature, targetKey } from '../../src/ingest/wire.js';
import { mulberry32 } from '../support/generator.js';

/** Short strings from an alphabet of the separators targetKey uses, so that collisions would show. */
function randomCall(rnd: () => number): CallRow {
  const alphabet = ['1', ':', '|', '-', '['];
  const s = (): string =>
    Array.from({ length: Math.floor(rnd() * 3) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(
      '',
    );
  const orNull = (): string | null => (rnd() < 0.7 ? null : s());
  const params: Record<string, string | string[]> = {};
  for (const k of ['key', 'bucket_name', 'table_names']) {
    if (rnd() < 0.3) params[k] = rnd() < 0.5 ? s() : Array.from({ length: Math.floor(rnd() * 3) }, s);
  }
  return {
    subId: 'x',
    startTime: 0,
    endTime: null,
    service: rnd() < 0.5 ? 's3' : s(),
    serviceName: rnd() < 0.5 ? 'S3' : s(),
    operation: orNull(),
    region: orNull(),
    account: orNull(),
    httpStatus: null,
    outcome: 'ok',
    errorType: null,
    deniedAction: orNull(),
    deniedResource: orNull(),
    params: rnd() < 0.3 ? null : params,
    via: 'sdk',
  };
}

const sig = (c: CallRow): string => signature(c, c.params ? canonicalParams(c.params) : null);

test('targetKey tells targets apart exactly when their stored signatures differ', (t) => {
  const rnd = mulberry32(11);
  const calls = Array.from({ length: 20_000 }, () => randomCall(rnd));
  const byKey = new Map<string, string>();
  const bySig = new Map<string, string>();
  let equalPairs = 0;
  for (const c of calls) {
    const k = targetKey(c);
    const g = sig(c);
    const seenSig = byKey.get(k);
    if (seenSig !== undefined) {
      t.is(seenSig, g, `key ${JSON.stringify(k)} was given to two different targets`);
      equalPairs++;
    }
    byKey.set(k, g);
    const seenKey = bySig.get(g);
    if (seenKey !== undefined) t.is(seenKey, k, 'one target got two keys');
    bySig.set(g, k);
  }
  t.true(equalPairs > 50, 'the sample has repeated targets too');
});

test('targetKey does not depend on the order parameters were recorded in', (t) => {
  const rnd = mulberry32(5);
  const c = randomCall(rnd);
  c.params = { key: 'k', bucket_name: 'b' };
  const d = { ...c, params: { bucket_name: 'b', key: 'k' } };
  t.is(targetKey(c), targetKey(d));
  t.is(sig(c), sig(d));
});
