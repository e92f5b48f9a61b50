/** `xray-lp self-test` in the repository: versions, one line per check, PASS, exit 0; `--json`. */
import test from 'ava';
import { VERSION } from '../../src/cli/program.js';
import { cli, tempDir } from '../support/helpers.js';

test('self-test passes in the repository: versions, each check, PASS on stdout, nothing on stderr', async (t) => {
  const r = await cli(['self-test'], { cwd: tempDir() });
  t.is(r.code, 0, r.err);
  t.is(r.err, '');
  const lines = r.out.split('\n');
  t.is(lines[0], 'xray-lp self-test');
  t.regex(r.out, new RegExp(`\\n  xray-lp +${VERSION.replace(/\./g, '\\.')}\\n`));
  t.regex(r.out, /\n {2}database schema +\d+\n/);
  t.regex(r.out, /\n {2}IAM catalogue +@cloud-copilot\/iam-data \d+\.\d+\.\d+/);
  t.regex(r.out, /\n {2}Node\.js +v\d+\.\d+\.\d+ \(NODE_MODULE_VERSION \d+\), \w+-\w+\n/);
  t.regex(r.out, /\nPASS {4}native-module: better-sqlite3 \S+ loads \(SQLite 3\.\d+\.\d+\)\n/);
  t.regex(r.out, /\nPASS {4}ingest: 5 sample inputs ingested, \d+ calls, into a temporary database\n/);
  t.regex(r.out, /\nPASS {4}policies: \d+ policies, identical to .*samples\/expected\/policies\.json\n/);
  t.true(r.out.endsWith('\nPASS\n'));
  t.notRegex(r.out, /release built for/, 'a checkout has no BUILD.json');
});

test('self-test --json prints the result as one JSON object', async (t) => {
  const r = await cli(['self-test', '--json'], { cwd: tempDir() });
  t.is(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { passed: boolean; version: string; build: unknown; checks: unknown[] };
  t.true(j.passed);
  t.is(j.version, VERSION);
  t.is(j.build, null);
  t.is(j.checks.length, 3);
});
