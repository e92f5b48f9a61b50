import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import test from 'ava';
import { StoreError } from '../../src/shared/errors.js';
import { openStore } from '../../src/store/db.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/schema.js';
import { tempDir } from '../support/helpers.js';

test('a new database is created at the current schema version, in WAL mode', (t) => {
  const file = path.join(tempDir(), 'a.db');
  const db = openStore({ path: file });
  t.is(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  t.true((db.pragma('busy_timeout', { simple: true }) as number) > 0);
  db.close();
});

test('an older database is migrated step by step', (t) => {
  const file = path.join(tempDir(), 'old.db');
  const raw = new Database(file);
  raw.exec(MIGRATIONS[0]!.sql);
  raw.pragma('user_version = 1');
  raw.close();
  const db = openStore({ path: file });
  t.is(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db.close();
});

test('a database from a newer xray-lp is refused with a clear message', (t) => {
  const file = path.join(tempDir(), 'new.db');
  const raw = new Database(file);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  const err = t.throws(() => openStore({ path: file }), { instanceOf: StoreError });
  t.regex(err!.message, /newer than this xray-lp understands.*Upgrade xray-lp/);
});

test('a file that is not a database is refused', (t) => {
  const file = path.join(tempDir(), 'x.db');
  fs.writeFileSync(file, 'this is not sqlite, just text that is long enough to have a header'.repeat(10));
  const err = t.throws(() => openStore({ path: file }), { instanceOf: StoreError });
  t.regex(err!.message, /Cannot open database/);
});

test('a missing directory is named', (t) => {
  const err = t.throws(() => openStore({ path: path.join(tempDir(), 'no/such/dir/x.db') }), {
    instanceOf: StoreError,
  });
  t.regex(err!.message, /directory .* does not exist/);
});

test('read-only opening of a missing database says to ingest first', (t) => {
  const err = t.throws(() => openStore({ path: path.join(tempDir(), 'none.db'), readonly: true }), {
    instanceOf: StoreError,
  });
  t.regex(err!.message, /No database at .*xray-lp ingest/);
});
