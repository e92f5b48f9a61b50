/**
 * Tables fit the terminal: the width comes from the injected io (COLUMNS, else the terminal,
 * else 100), long values are shortened first, then the least important columns are hidden in
 * the documented order, the columns that name a row never are, and `--wide` prints everything.
 * JSON and CSV never change with the width.
 */
import path from 'node:path';
import test from 'ava';
import { CALL_COLUMNS, CALL_FIT } from '../../src/cli/commands/calls.js';
import { USAGE_FIT, usageColumns } from '../../src/cli/commands/usage.js';
import { WORKLOAD_COLUMNS, WORKLOAD_FIT, renderWorkloads } from '../../src/cli/views/workloads.js';
import { terminalWidth, type CliIO } from '../../src/cli/io.js';
import { renderTable, withFit, type FitOrder, type OutputColumn } from '../../src/cli/output.js';
import { runCli } from '../../src/cli/program.js';
import { cellWidth, shorten, table, wrap } from '../../src/cli/render.js';
import { USAGE_GROUPS, type UsageRow } from '../../src/query/usage.js';
import type { WorkloadRow } from '../../src/query/workloads.js';
import { fixtureStore } from '../query/fixture.js';
import { cli, repoRoot, tempDir } from '../support/helpers.js';

/** Runs the CLI in-process with a terminal of `outColumns` cells (or none) and `env`. */
async function run(
  argv: string[],
  opts: { outColumns?: number; env?: Record<string, string> } = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    out: (s) => (out += s),
    err: (s) => (err += s),
    errIsTTY: false,
    outColumns: opts.outColumns,
    stdin: process.stdin,
    env: { ...(opts.env ?? {}) },
    cwd: process.cwd(),
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

/** The lines of the tables in `text` (those drawn with box characters). */
const tableLines = (text: string): string[] => text.split('\n').filter((l) => /^[┌│├└]/.test(l));

/** The headers of the first table in `text`. */
function headers(text: string): string[] {
  const head = tableLines(text)[1] ?? '';
  return head
    .split('│')
    .slice(1, -1)
    .map((h) => h.trim());
}

/** The column headers the note under a table names as hidden, in its order. */
function hiddenInNote(text: string): string[] {
  const m = /\(\d+ columns? hidden to fit \d+ characters: ([^;]*); --wide shows (?:it|them)\)/.exec(
    text.replace(/\n(?![┌│├└(])/g, ' '),
  );
  return m ? (m[1] as string).split(', ') : [];
}

const widest = (lines: string[]): number => Math.max(0, ...lines.map(cellWidth));

// ---- measuring and shortening ----

const widths: [string, number][] = [
  ['', 0],
  ['abc', 3],
  ['│ a │', 5],
  ['…', 1],
  ['日本語', 6],
  ['ＡＢ', 4], // fullwidth Latin
  ['ｱｲ', 2], // halfwidth katakana
  ['e\u0301', 1], // a combining accent takes no cell
  ['a\u200bb', 2], // nor does a zero-width space
  ['😀', 2],
  ['\\x1b[2J', 7], // an escape made visible by safe() is printed as text
];
for (const [s, n] of widths) {
  test(`cellWidth ${JSON.stringify(s)} is ${n}`, (t) => {
    t.is(cellWidth(s), n);
  });
}

/** shorten() as it was before it measured cells: the same for printable ASCII. */
function asciiShorten(s: string, max: number): string {
  if (s.length <= max) return s;
  const head = Math.ceil((max - 1) * 0.45);
  return `${s.slice(0, head)}…${s.slice(s.length - (max - 1 - head))}`;
}

test('shorten keeps start and end; for ASCII exactly as before; again shortened, the same as once', (t) => {
  const s = 'arn:aws:states:eu-west-1:123456789012:stateMachine:order-pipeline';
  for (let m1 = 1; m1 <= s.length + 1; m1++) {
    t.is(shorten(s, m1), asciiShorten(s, m1), `max ${m1}`);
    t.true(cellWidth(shorten(s, m1)) <= m1);
    for (let m2 = 1; m2 <= m1; m2++) t.is(shorten(shorten(s, m1), m2), shorten(s, m2), `${m1} then ${m2}`);
  }
  t.is(shorten('abcdefghij', 5), 'ab…ij');
});

const wideText: [string, string, number][] = [
  ['CJK', '日本語のテキストを短くします', 9],
  ['emoji', '😀😁😂🤣😃😄😅😆😉😊', 7],
  ['combining', 'e\u0301'.repeat(30), 10],
];
for (const [name, s, max] of wideText) {
  test(`shorten ${name}: at most ${max} cells, no split surrogate pair`, (t) => {
    const out = shorten(s, max);
    t.true(cellWidth(out) <= max, out);
    t.true(out.includes('…'));
    t.false(/\p{Surrogate}/u.test(out), out);
    t.is(Array.from(out)[0], Array.from(s)[0]);
  });
}

test('wrap breaks a note at spaces to the width', (t) => {
  t.is(wrap('aa bb cc dd', 5), 'aa bb\ncc dd');
  t.is(wrap('aa bb cc dd', 100), 'aa bb cc dd');
  t.is(wrap('a verylongword b', 4), 'a\nverylongword\nb');
});

// ---- the fitting order of each table ----

const workload = (over: Partial<WorkloadRow> = {}): WorkloadRow => ({
  id: 1,
  key: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api',
  kind: 'lambda',
  name: 'orders-api',
  arn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api',
  account: '123456789012',
  region: 'eu-west-1',
  attrs: {},
  formats: ['x-ray', 'opentelemetry'],
  traces: 39,
  activeDays: 14,
  calls: 79,
  distinctActions: 8,
  denied: 2,
  errors: 0,
  faults: 0,
  throttles: 0,
  firstSeen: '2026-11-16T08:00:00.000Z',
  lastSeen: '2026-11-29T13:36:32.000Z',
  ...over,
});

const ALL = [
  'kind',
  'name',
  'ARN / id',
  'account',
  'region',
  'traced by',
  'traces',
  'days',
  'calls',
  'actions',
  'denied',
  'first seen',
  'last seen',
];
const without = (...h: string[]): string[] => ALL.filter((x) => !h.includes(x));

// The workloads table of one row is 212 cells wide: the ARN (57 cells) gives up to 25 cells,
// then columns go: account, region, first seen, days, traces, traced by, last seen, ARN / id,
// kind, actions, until the rest fits, and the ARN takes back what it can; a column hidden on the
// way comes back when it fits beside the others at full width (days and last seen at 80). The
// name, calls and denied stay, even when nothing else fits.
const workloadCases: [width: number, shown: string[], arnCells: number][] = [
  [212, ALL, 57],
  [210, ALL, 55],
  [189, ALL, 34],
  [170, without('account', 'region'), 42],
  [160, without('account', 'region'), 32],
  [130, without('account', 'region', 'first seen', 'days'), 32],
  [120, without('account', 'region', 'first seen', 'days', 'traces', 'traced by'), 44],
  [100, without('account', 'region', 'first seen', 'days', 'traces', 'traced by', 'last seen'), 47],
  [80, ['kind', 'name', 'days', 'calls', 'actions', 'denied', 'last seen'], 0],
  [50, ['kind', 'name', 'calls', 'actions', 'denied'], 0],
  [49, ['name', 'days', 'calls', 'actions', 'denied'], 0],
  [30, ['name', 'calls', 'denied'], 0],
  [20, ['name', 'calls', 'denied'], 0],
  [10, ['name', 'calls', 'denied'], 0],
];
for (const [width, shown, arnCells] of workloadCases) {
  test(`workloads at ${width} cells: ${shown.join(', ')}`, (t) => {
    const out = renderWorkloads([workload()], width);
    t.deepEqual(headers(out), shown);
    const hidden = ALL.filter((h) => !shown.includes(h));
    t.deepEqual([...hiddenInNote(out)].sort(), [...hidden].sort());
    if (arnCells > 0) {
      const cell = (tableLines(out)[3] ?? '').split('│')[3]?.trim() ?? '';
      t.is(cellWidth(cell), arnCells, cell);
      t.is(cell.includes('…'), arnCells < 57);
    }
    // Name, calls and denied alone take 31 cells: from there on, every line fits, the note too.
    if (width >= 31) t.true(widest(out.split('\n')) <= width);
    else t.true(widest(tableLines(out)) === 31);
  });
}

test('a note names the hidden columns in the order they went, singular for one', (t) => {
  t.deepEqual(hiddenInNote(renderWorkloads([workload()], 160)), ['account', 'region']);
  t.regex(
    renderWorkloads([workload()], 186),
    /\n\(1 column hidden to fit 186 characters: account; --wide shows it\)\n$/,
  );
  t.notRegex(renderWorkloads([workload()], 187), /hidden/);
  t.notRegex(renderWorkloads([workload()]), /hidden|…/);
});

test('the note wraps to the width', (t) => {
  const out = renderWorkloads([workload()], 60);
  const note = out.slice(out.indexOf('\n(') + 1).trimEnd();
  t.true(note.split('\n').length > 1);
  t.true(widest(note.split('\n')) <= 60);
});

/** Each table, the columns it prints, rows, its fitting order and the columns that name a row. */
interface Case<R> {
  name: string;
  columns: OutputColumn<R>[];
  rows: R[];
  fit: FitOrder;
  keep: string[];
  /** Every column the command can print (the fitting order names only these). */
  all: { field: string }[];
}

const usageRow = (over: Partial<UsageRow>): UsageRow => ({
  workload: 'billing-worker-with-a-long-family-name',
  workloadKind: 'ecs',
  action: 'secretsmanager:GetSecretValue',
  resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:billing/stripe-api-key-AbCdEf',
  calls: 1234,
  errors: 1,
  faults: 0,
  throttles: 2,
  denied: 3,
  firstSeen: '2026-11-16T08:00:00.000Z',
  lastSeen: '2026-11-29T13:36:32.000Z',
  ...over,
});

const callTable = CALL_COLUMNS.filter((c) =>
  ['time', 'workload', 'service', 'operation', 'resources', 'outcome', 'traceId'].includes(c.field),
);

const cases: Case<never>[] = [
  {
    name: 'workloads',
    columns: WORKLOAD_COLUMNS,
    rows: [
      workload(),
      workload({ kind: 'stepfunctions', name: 'x'.repeat(45), arn: `arn:aws:states:${'y'.repeat(90)}` }),
    ],
    fit: WORKLOAD_FIT,
    keep: ['name', 'calls', 'denied'],
    all: WORKLOAD_COLUMNS,
  },
  {
    name: 'usage',
    columns: usageColumns(['workload', 'action', 'resource']),
    rows: [usageRow({}), usageRow({ workload: 'api', action: 's3:GetObject', resource: null })],
    fit: USAGE_FIT,
    keep: ['workload', 'action', 'resource'],
    all: usageColumns(USAGE_GROUPS),
  },
  {
    name: 'usage by service and day',
    columns: usageColumns(['service', 'day']),
    rows: [usageRow({ service: 'dynamodb', day: '2026-11-20' })],
    fit: USAGE_FIT,
    keep: ['service', 'day'],
    all: usageColumns(USAGE_GROUPS),
  },
  {
    name: 'calls',
    columns: callTable,
    rows: [
      {
        time: '2026-11-29T13:36:32.564Z',
        workload: 'orders-api',
        service: 'dynamodb',
        operation: 'BatchGetItem',
        resources: [
          'arn:aws:dynamodb:eu-west-1:123456789012:table/orders',
          'arn:aws:dynamodb:eu-west-1:123456789012:table/customers',
        ],
        outcome: 'ok',
        traceId: '1-6b0c2a60-e09f879a0c90671560a0a6c8',
      },
    ],
    fit: CALL_FIT,
    keep: ['time', 'workload', 'operation'],
    all: CALL_COLUMNS,
  },
] as unknown as Case<never>[];

for (const c of cases) {
  test(`${c.name}: the fitting order names only its columns`, (t) => {
    const fields = c.all.map((x) => x.field);
    for (const f of [...c.fit.hide, ...Object.keys(c.fit.shorten ?? {})]) t.true(fields.includes(f), f);
    for (const k of c.keep) t.false(c.fit.hide.includes(k), k);
  });

  test(`${c.name}: from 10 to 260 cells, columns go in the documented order, those naming a row never, and every line fits when it can`, (t) => {
    const header = (field: string): string => c.columns.find((x) => x.field === field)?.header ?? field;
    const order = c.fit.hide.filter((f) => c.columns.some((x) => x.field === f)).map(header);
    const keep = c.keep.map(header);
    // Each column's width in the whole table (from its top border), and the fewest cells it keeps.
    const whole = renderTable(c.columns, c.rows);
    const natural = (whole.split('\n')[0] ?? '')
      .slice(1, -1)
      .split('┬')
      .map((seg) => seg.length - 2);
    const floor = new Map(
      c.columns.map((col, i) => {
        const n = natural[i] ?? 0;
        const min = col.minWidth === undefined ? n : Math.max(col.minWidth, cellWidth(col.header));
        return [col.header, Math.min(n, min)];
      }),
    );
    const atFloor = (hs: string[]): number => hs.reduce((n, h) => n + (floor.get(h) ?? 0) + 3, 1);
    // The narrowest the table can be: every column it may hide hidden, the others shortest.
    const least = widest(tableLines(renderTable(c.columns, c.rows, 0)));
    t.deepEqual(
      headers(renderTable(c.columns, c.rows, 0)),
      c.columns.map((x) => x.header).filter((h) => !order.includes(h)),
    );
    t.true(widest(tableLines(whole)) > 100, 'the whole table is wide');
    for (let width = 10; width <= 260; width++) {
      const out = renderTable(c.columns, c.rows, width);
      const shown = headers(out);
      const hidden = hiddenInNote(out);
      t.deepEqual(
        hidden,
        order.filter((h) => hidden.includes(h)),
        `${width}: only columns of the order, named in its order`,
      );
      t.deepEqual(
        shown,
        c.columns.map((x) => x.header).filter((h) => !hidden.includes(h)),
        `${width}: the others shown`,
      );
      for (const k of keep) t.true(shown.includes(k), `${width}: ${k} shown`);
      if (width >= least) t.true(widest(out.split('\n')) <= width, `${width}: fits`);
      // Hiding only when shortening is not enough, and only what has to go: no hidden column
      // would fit beside the others as they are, even at its shortest.
      if (hidden.length > 0) t.true(atFloor(c.columns.map((x) => x.header)) > width, `${width}`);
      const used = widest(tableLines(out));
      for (const h of hidden) t.true(used + (floor.get(h) ?? 0) + 3 > width, `${width}: ${h} would fit`);
      // A hidden column is never more important than a shown one unless the shown one is narrower.
      for (const h of hidden)
        for (const s of shown.filter((x) => order.indexOf(x) >= 0 && order.indexOf(x) < order.indexOf(h)))
          t.true((floor.get(s) ?? 0) < (floor.get(h) ?? 0), `${width}: ${s} shown, ${h} hidden`);
    }
  });
}

test('shortening comes before hiding: a width a shorter ARN reaches hides nothing', (t) => {
  const out = renderWorkloads([workload()], 192);
  t.deepEqual(headers(out), ALL);
  t.regex(out, /arn:aws:lambda:e[^│]*…[^│]*:orders-api/);
  t.true(widest(tableLines(out)) <= 192);
});

test('cells are neutralised before they are measured and shortened', (t) => {
  const name = `\u001b]0;pwned\u0007${'n'.repeat(50)}\u202e`;
  const out = table(
    [
      { header: 'name', minWidth: 20 },
      { header: 'x', drop: 1 },
    ],
    [[name, 'y'.repeat(50)]],
    40,
  );
  t.false([...out].some((ch) => (ch < ' ' && ch !== '\n') || ch === '\u202e'));
  t.regex(out, /│ \\x1b\]0;pwned\\x07n*…n*\\u202e *│/);
  t.true(widest(tableLines(out)) <= 40);
});

test('withFit numbers the columns it may hide from 1 and leaves the others alone', (t) => {
  const cols = withFit({ hide: ['b', 'a'], shorten: { c: 9 } }, [
    { field: 'a', header: 'A', value: () => 1 },
    { field: 'b', header: 'B', value: () => 2 },
    { field: 'c', header: 'C', value: () => 3 },
  ]);
  t.deepEqual(
    cols.map((c) => [c.field, c.drop, c.minWidth]),
    [
      ['a', 2, undefined],
      ['b', 1, undefined],
      ['c', undefined, 9],
    ],
  );
});

// ---- where the width comes from ----

const widthCases: [string, { env?: Record<string, string>; outColumns?: number }, number][] = [
  ['no terminal, no COLUMNS: 100', {}, 100],
  ['the terminal', { outColumns: 132 }, 132],
  ['COLUMNS wins over the terminal', { env: { COLUMNS: '70' }, outColumns: 132 }, 70],
  ['COLUMNS without a terminal (piped)', { env: { COLUMNS: '250' } }, 250],
  ['COLUMNS not a number is ignored', { env: { COLUMNS: 'wide' }, outColumns: 90 }, 90],
  ['COLUMNS 0 is ignored', { env: { COLUMNS: '0' } }, 100],
  ['empty COLUMNS is ignored', { env: { COLUMNS: '' }, outColumns: 90 }, 90],
  ['a terminal of unknown size (0)', { outColumns: 0 }, 100],
];
for (const [name, opts, expected] of widthCases) {
  test(`terminalWidth: ${name}`, (t) => {
    const io: CliIO = {
      out: () => undefined,
      err: () => undefined,
      errIsTTY: false,
      outColumns: opts.outColumns,
      stdin: process.stdin,
      env: opts.env ?? {},
      cwd: '.',
    };
    t.is(terminalWidth(io), expected);
  });
}

const db = fixtureStore().then(({ store, file }) => {
  store.close();
  return file;
});

test('the width comes from the io: a terminal of 60 cells', async (t) => {
  const r = await run(['--db', await db, 'workloads'], { outColumns: 60 });
  t.is(r.code, 0);
  t.deepEqual(headers(r.out), ['kind', 'name', 'traced by', 'calls', 'actions', 'denied']);
  t.true(widest(r.out.split('\n')) <= 60);
  t.regex(r.out, /hidden to fit 60 characters/);
});

test('the width comes from the io: COLUMNS before the terminal, 100 without either', async (t) => {
  const env = await run(['--db', await db, 'workloads'], { outColumns: 60, env: { COLUMNS: '300' } });
  t.is(headers(env.out).length, ALL.length);
  t.notRegex(env.out, /hidden/);
  const none = await run(['--db', await db, 'workloads']);
  t.regex(none.out, /hidden to fit 100 characters: account, region, first seen/);
  t.true(widest(tableLines(none.out)) <= 100);
});

for (const argv of [
  ['--wide', 'workloads'],
  ['workloads', '--wide'],
]) {
  test(`${argv.join(' ')} shows every column on a narrow terminal, values as before`, async (t) => {
    const r = await run(['--db', await db, ...argv], { outColumns: 40, env: { COLUMNS: '40' } });
    t.is(r.code, 0);
    t.deepEqual(headers(r.out), ALL);
    t.notRegex(r.out, /hidden/);
    const unfitted = renderWorkloads(
      JSON.parse((await run(['--db', await db, 'workloads', '--json'])).out) as WorkloadRow[],
    );
    t.is(r.out, unfitted);
  });
}

test('--help of a table command shows --wide', async (t) => {
  for (const cmd of ['workloads', 'usage', 'calls', 'sources', 'stats', 'policy', 'compare', 'demo']) {
    const r = await run([cmd, '--help']);
    t.regex(r.out, /Global Options:[\s\S]*--wide +do not fit tables to the terminal/, cmd);
  }
});

const formats: string[][] = [
  ['workloads', '--json'],
  ['workloads', '--csv'],
  ['usage', '--json'],
  ['usage', '--csv', '--group-by', 'workload,action,resource,operation'],
  ['calls', '--json'],
  ['calls', '--csv'],
  ['timeline', '--csv'],
  ['timeline', '--json'],
  ['sources', '--json'],
  ['stats', '--json'],
  ['policy', '--json'],
];
for (const args of formats) {
  test(`${args.join(' ')} does not change with the width`, async (t) => {
    const wide = await run(['--db', await db, '--wide', ...args]);
    t.is(wide.code, 0, wide.err);
    t.true(wide.out.length > 0);
    for (const opts of [{}, { outColumns: 30 }, { env: { COLUMNS: '20' } }, { env: { COLUMNS: '400' } }]) {
      const r = await run(['--db', await db, ...args], opts);
      t.is(r.out, wide.out, JSON.stringify(opts));
      t.is(r.err, wide.err);
    }
  });
}

// ---- every table the CLI prints ----

const demo = (async () => {
  const dir = tempDir();
  const file = path.join(dir, 'demo.db');
  const r = await cli(['demo', '--wide', '--demo-db', file], { cwd: dir });
  if (r.code !== 0) throw new Error(r.err);
  return file;
})();

const granted = ['account-123456789012.json', 'account-210987654321.json', 'functions-eu-west-1.json'].map(
  (f) => path.join(repoRoot, 'samples/granted', f),
);

/**
 * Each command that prints a table, the columns it never hides, and where the table goes
 * (`policy`'s summary accompanies a document: stderr).
 */
const commands: [name: string, args: string[], keep: string[], stream?: 'err'][] = [
  ['workloads', ['workloads'], ['name', 'calls', 'denied']],
  ['usage', ['usage'], ['workload', 'action', 'resource', 'calls', 'denied']],
  [
    'usage --group-by service,outcome',
    ['usage', '--group-by', 'service,outcome'],
    ['service', 'outcome', 'calls', 'denied'],
  ],
  ['calls', ['calls', '--limit', '20'], ['time', 'workload', 'operation']],
  ['sources', ['sources'], ['input']],
  ['stats', ['stats'], ['service', 'calls']],
  ['policy', ['policy'], ['workload'], 'err'],
  ['compare', ['compare', '--granted', ...granted], ['workload', 'check']],
];
for (const [name, args, keep, stream] of commands) {
  test(`${name}: its table fits 40, 60, 80, 100 and 120 cells when it can; --wide prints it whole`, async (t) => {
    const file = await demo;
    const [tableOf, otherOf] =
      stream === 'err'
        ? [(x: { err: string }) => x.err, (x: { out: string }) => x.out]
        : [(x: { out: string }) => x.out, (x: { err: string }) => x.err];
    const whole = await run(['--db', file, '--wide', ...args], { outColumns: 40 });
    t.true(tableLines(tableOf(whole)).length > 0, whole.err);
    t.notRegex(tableOf(whole), /hidden to fit/);
    const full = widest(tableLines(tableOf(whole)));
    for (const width of [40, 60, 80, 100, 120]) {
      const r = await run(['--db', file, ...args], { outColumns: width });
      t.is(r.code, whole.code);
      t.is(otherOf(r), otherOf(whole));
      const shown = headers(tableOf(r));
      for (const k of keep) t.true(shown.includes(k), `${width}: ${k}`);
      // Wider than the width only when nothing more can go.
      if (widest(tableLines(tableOf(r))) > width) t.deepEqual(shown, keep, `${width}`);
      if (full <= width) t.is(tableOf(r), tableOf(whole), `${width}: a table that fits is unchanged`);
      else t.true(hiddenInNote(tableOf(r)).length > 0 || tableOf(r).includes('…'), `${width}`);
    }
  });
}

test('demo: its workloads and policy tables fit the terminal', async (t) => {
  const dir = tempDir();
  const r = await run(['demo', '--demo-db', path.join(dir, 'demo.db')], { env: { COLUMNS: '80' } });
  t.is(r.code, 0, r.err);
  const tables = r.out.split('\n┌').slice(1);
  // Workloads, policies, and the comparison with the two managed policies.
  t.is(tables.length, 3);
  t.true(widest(tableLines(r.out)) <= 80);
  t.deepEqual(headers(`┌${tables[0]}`), ['kind', 'name', 'traced by', 'calls', 'actions', 'denied']);
  t.regex(
    r.out,
    /\(7 columns hidden to fit 80 characters: account, region, first seen, days,\ntraces, last seen, ARN \/ id; --wide shows them\)/,
  );
  t.deepEqual(headers(`┌${tables[1]}`), [
    'workload',
    'statements',
    'actions',
    'size',
    'warnings',
    'completeness',
  ]);
});
