/**
 * The read worker (src/store/read-thread/): rows as a statement on the caller's connection reads
 * them, exactly (doubles, text, nulls), in order, batch after batch; a read stopped early frees
 * everything; a failing statement is a StoreError; and it is used only where it can see the data.
 */
import test from 'ava';
import { readOnThread, readRowsOnThread } from '../../src/store/read-thread/index.js';
import { StoreError } from '../../src/shared/errors.js';
import { openStore } from '../../src/store/db.js';
import { tempStore } from '../support/helpers.js';

/** A table of awkward values: doubles that need 17 digits, text with quotes and control characters, nulls. */
function fill(rows: number): ReturnType<typeof tempStore> {
  const t = tempStore();
  t.store.exec('CREATE TABLE v (i INTEGER PRIMARY KEY, d REAL, s TEXT, n TEXT)');
  const insert = t.store.prepare('INSERT INTO v VALUES (?, ?, ?, ?)');
  t.store.transaction(() => {
    for (let i = 0; i < rows; i++)
      insert.run(
        i,
        1_790_000_000 + i / 3 + 1e-7 * i,
        `k"${i}\\\n\u0001\u00e9\u{1f600}`,
        i % 7 === 0 ? null : `x${i}`,
      );
  })();
  return t;
}

test('rows read on a worker equal the rows read here, in order, across batches', (t) => {
  const { store } = fill(5000);
  const here = store.prepare('SELECT json_array(i, d, s, n) FROM v WHERE i >= ? ORDER BY i DESC').raw(true);
  const expected = store.prepare('SELECT i, d, s, n FROM v WHERE i >= ? ORDER BY i DESC').raw(true).all(10);
  t.is(here.all(10).length, expected.length);
  const got = [
    ...readRowsOnThread(store, {
      sql: 'SELECT json_array(i, d, s, n) FROM v WHERE i >= ? ORDER BY i DESC',
      params: [10],
    }),
  ];
  t.deepEqual(got, expected);
  store.close();
});

test('a statement run once per value, with a temporary table filled first', (t) => {
  const { store } = fill(300);
  const got = [
    ...readRowsOnThread(store, {
      sql: 'SELECT json_array(v.i, g.grp) FROM temp.groups g JOIN v ON v.i = g.i WHERE g.grp = ? ORDER BY v.i',
      params: [],
      each: [2, 0],
      setup: [
        {
          create: 'CREATE TEMP TABLE groups (i INTEGER PRIMARY KEY, grp INTEGER NOT NULL)',
          insert: 'INSERT INTO temp.groups VALUES (?, ?)',
          rows: Array.from({ length: 300 }, (_x, i) => [i, i % 3]),
        },
      ],
    }),
  ];
  const want = [
    ...Array.from({ length: 100 }, (_x, k) => [3 * k + 2, 2]),
    ...Array.from({ length: 100 }, (_x, k) => [3 * k, 0]),
  ];
  t.deepEqual(got, want);
  store.close();
});

test('a read stopped early cancels its worker and leaves the connection free', (t) => {
  const { store } = fill(20_000);
  let n = 0;
  for (const _row of readRowsOnThread(store, { sql: 'SELECT json_array(i) FROM v ORDER BY i', params: [] })) {
    if (++n === 3) break;
  }
  t.is(n, 3);
  // The caller's connection runs statements again at once, and the file can be written.
  store.exec("INSERT INTO v (i, d, s, n) VALUES (-1, 0, '', NULL)");
  t.is(store.prepare('SELECT count(*) FROM v').pluck().get(), 20_001);
  store.close();
});

test('a statement the worker cannot run is a StoreError naming the file', (t) => {
  const { store, file } = fill(1);
  const err = t.throws(
    () => [...readRowsOnThread(store, { sql: 'SELECT json_array(nope) FROM v', params: [] })],
    {
      instanceOf: StoreError,
    },
  );
  t.true(err?.message.includes(file));
  t.regex(err?.message ?? '', /no such column: nope/);
  store.close();
});

test('a read runs on a worker only where a second connection sees the same data', (t) => {
  const { store } = fill(1);
  t.false(readOnThread(store), 'auto: a small database reads here');
  t.true(readOnThread(store, 'always'));
  t.false(readOnThread(store, 'never'));
  // An open transaction's writes are invisible to another connection.
  store.transaction(() => t.false(readOnThread(store, 'always')))();
  const memory = openStore({ path: ':memory:' });
  t.false(readOnThread(memory, 'always'));
  memory.close();
  store.close();
});

test('values dealt to two workers in chunks come back in the order given, batch boundaries included', (t) => {
  const { store } = fill(6000);
  // 41 values (six chunks, the last short), in an order of their own; value k selects the rows
  // i % 41 = k, about 146 each, so that chunks span batches of 2048 rows and end inside them.
  const values = Array.from({ length: 41 }, (_x, k) => (k * 17) % 41);
  const got = [
    ...readRowsOnThread(store, {
      sql: 'SELECT json_array(i, d) FROM v WHERE i % 41 = ? ORDER BY i',
      params: [],
      each: values,
    }),
  ];
  const all = store.prepare('SELECT i, d FROM v ORDER BY i').raw(true).all() as [number, number][];
  t.deepEqual(
    got,
    values.flatMap((k) => all.filter(([i]) => i % 41 === k)),
  );
  store.close();
});
