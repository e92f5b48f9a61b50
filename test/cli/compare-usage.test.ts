/**
 * `compare --usage`: the samples ingested, exported with `export`, then compared from the
 * exported `usage` rows must print what `compare` prints from the database, byte for byte, in
 * every output and exit code; rows with only the required columns say less, as documented.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { CompareResult } from '../../src/compare/compare.js';
import { readUsageFiles } from '../../src/store/usage-rows/files.js';
import type { SpillRow } from '../../src/store/usage-rows/spill.js';
import { cli, repoRoot, tempDir, writeFile } from '../support/helpers.js';

const g = (f: string): string => path.join(repoRoot, 'samples/granted', f);
const ACCOUNTS = [
  g('account-123456789012.json'),
  g('account-210987654321.json'),
  g('functions-eu-west-1.json'),
  g('functions-us-east-1.json'),
];

let db: string;
let usage: string;
let dir: string;
test.before(async () => {
  dir = tempDir();
  db = path.join(dir, 'c.db');
  const ingested = await cli(['--db', db, 'ingest', path.join(repoRoot, 'samples/traces')]);
  if (ingested.code !== 0) throw new Error(ingested.err);
  const exported = await cli(['--db', db, 'export', '--out', path.join(dir, 'export')]);
  if (exported.code !== 0) throw new Error(exported.err);
  usage = path.join(dir, 'export/usage');
});

// Granted against used: rows do not say how the data was recorded, so their run-time needs are
// those of the kind alone (test/compare/usage-rows.test.ts), where the database's also follow
// the trace format.
const fromDb = (args: string[]): ReturnType<typeof cli> =>
  cli(['--db', db, 'compare', '--runtime', 'none', ...args]);
/** No `--db`, and one that does not exist: the rows must be all that is read. */
const fromRows = (args: string[], paths = [usage]): ReturnType<typeof cli> =>
  cli(['--db', path.join(dir, 'none.db'), 'compare', '--runtime', 'none', '--usage', ...paths, ...args]);

/** Each case runs as table, --json and --markdown; `expect` checks the database's run is not vacuous. */
const cases: {
  name: string;
  args: string[];
  code: number;
  expect: (j: CompareResult) => boolean;
}[] = [
  {
    name: 'authorization details + functions, --allow-unused',
    args: ['--granted', ...ACCOUNTS, '--allow-unused', 'logs:*', '--allow-unused', 'xray:*'],
    code: 0,
    // Functions matched through the functions files, by ARN; two workloads left unmatched.
    expect: (j) =>
      j.workloads.some((w) => w.role.matchedBy === 'functions') && j.unmatchedWorkloads.length === 2,
  },
  {
    name: 'over-broad policy, --check fails',
    args: ['--granted', g('over-broad-policy.json'), '--principal', 'orders-api', '--check'],
    code: 4,
    // Denied calls and a resource the trace did not record are carried by the rows.
    expect: (j) =>
      j.workloads.length === 1 &&
      (j.workloads[0]?.deniedAtRuntime.length ?? 0) > 0 &&
      (j.workloads[0]?.unverifiable.length ?? 0) > 0,
  },
  {
    name: '--allow-unused for everything granted passes --check',
    args: [
      '--granted',
      g('over-broad-policy.json'),
      '--principal',
      'orders-api',
      '--allow-unused',
      '*',
      '--check',
    ],
    code: 0,
    expect: (j) => j.passed && (j.workloads[0]?.unused[0]?.allowedUnused.length ?? 0) > 0,
  },
  {
    name: '--role with the workload filters',
    args: [
      '--granted',
      g('account-123456789012.json'),
      '--principal',
      'billing-worker',
      '--role',
      'billing-worker-task-role',
      '--check',
    ],
    code: 4,
    expect: (j) =>
      j.workloads.map((w) => `${w.name} ${w.role.name} ${w.role.matchedBy}`).join() ===
      'billing-worker billing-worker-task-role role-option',
  },
  {
    name: '--exclude-workload, every workload as the policy files',
    args: ['--granted', g('over-broad-policy.json'), '--exclude-workload', 'orders-api'],
    code: 0,
    // Unmapped calls are noted from the rows as from the database.
    expect: (j) =>
      j.workloads.length > 1 &&
      !j.workloads.some((w) => w.name === 'orders-api') &&
      j.workloads.some((w) => w.notes.some((n) => n.includes('could not be mapped'))),
  },
  {
    name: 'nothing selected: --check fails',
    args: ['--granted', g('over-broad-policy.json'), '--service', 'nosuchservice', '--check'],
    code: 4,
    expect: () => true,
  },
];

for (const c of cases) {
  test(`same as the database: ${c.name} (--json)`, async (t) => {
    const [a, b] = await Promise.all([fromDb(['--json', ...c.args]), fromRows(['--json', ...c.args])]);
    t.is(a.code, c.code, a.err);
    if (c.name.startsWith('nothing')) {
      // stdout stays a document; why it is empty goes to stderr.
      t.regex(a.err, /No calls match/);
      t.is(b.err, 'No usage row with a principal and a permission matches.\n');
      t.is(b.out, a.out);
      t.like(JSON.parse(a.out), { workloads: [] });
    } else {
      t.true(c.expect(JSON.parse(a.out) as CompareResult), 'the database run shows what the case is about');
      t.is(b.out, a.out);
      t.is(b.err, a.err);
    }
    t.is(b.code, a.code, b.err);
  });
  if (c.name.startsWith('nothing')) continue;
  for (const format of ['table', '--markdown'])
    test(`same as the database: ${c.name} (${format})`, async (t) => {
      const args = format === 'table' ? ['--wide', ...c.args] : [format, ...c.args];
      const [a, b] = await Promise.all([fromDb(args), fromRows(args)]);
      t.is(a.code, c.code, a.err);
      t.regex(a.out, format === 'table' ? /workload.*check/ : /^# Granted vs used permissions\n/);
      t.is(b.out, a.out);
      t.is(b.code, a.code);
      t.is(b.err, a.err);
    });
}

test('a single usage file and folders of several days read alike', async (t) => {
  const days = fs.readdirSync(usage).filter((d) => d.startsWith('day='));
  t.true(days.length > 1);
  const args = ['--json', '--granted', ...ACCOUNTS];
  const [a, b] = await Promise.all([
    fromDb(args),
    fromRows(
      args,
      days.map((d) => path.join(usage, d)),
    ),
  ]);
  t.is(b.code, 0, b.err);
  t.is(b.out, a.out);
});

/** The exported rows reduced to the given columns, as JSON lines. */
async function reduced(columns: (keyof SpillRow)[], name: string): Promise<string> {
  const rows: SpillRow[] = [];
  await readUsageFiles([usage], (r) => rows.push(r));
  const column: Partial<Record<keyof SpillRow, string>> = { resourceUnknown: 'resource_unknown' };
  const text = rows
    .map((r) => JSON.stringify(Object.fromEntries(columns.map((c) => [column[c] ?? c, r[c]]))))
    .join('\n');
  return writeFile(tempDir(), name, `${text}\n`);
}

test('rows with the required columns only: what they cannot carry is derived or left out', async (t) => {
  const file = await reduced(['principal', 'action', 'resource', 'calls'], 'min.jsonl');
  const args = ['--json', '--granted', g('over-broad-policy.json')];
  const [a, b] = await Promise.all([fromDb(args), fromRows(args, [file])]);
  t.is(b.code, 0, b.err);
  const want = JSON.parse(a.out) as CompareResult;
  const got = JSON.parse(b.out) as CompareResult;
  t.deepEqual(
    got.workloads.map((w) => w.principal),
    want.workloads.map((w) => w.principal),
  );
  // The database's run has what the rows lose.
  t.true(want.workloads.some((w) => w.deniedAtRuntime.length > 0));
  t.true(want.workloads.some((w) => w.notes.some((n) => n.includes('could not be mapped'))));
  t.true(want.workloads.some((w) => w.account !== null));
  for (const [i, w] of got.workloads.entries()) {
    const d = want.workloads[i] as CompareResult['workloads'][number];
    // Kept: who it is (derived from the principal), and every count of calls and actions.
    t.is(w.kind, d.kind);
    t.is(w.name, d.name);
    t.deepEqual(w.granted, d.granted);
    t.deepEqual(w.used, d.used);
    t.deepEqual(w.unused, d.unused);
    t.deepEqual(w.unverifiable, d.unverifiable);
    t.deepEqual(
      w.missing,
      d.missing.map((m) => ({ ...m, denied: 0 })),
    );
    // Lost: the account, denials, unmapped calls.
    t.is(w.account, null);
    t.deepEqual(w.deniedAtRuntime, []);
    t.false(w.notes.some((n) => n.includes('could not be mapped') || n.includes('denied')));
  }
});

test('rows with kind, name, account, denied and mapping: the same as the database', async (t) => {
  const file = await reduced(
    [
      'principal',
      'kind',
      'name',
      'account',
      'action',
      'resource',
      'resourceUnknown',
      'denied',
      'mapping',
      'calls',
    ],
    'more.jsonl',
  );
  const args = ['--json', '--granted', ...ACCOUNTS];
  const [a, b] = await Promise.all([fromDb(args), fromRows(args, [file])]);
  t.is(b.code, 0, b.err);
  t.is(b.out, a.out);
});

/**
 * Bad usage files. `withExport`: read after the good export (a bad file anywhere stops everything
 * before a result); otherwise alone, since the export's columns differ (a mixed-schema error).
 */
const errors: { name: string; file: (d: string) => string; message: RegExp; withExport: boolean }[] = [
  {
    name: 'a required column missing',
    file: (d) => writeFile(d, 'usage.csv', 'principal,action,resource\nf,s3:GetObject,arn:aws:s3:::b/k\n'),
    message: /usage\.csv: missing the required column calls/,
    withExport: true,
  },
  {
    name: 'a truncated Parquet file',
    file: (d) => {
      const day = fs.readdirSync(usage).find((x) => x.startsWith('day=')) as string;
      const whole = fs.readFileSync(path.join(usage, day, 'part-00000.parquet'));
      return writeFile(d, 'cut.parquet', whole.subarray(0, Math.floor(whole.length / 2)));
    },
    message: /cut\.parquet/,
    withExport: true,
  },
  {
    name: 'a line that is not JSON',
    file: (d) =>
      writeFile(
        d,
        'rows.jsonl',
        '{"principal":"f","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","calls":1}\n{"principal":\n',
      ),
    message: /rows\.jsonl:2: not JSON/,
    withExport: false,
  },
  {
    name: 'a bad value',
    file: (d) =>
      writeFile(d, 'usage.csv', 'principal,action,resource,calls\nf,s3:GetObject,arn:aws:s3:::b/k,many\n'),
    message: /usage\.csv:2: calls is "many"/,
    withExport: false,
  },
];
for (const e of errors)
  test(`exit 2, nothing printed: ${e.name}`, async (t) => {
    const bad = e.file(tempDir());
    const r = await fromRows(
      ['--granted', g('over-broad-policy.json'), '--check'],
      e.withExport ? [usage, bad] : [bad],
    );
    t.is(r.code, 2);
    t.regex(r.err, e.message);
    t.is(r.out, '');
  });

const refused: { name: string; args: string[]; message: RegExp }[] = [
  { name: '--since', args: ['--since', '2026-11-01'], message: /--since cannot be applied to usage rows/ },
  {
    name: '--outcome and --region',
    args: ['--outcome', 'denied', '--region', 'eu-west-1'],
    message: /--region, --outcome cannot be applied to usage rows/,
  },
  { name: '--account', args: ['--account', '123456789012'], message: /--account cannot be applied/ },
  { name: 'a missing path', args: [], message: /--usage \/nonexistent\/usage: / },
];
for (const e of refused)
  test(`exit 2: ${e.name} with --usage`, async (t) => {
    const r = await fromRows(
      ['--granted', g('over-broad-policy.json'), ...e.args],
      e.name === 'a missing path' ? ['/nonexistent/usage'] : [usage],
    );
    t.is(r.code, 2);
    t.regex(r.err, e.message);
    t.is(r.out, '');
  });

test('--help says what differs with --usage', async (t) => {
  const r = await cli(['compare', '--help']);
  t.regex(r.out, /--usage <paths\.\.\.>/);
  t.regex(r.out, /without account, it is null; without denied, no call counts as denied/);
});
