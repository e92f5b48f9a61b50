/**
 * Each command says what an interrupt did to its own work (src/cli/interrupt.ts): the message a
 * command declares when it starts, read back once it has run (in-process; the signals themselves
 * are test/hostile/interrupt.test.ts's subject).
 */
import path from 'node:path';
import test from 'ava';
import { currentInterruption } from '../../src/cli/interrupt.js';
import { cli, repoRoot, tempDir } from '../support/helpers.js';

const samples = path.join(repoRoot, 'samples/traces');

const CASES: { argv: (db: string) => string[]; said: RegExp }[] = [
  {
    argv: (db) => ['--db', db, 'ingest', '-q', samples],
    said: /the inputs not yet committed were rolled back/,
  },
  { argv: (db) => ['--db', db, 'migrate', '-q'], said: /^migrate interrupted: .*last step completed/ },
  { argv: () => ['self-test', '--json'], said: /^self-test interrupted: .*nothing of yours was written/ },
  { argv: (db) => ['--db', db, 'stats'], said: /^interrupted; nothing was written\.$/ },
];

for (const c of CASES) {
  test.serial(`${c.argv('db').join(' ')}: says what an interrupt did to its own work`, async (t) => {
    const db = path.join(tempDir(), 'x.db');
    await cli(['--db', db, 'ingest', '-q', samples]);
    await cli(c.argv(db));
    t.regex(currentInterruption().message, c.said);
  });
}
