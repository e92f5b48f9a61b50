/**
 * Reading usage files (`policy --usage`): CSV (RFC 4180: quoted commas, quotes and newlines,
 * CRLF, a BOM), JSON lines and Parquet written by DuckDB with each codec engines use read to the
 * same rows; folders are searched recursively, skipping what engines skip; Hive `day=` folders
 * give the rows their day. Bad input exits 2 with the file, the position and a fix, and changes
 * nothing: `--out DIR` is neither created nor touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { readUsageFiles } from '../../../src/store/usage-rows/files.js';
import type { SpillRow } from '../../../src/store/usage-rows/spill.js';
import { cli, repoRoot, tempDir, writeFile } from '../../support/helpers.js';
import { Duck, lit } from '../../support/duckdb.js';

async function read(inputs: string[]): Promise<SpillRow[]> {
  const rows: SpillRow[] = [];
  await readUsageFiles(inputs, (r) => rows.push(r));
  return rows;
}

const ORDERS = 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api';

/** Rows with what CSV makes hard: commas, quotes and a newline inside quoted fields. */
const ROWS = [
  {
    principal: ORDERS,
    kind: 'lambda',
    name: 'orders, "the" API',
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::bucket/a,b/"q"\nline2.txt',
    denied: false,
    calls: 3,
    first_seen: '2026-11-16 08:00:00.563+00',
    last_seen: '2026-11-17T10:00:00.5Z',
  },
  {
    principal: ORDERS,
    kind: 'lambda',
    name: 'orders, "the" API',
    action: 'dynamodb:GetItem',
    resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders',
    denied: true,
    calls: 2,
    first_seen: '2026-11-16T09:00:00Z',
    last_seen: '2026-11-16 11:00:00',
  },
];
const COLUMNS = Object.keys(ROWS[0] as object);

const csvField = (v: unknown): string => {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function csv(rows: Record<string, unknown>[], eol = '\n', bom = false): string {
  return (
    (bom ? '\uFEFF' : '') +
    [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvField(r[c])).join(','))].join(eol) +
    eol
  );
}

const jsonl = (rows: Record<string, unknown>[]): string =>
  rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

test('CSV with quoted commas, quotes and newlines, CRLF and a BOM, and JSON lines read to the same rows', async (t) => {
  const dir = tempDir();
  const want = await read([writeFile(dir, 'a.jsonl', jsonl(ROWS))]);
  t.is(want.length, 2);
  t.like(want[0], {
    principal: ORDERS,
    name: 'orders, "the" API',
    resource: 'arn:aws:s3:::bucket/a,b/"q"\nline2.txt',
    calls: 3,
    denied: false,
    first: Date.UTC(2026, 10, 16, 8) / 1000 + 0.563,
    last: Date.UTC(2026, 10, 17, 10) / 1000 + 0.5,
  });
  // Without a resource_type column, the type comes from the ARN (S3 object scoping needs it).
  t.like(want[1], {
    denied: true,
    resourceType: 'table',
    first: Date.UTC(2026, 10, 16, 9) / 1000,
    last: Date.UTC(2026, 10, 16, 11) / 1000,
  });
  t.deepEqual(await read([writeFile(dir, 'lf.csv', csv(ROWS))]), want);
  t.deepEqual(await read([writeFile(dir, 'crlf.csv', csv(ROWS, '\r\n', true))]), want);
  // Blank lines between rows are no rows.
  t.deepEqual(
    await read([writeFile(dir, 'blank.csv', csv(ROWS).replace(/\n(?=arn:aws:lambda.*dynamodb)/, '\n\n'))]),
    want,
  );
});

test('Athena-style result CSV: every field quoted, times without a zone (UTC)', async (t) => {
  const dir = tempDir();
  const quoted = (v: unknown): string => `"${String(v).replace(/"/g, '""')}"`;
  const rows = ROWS.map((r) => ({
    ...r,
    first_seen: '2026-11-16 08:00:00.563',
    last_seen: '2026-11-17 10:00:00.500',
  }));
  const text = [
    COLUMNS.map(quoted).join(','),
    ...rows.map((r) => COLUMNS.map((c) => quoted((r as Record<string, unknown>)[c])).join(',')),
  ].join('\n');
  const got = await read([writeFile(dir, 'athena.csv', `${text}\n`)]);
  t.deepEqual(got, await read([writeFile(dir, 'same.jsonl', jsonl(rows))]));
  t.is(got[0]?.first, Date.UTC(2026, 10, 16, 8) / 1000 + 0.563);
});

for (const codec of ['zstd', 'snappy', 'gzip', 'uncompressed']) {
  test(`Parquet written by DuckDB with ${codec} reads to the same rows as the CSV it came from`, async (t) => {
    const dir = tempDir();
    const source = writeFile(dir, 'rows.csv', csv(ROWS));
    const parquet = path.join(dir, `rows-${codec}.parquet`);
    const duck = await Duck.open();
    try {
      await duck.run(
        `COPY (SELECT principal, kind, name, action, resource, denied::BOOLEAN AS denied, calls::BIGINT AS calls,
                      first_seen::TIMESTAMPTZ AS first_seen, last_seen::TIMESTAMPTZ AS last_seen
               FROM read_csv(${lit(source)}, header = true, all_varchar = true))
         TO ${lit(parquet)} (FORMAT parquet, COMPRESSION ${codec})`,
      );
      const [meta] = await duck.rows(`SELECT DISTINCT compression FROM parquet_metadata(${lit(parquet)})`);
      t.is(String(meta?.compression).toLowerCase(), codec);
    } finally {
      duck.close();
    }
    t.deepEqual(await read([parquet]), await read([source]));
  });
}

test('a folder is searched recursively, in name order; hidden, _-prefixed and other files are skipped', async (t) => {
  const dir = tempDir();
  const [a, b] = ROWS as unknown as [Record<string, unknown>, Record<string, unknown>];
  writeFile(dir, 'z/deep/er/b.jsonl', jsonl([b]));
  writeFile(dir, 'a.jsonl', jsonl([a]));
  writeFile(dir, '_SUCCESS', '');
  writeFile(dir, '_temporary/x.jsonl', 'not even json');
  writeFile(dir, '.hidden.jsonl', 'not even json');
  writeFile(dir, 'notes.txt', 'ignored');
  writeFile(dir, 'part.jsonl.crc', 'ignored');
  const rows = await read([dir]);
  t.deepEqual(
    rows.map((r) => r.action),
    ['s3:GetObject', 'dynamodb:GetItem'],
  );
});

test('Hive day= folders give the rows their day (the active days of completeness)', async (t) => {
  const dir = tempDir();
  const [a, b] = ROWS as unknown as [Record<string, unknown>, Record<string, unknown>];
  writeFile(dir, 'usage/day=2026-11-16/part-0.jsonl', jsonl([a]));
  writeFile(dir, 'usage/day=2026-11-18/part-0.jsonl', jsonl([b]));
  const rows = await read([path.join(dir, 'usage')]);
  t.deepEqual(
    rows.map((r) => r.day),
    [Date.UTC(2026, 10, 16) / 86_400_000, Date.UTC(2026, 10, 18) / 86_400_000],
  );
  const r = await cli(['policy', '--usage', path.join(dir, 'usage'), '--json']);
  t.is(r.code, 0, r.err);
  const [p] = JSON.parse(r.out) as { completeness: { activeDays: number | null } }[];
  t.is(p?.completeness.activeDays, 2);
  // Without day folders, active days are unknown.
  const flat = await cli(['policy', '--usage', writeFile(dir, 'flat.jsonl', jsonl(ROWS)), '--json']);
  t.is(
    (JSON.parse(flat.out) as { completeness: { activeDays: number | null } }[])[0]?.completeness.activeDays,
    null,
  );
});

/* ------------------------------------------------------------------ bad input */

/** An exported usage file of the samples, to damage. */
const exportedFile = (async () => {
  const dir = tempDir();
  const db = path.join(dir, 's.db');
  for (const args of [
    ['--db', db, 'ingest', '-q', path.join(repoRoot, 'samples/traces')],
    ['--db', db, 'export', '--out', path.join(dir, 'exp'), '--tables', 'usage'],
  ]) {
    const r = await cli(args);
    if (r.code !== 0) throw new Error(r.err);
  }
  return path.join(dir, 'exp/usage/day=2026-11-16/part-00000.parquet');
})();

/** Each case makes its input in a fresh folder and says what the error must say. */
const BAD: { name: string; make: (dir: string) => Promise<string[]> | string[]; error: RegExp }[] = [
  {
    name: 'a truncated Parquet file',
    make: async (dir) => {
      const bytes = fs.readFileSync(await exportedFile);
      return [
        writeFile(dir, 'usage/day=2026-11-16/part-00000.parquet', bytes.subarray(0, bytes.length - 100)),
      ];
    },
    error:
      /part-00000\.parquet: not a complete Parquet file \(.*\); it may be truncated: export or copy it again/,
  },
  {
    name: 'a Parquet file cut in the middle of its data (footer kept)',
    make: async (dir) => {
      const bytes = Buffer.from(fs.readFileSync(await exportedFile));
      bytes.fill(0xff, 4, 600);
      return [writeFile(dir, 'x.parquet', bytes)];
    },
    error: /x\.parquet:rows 1-\d+: cannot be read \(.*\); the file may be damaged: export or copy it again/,
  },
  {
    name: 'a file named .parquet that is not Parquet',
    make: (dir) => [writeFile(dir, 'usage.parquet', 'principal,action,resource,calls\n')],
    error: /usage\.parquet: not a complete Parquet file \(.*\); it may be truncated/,
  },
  ...(['principal', 'action', 'resource', 'calls'] as const).map((missing) => ({
    name: `a usage file without ${missing}`,
    make: (dir: string) => [
      writeFile(
        dir,
        'u.csv',
        `${['principal', 'action', 'resource', 'calls'].filter((c) => c !== missing).join(',')}\n${['p', 's3:GetObject', 'arn:aws:s3:::b/k', '1'].filter((_, i) => ['principal', 'action', 'resource', 'calls'][i] !== missing).join(',')}\n`,
      ),
    ],
    error: new RegExp(
      `u\\.csv: missing the required column ${missing} \\(it has: .*\\)\\. A usage file needs principal, action, resource, calls: name them so in the query that writes it \\(docs/scale\\.md\\)\\.`,
    ),
  })),
  {
    name: 'mixed schemas across files',
    make: (dir) =>
      [
        writeFile(
          dir,
          'in/a.csv',
          'principal,action,resource,calls,denied\np,s3:GetObject,arn:aws:s3:::b/k,1,false\n',
        ),
        writeFile(dir, 'in/b.csv', 'principal,action,resource,calls\np,s3:GetObject,arn:aws:s3:::b/k,1\n'),
      ].map(() => path.join(dir, 'in')),
    error:
      /mixed schemas: .*b\.csv lacks denied, unlike .*a\.csv\. Every usage file must have the same columns/,
  },
  {
    name: 'a CSV line with a quote in the middle of a field',
    make: (dir) => [
      writeFile(
        dir,
        'u.csv',
        'principal,action,resource,calls\np,s3:GetObject,arn:aws:s3:::b/k,1\np,s3:Get"Object,x,1\n',
      ),
    ],
    error:
      /u\.csv:3: malformed CSV row: a quote in the middle of a field \(column \d+\); quote the whole field and double the quotes inside it/,
  },
  {
    name: 'a CSV line with too few fields',
    make: (dir) => [
      writeFile(dir, 'u.csv', 'principal,action,resource,calls\np,s3:GetObject,arn:aws:s3:::b/k\n'),
    ],
    error: /u\.csv:2: malformed CSV row: 3 fields where the header has 4/,
  },
  {
    name: 'a CSV file whose last quoted field is never closed',
    make: (dir) => [
      writeFile(dir, 'u.csv', 'principal,action,resource,calls\np,s3:GetObject,"arn:aws:s3:::b/k\n1\n'),
    ],
    error: /u\.csv:2: malformed CSV row: a quoted field is never closed \(is the file truncated\?\)/,
  },
  ...['abc', '-1', '1.5', ''].map((calls) => ({
    name: `calls ${JSON.stringify(calls)}`,
    make: (dir: string) => [
      writeFile(
        dir,
        'u.csv',
        `principal,action,resource,calls\np,s3:GetObject,arn:aws:s3:::b/k,1\np,s3:GetObject,arn:aws:s3:::b/k,${calls}\n`,
      ),
    ],
    error: new RegExp(
      `u\\.csv:3: calls is "${calls.replace('.', '\\.')}": a whole number of calls, 0 or more`,
    ),
  })),
  {
    name: 'a JSON line that is not JSON',
    make: (dir) => [writeFile(dir, 'u.jsonl', `${JSON.stringify(ROWS[0])}\n{"principal": "p", "act\n`)],
    error: /u\.jsonl:2: not JSON \(.*\): is the file truncated\?/,
  },
  {
    name: 'a denied value that is not true or false',
    make: (dir) => [
      writeFile(
        dir,
        'u.csv',
        'principal,action,resource,calls,denied\np,s3:GetObject,arn:aws:s3:::b/k,1,2\n',
      ),
    ],
    error:
      /u\.csv:2: denied is "2": true or false \(group by denied rather than aggregate it: docs\/scale\.md\)/,
  },
  {
    name: 'a first_seen that is not a time',
    make: (dir) => [
      writeFile(
        dir,
        'u.csv',
        'principal,action,resource,calls,first_seen\np,s3:GetObject,arn:aws:s3:::b/k,1,last tuesday\n',
      ),
    ],
    error: /u\.csv:2: first_seen is "last tuesday": an ISO 8601 date-time/,
  },
  {
    name: 'a day= folder that is not a date',
    make: (dir) => [writeFile(dir, 'usage/day=yesterday/u.jsonl', jsonl(ROWS)).replace(/\/u\.jsonl$/, '')],
    error: /u\.jsonl: the folder day=yesterday is not day=YYYY-MM-DD/,
  },
  {
    name: 'an empty folder',
    make: (dir) => {
      fs.mkdirSync(path.join(dir, 'empty'));
      writeFile(dir, 'empty/_SUCCESS', '');
      return [path.join(dir, 'empty')];
    },
    error:
      /--usage .*empty: no \.parquet, \.csv or \.jsonl file in this folder \(hidden and _-prefixed entries are skipped\)\. Give the folder/,
  },
  {
    name: 'a path that does not exist',
    make: (dir) => [path.join(dir, 'nowhere.parquet')],
    error:
      /--usage .*nowhere\.parquet: no such file or folder\. Give the usage files, or the folder that `export` or the query engine wrote them into\./,
  },
  {
    name: 'a file that is not a usage format',
    make: (dir) => [writeFile(dir, 'usage.json', '[]')],
    error: /--usage .*usage\.json: not a usage file \(\.parquet, \.csv, \.jsonl or \.ndjson\)\./,
  },
  ...(
    [
      [
        'last_seen 1e300',
        'last_seen',
        '1e300',
        /last_seen is 1e\+300, as epoch seconds not between 2000-01-01T00:00:00\.000Z and 2200-01-01T00:00:00\.000Z/,
      ],
      [
        'first_seen in milliseconds',
        'first_seen',
        '1795255041000',
        /first_seen is 1795255041000, as epoch seconds not between/,
      ],
      [
        'first_seen in year 2999',
        'first_seen',
        '"2999-01-01T00:00:00Z"',
        /first_seen is "2999-01-01T00:00:00Z", not between/,
      ],
      [
        'last_seen at the epoch',
        'last_seen',
        '"1970-01-01 00:00:00"',
        /last_seen is "1970-01-01 00:00:00", not between/,
      ],
    ] as const
  ).map(([what, column, value, error]) => ({
    name: `a time out of range (${what})`,
    make: (dir: string) => [
      writeFile(
        dir,
        'u.jsonl',
        `{"principal":"p","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","calls":1}\n{"principal":"p","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","calls":1,"${column}":${value}}\n`,
      ),
    ],
    error: new RegExp(`u\\.jsonl:2: ${error.source}.*check that it did not overflow`),
  })),
  {
    name: 'a CSV header naming a column twice',
    make: (dir) => [
      writeFile(
        dir,
        'u.csv',
        'principal,action,resource,calls,action\np,s3:GetObject,arn:aws:s3:::b/k,1,s3:PutObject\n',
      ),
    ],
    error: /u\.csv:1: the header names column "action" twice \(fields 2 and 5\): rename or drop one/,
  },
  ...(
    [
      [
        'a CSV row',
        'u.csv',
        'principal,action,resource,calls\np,s3:GetObject,arn:aws:s3:::b/k,1\np,s3:GetObject,arn:aws:s3:::b/\xff,1\n',
        3,
        96,
        'ff',
      ],
      [
        'a CSV header',
        'u.csv',
        'principal,act\xe9on,resource,calls\np,s3:GetObject,arn:aws:s3:::b/k,1\n',
        1,
        13,
        'e9',
      ],
      [
        'a JSON line',
        'u.jsonl',
        '{"principal":"p","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","calls":1}\n{"principal":"p\xc0\x80","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","calls":1}\n',
        2,
        97,
        'c0',
      ],
      [
        'the last byte',
        'u.jsonl',
        '{"principal":"p","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","calls":1}\n\xe2\x82',
        2,
        82,
        'e2',
      ],
    ] as const
  ).map(([where, file, bytes, line, offset, byte]) => ({
    name: `a byte that is not UTF-8 in ${where}`,
    make: (dir: string) => [writeFile(dir, file, Buffer.from(bytes, 'latin1'))],
    error: new RegExp(
      `${file.replace('.', '\\.')}:${line}: byte ${offset} \\(0x${byte}\\) is not UTF-8: usage files are UTF-8 text`,
    ),
  })),
  ...['bad', 's3:*', 's3:Get Object', ':GetObject', 's3:', 'arn:aws:s3:::b'].map((a) => ({
    name: `an action that is not service:Action (${a})`,
    make: (dir: string) => [
      writeFile(
        dir,
        'u.jsonl',
        `${JSON.stringify({ principal: 'p', action: a, resource: 'arn:aws:s3:::b/k', calls: 1 })}\n`,
      ),
    ],
    error: new RegExp(
      `u\\.jsonl:1: action is ${JSON.stringify(a).replace(/[*]/g, '\\*')}, not an IAM action \\(service:Action, such as s3:GetObject\\)`,
    ),
  })),
  {
    name: 'calls that add up past 2^53',
    make: (dir) => [
      writeFile(
        dir,
        'u.csv',
        `principal,action,resource,calls\n${['4503599627370495', '4503599627370495', '2'].map((n, i) => `p,s3:GetObject,arn:aws:s3:::b/k${i},${n}`).join('\n')}\n`,
      ),
    ],
    error: /u\.csv:4: the calls of the rows up to here add up to more than 9007199254740991 \(2\^53 - 1\)/,
  },
  {
    name: 'a good file, then a bad one: nothing is written',
    make: (dir) => [
      writeFile(dir, 'a.jsonl', jsonl(ROWS)),
      writeFile(dir, 'b.jsonl', `${JSON.stringify(ROWS[0])}\n[1]\n`),
    ],
    error: /b\.jsonl:2: not a JSON object/,
  },
];

for (const { name, make, error } of BAD) {
  test(`bad usage input exits 2 and changes nothing: ${name}`, async (t) => {
    const dir = tempDir();
    const inputs = await make(dir);
    // --out: neither created, nor written into when it exists.
    const fresh = path.join(dir, 'out-new');
    const r = await cli(['policy', '--usage', ...inputs, '--out', fresh]);
    t.is(r.code, 2, r.err);
    t.regex(r.err, error);
    t.regex(r.err, /^xray-lp: [^\n]+\n$/);
    t.is(r.out, '');
    t.false(fs.existsSync(fresh));
    const existing = path.join(dir, 'out-old');
    writeFile(existing, 'orders-api.policy.json', 'before');
    const again = await cli(['policy', '--usage', ...inputs, '--out', existing]);
    t.is(again.code, 2);
    t.deepEqual(fs.readdirSync(existing), ['orders-api.policy.json']);
    t.is(fs.readFileSync(path.join(existing, 'orders-api.policy.json'), 'utf8'), 'before');
    // Nor on stdout with --json.
    const json = await cli(['policy', '--usage', ...inputs, '--json']);
    t.is(json.code, 2);
    t.is(json.out, '');
  });
}

test('well-formed actions the reference does not know are kept; characters split across reads are read whole', async (t) => {
  const dir = tempDir();
  const head = jsonl([
    { principal: 'p', action: 'newservice:DoThing', resource: 'arn:aws:newservice:::thing/a', calls: 2 },
    { principal: 'p', action: 'vpc-lattice:AssociateViaAWSService-EventsAndStates', resource: '*', calls: 1 },
  ]);
  // The 2 bytes of 'é' straddle the first 1 MiB read of the lines reader.
  const start = `${head}{"principal":"p","action":"s3:GetObject","calls":1,"resource":"arn:aws:s3:::b/`;
  const key = `${'x'.repeat((1 << 20) - 1 - Buffer.byteLength(start))}é`;
  const file = writeFile(dir, 'u.jsonl', `${start}${key}"}\n`);
  t.is(fs.readFileSync(file)[(1 << 20) - 1], 0xc3);
  const got = await read([file]);
  t.deepEqual(
    got.map((r) => [r.action, r.calls]),
    [
      ['newservice:DoThing', 2],
      ['vpc-lattice:AssociateViaAWSService-EventsAndStates', 1],
      ['s3:GetObject', 1],
    ],
  );
  t.is(got[2]!.resource, `arn:aws:s3:::b/${key}`);
});
