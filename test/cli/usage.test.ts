import test from 'ava';
import { csvCell, safeJson, toCsv } from '../../src/cli/output.js';
import { safe, safeText } from '../../src/cli/render.js';
import { cli } from '../support/helpers.js';
import { fixtureStore } from '../query/fixture.js';

const db = fixtureStore().then(({ store, file }) => {
  store.close();
  return file;
});

test('usage --wide prints a table with right-aligned numbers and shortened ARNs', async (t) => {
  const r = await cli(['--db', await db, 'usage', '--principal', 'worker', '--wide']);
  t.is(r.code, 0);
  const lines = r.out.split('\n');
  t.regex(
    lines[1]!,
    /workload\s*│ kind\s*│ action\s*│ resource\s*│ calls │ errors │ faults │ throttles │ denied │ first seen/,
  );
  t.true(
    lines.some((l) =>
      /│ worker\s*│ lambda\s*│ sqs:SendMessage\s*│ arn:aws:sqs:us-east-1:222222222222:jobs\s*│\s+1 │\s+1 │/.test(
        l,
      ),
    ),
  );
  t.true(r.out.includes('2026-11-20T12:00:00Z'));
});

test('usage --json prints one document with the documented fields', async (t) => {
  const r = await cli([
    '--db',
    await db,
    'usage',
    '--json',
    '--group-by',
    'service,outcome',
    '--service',
    's3',
  ]);
  t.is(r.code, 0);
  t.deepEqual(JSON.parse(r.out), [
    {
      service: 's3',
      outcome: 'denied',
      calls: 1,
      errors: 0,
      faults: 0,
      throttles: 0,
      denied: 1,
      firstSeen: '2026-11-22T00:30:00.000Z',
      lastSeen: '2026-11-22T00:30:00.000Z',
    },
    {
      service: 's3',
      outcome: 'ok',
      calls: 1,
      errors: 0,
      faults: 0,
      throttles: 0,
      denied: 0,
      firstSeen: '2026-11-21T23:30:00.000Z',
      lastSeen: '2026-11-21T23:30:00.000Z',
    },
  ]);
});

test('usage --csv prints full ARNs with a header of field names', async (t) => {
  const r = await cli([
    '--db',
    await db,
    'usage',
    '--csv',
    '--group-by',
    'action,resource',
    '--account',
    '222*',
  ]);
  t.is(r.code, 0);
  const lines = r.out.split('\r\n');
  t.is(lines[0], 'action,note,resource,calls,errors,faults,throttles,denied,firstSeen,lastSeen');
  t.true(
    lines.includes(
      'sqs:SendMessage,,arn:aws:sqs:us-east-1:222222222222:jobs,1,1,0,0,0,2026-11-20T12:00:00.000Z,2026-11-20T12:00:00.000Z',
    ),
  );
});

const usageErrors: [string[], RegExp][] = [
  [
    ['--group-by', 'principal,acton'],
    /--group-by "acton" is not a grouping\. Use a comma-separated list of: workload, service, action, resource, operation, region, account, outcome, day, hour\./,
  ],
  [['--since', 'last tuesday'], /--since "last tuesday" is not a time/],
  [['--outcome', 'oops'], /--outcome "oops" is not one of/],
  [['--json', '--csv'], /--json and --csv cannot be used together/],
];
for (const [args, message] of usageErrors) {
  test(`usage ${args.join(' ')} is a usage error (exit 2)`, async (t) => {
    const r = await cli(['--db', await db, 'usage', ...args]);
    t.is(r.code, 2);
    t.regex(r.err, message);
    t.is(r.out, '');
  });
}

test('usage with no match explains in one line and exits 0; JSON stays a document', async (t) => {
  const r = await cli(['--db', await db, 'usage', '--since', '2030-01-01']);
  t.is(r.code, 0);
  t.is(
    r.out,
    'No calls: the range (since 2030-01-01T00:00:00.000Z) is outside the recorded period 2026-11-20T10:00:00.000Z … 2026-11-22T00:30:00.000Z.\n',
  );
  const j = await cli(['--db', await db, 'usage', '--json', '--action', 'nobody:Nothing']);
  t.is(j.code, 0);
  t.is(j.out, '[]\n');
  t.regex(j.err, /^No calls match \(action nobody:Nothing\); the recorded period is /);
});

// CSV cells: RFC 4180 quoting and spreadsheet formula injection.
const cells: [unknown, string][] = [
  ['plain', 'plain'],
  [42, '42'],
  [null, ''],
  ['a,b', '"a,b"'],
  ['say "hi"', '"say ""hi"""'],
  ['=HYPERLINK("x")', '"\'=HYPERLINK(""x"")"'],
  ['+1', "'+1"],
  ['-1+2', "'-1+2"],
  ['@SUM(A1)', "'@SUM(A1)"],
  ['\tx', "'\\x09x"],
  ['\rx', "'\\x0dx"],
  ['line\nbreak', 'line\\x0abreak'],
  ['\u001b[31mred', '\\x1b[31mred'],
  [['a', 'b'], 'a b'],
];
for (const [input, expected] of cells) {
  test(`csv cell ${JSON.stringify(input)}`, (t) => {
    t.is(csvCell(input), expected);
  });
}

test('CSV lines end with CRLF', (t) => {
  t.is(toCsv([{ field: 'a', header: 'A', value: (r: { a: string }) => r.a }], [{ a: 'x' }]), 'a\r\nx\r\n');
});

test('JSON output escapes characters a terminal would act on', (t) => {
  const s = safeJson({ v: 'a\u001b[2Jb\u009b\u202ec' });
  t.is(s, '{\n  "v": "a\\u001b[2Jb\\u009b\\u202ec"\n}');
  t.deepEqual(JSON.parse(s), { v: 'a\u001b[2Jb\u009b\u202ec' });
});

// Invisible characters that change what a reader sees: bidi marks, separators, zero-width ones.
const invisible: [string, string][] = [
  ['\u200e', '\\u200e'], // left-to-right mark
  ['\u200f', '\\u200f'], // right-to-left mark
  ['\u061c', '\\u061c'], // Arabic letter mark
  ['\u2028', '\\u2028'], // line separator
  ['\u2029', '\\u2029'], // paragraph separator
  ['\u200b', '\\u200b'], // zero-width space
  ['\u200c', '\\u200c'], // zero-width non-joiner
  ['\u200d', '\\u200d'], // zero-width joiner
  ['\u2060', '\\u2060'], // word joiner
  ['\ufeff', '\\ufeff'], // zero-width no-break space
];
for (const [ch, escaped] of invisible) {
  test(`terminal output shows ${escaped} as an escape (table, text, JSON, CSV)`, (t) => {
    t.is(safe(`a${ch}b`), `a${escaped}b`);
    t.is(safeText(`x\na${ch}b`), `x\na${escaped}b`);
    t.is(csvCell(`a${ch}b`), `a${escaped}b`);
    const json = safeJson({ v: `a${ch}b` });
    t.is(json, `{\n  "v": "a${escaped}b"\n}`);
    t.deepEqual(JSON.parse(json), { v: `a${ch}b` });
  });
}
