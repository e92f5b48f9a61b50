import test from 'ava';
import Database from 'better-sqlite3';
import { UserInputError } from '../../src/shared/errors.js';
import { compileFilter, toGlob } from '../../src/store/filter.js';
import { parseAbsolute, parseFilter } from '../../src/query/filters.js';

const NEWEST = Date.parse('2026-11-22T12:00:00Z') / 1000;
const parse = (raw: Parameters<typeof parseFilter>[0]) => parseFilter(raw, () => NEWEST);

const times: [string, string][] = [
  ['2026-11-20', '2026-11-20T00:00:00.000Z'],
  ['2026-11-20T08:30', '2026-11-20T08:30:00.000Z'],
  ['2026-11-20T08:30:15', '2026-11-20T08:30:15.000Z'],
  ['2026-11-20 08:30:15.250', '2026-11-20T08:30:15.250Z'],
  ['2026-11-20T08:30:00Z', '2026-11-20T08:30:00.000Z'],
  ['2026-11-20T08:30:00+01:00', '2026-11-20T07:30:00.000Z'],
  ['2026-11-20T08:30:00-0500', '2026-11-20T13:30:00.000Z'],
  ['1763625600', '2025-11-20T08:00:00.000Z'],
];
for (const [input, iso] of times) {
  test(`absolute time ${input}`, (t) => {
    t.is(new Date(parseAbsolute(input, '--since') * 1000).toISOString(), iso);
  });
}

const relatives: [string, number][] = [
  ['90m', 90 * 60],
  ['12h', 12 * 3600],
  ['7d', 7 * 86400],
  ['2w', 14 * 86400],
];
for (const [input, secs] of relatives) {
  test(`relative time ${input} counts back from the newest call`, (t) => {
    t.is(parse({ since: input }).since, NEWEST - secs);
  });
}

test('relative time counts back from --now when given', (t) => {
  t.is(parse({ since: '1d', now: '2026-01-02' }).since, Date.parse('2026-01-01T00:00:00Z') / 1000);
});

const badTimes = ['yesterday', '2026-13-01', '2026-02-31', '20261120', '7 days', '', '-5d'];
for (const b of badTimes) {
  test(`rejects the time ${JSON.stringify(b)} with usage help`, (t) => {
    const e = t.throws(() => parse({ since: b }), { instanceOf: UserInputError });
    t.regex(e!.message, /ISO 8601/);
  });
}

test('rejects a reversed or empty range', (t) => {
  t.throws(() => parse({ since: '2026-11-21', until: '2026-11-20' }), {
    instanceOf: UserInputError,
    message: /must be before --until/,
  });
  t.throws(() => parse({ since: '2026-11-21', until: '2026-11-21' }), { instanceOf: UserInputError });
});

test('rejects an unknown outcome', (t) => {
  t.throws(() => parse({ outcome: ['nope'] }), {
    instanceOf: UserInputError,
    message: /ok, error, fault, throttle, denied/,
  });
});

test('globs make [ literal and keep * and ?', (t) => {
  t.is(toGlob('a[b]*?'), 'a[[]b]*?');
});

/** A tiny database with the columns the filter reads. */
function db(): Database.Database {
  const d = new Database(':memory:');
  d.exec(`
    CREATE TABLE workloads (id INTEGER PRIMARY KEY, key TEXT, name TEXT, arn TEXT, account TEXT, region TEXT);
    CREATE TABLE targets (id INTEGER PRIMARY KEY, service TEXT, region TEXT, account TEXT);
    CREATE TABLE target_permissions (target_id INTEGER, action TEXT, resource TEXT);
    CREATE TABLE calls (id INTEGER PRIMARY KEY, workload_id INTEGER, target_id INTEGER, start_time REAL, outcome TEXT);
    INSERT INTO workloads VALUES (1, 'arn:aws:lambda:eu-west-1:111111111111:function:notes-api', 'notes-api', 'arn:aws:lambda:eu-west-1:111111111111:function:notes-api', '111111111111', 'eu-west-1');
    INSERT INTO workloads VALUES (2, 'ecs:222222222222:us-east-1:worker', 'worker', NULL, '222222222222', 'us-east-1');
    INSERT INTO targets VALUES (10, 'dynamodb', 'eu-west-1', '111111111111'), (11, 's3', NULL, NULL), (12, 'dynamodb', 'us-east-1', '222222222222');
    INSERT INTO target_permissions VALUES (10, 'dynamodb:PutItem', 'arn:aws:dynamodb:eu-west-1:111111111111:table/notes'),
      (11, 's3:GetObject', 'arn:aws:s3:::logs-2026/a[1].txt'), (12, 'dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:222222222222:table/Jobs');
    INSERT INTO calls VALUES (1, 1, 10, 1000000100, 'ok'), (2, 1, 11, 1000000200, 'denied'), (3, 2, 12, 1000000300, 'throttle'), (4, NULL, 12, 1000000400, 'ok');
  `);
  return d;
}

function select(raw: Parameters<typeof parseFilter>[0]): number[] {
  const f = parse(raw);
  const { where, params } = compileFilter(f, { calls: 'c', targets: 't', workloads: 'p' });
  const d = db();
  const rows = d
    .prepare(
      `SELECT c.id FROM calls c JOIN targets t ON t.id = c.target_id LEFT JOIN workloads p ON p.id = c.workload_id WHERE ${where} ORDER BY c.id`,
    )
    .all(...params) as { id: number }[];
  return rows.map((r) => r.id);
}

const cases: { name: string; raw: Parameters<typeof parseFilter>[0]; ids: number[] }[] = [
  { name: 'no filter', raw: {}, ids: [1, 2, 3, 4] },
  {
    name: 'time range: since inclusive, until exclusive',
    raw: { since: '1000000150', until: '1000000300' },
    ids: [2],
  },
  { name: 'principal by name glob', raw: { principal: ['notes-*'] }, ids: [1, 2] },
  { name: 'principal by ARN', raw: { principal: ['arn:aws:lambda:*:function:notes-api'] }, ids: [1, 2] },
  { name: 'principal names are case-sensitive', raw: { principal: ['NOTES-*'] }, ids: [] },
  {
    name: 'exclude principal keeps unattributed calls',
    raw: { excludePrincipal: ['notes-api'] },
    ids: [3, 4],
  },
  { name: 'principal * selects attributed calls only', raw: { principal: ['*'] }, ids: [1, 2, 3] },
  { name: 'service by prefix', raw: { service: ['dynamodb'] }, ids: [1, 3, 4] },
  { name: 'service by SDK spelling', raw: { service: ['DynamoDBv2'] }, ids: [1, 3, 4] },
  { name: 'action glob, case-insensitive', raw: { action: ['DYNAMODB:*'] }, ids: [1, 3, 4] },
  { name: 'two actions OR', raw: { action: ['dynamodb:PutItem', 's3:GetObject'] }, ids: [1, 2] },
  { name: 'resource glob, case-sensitive', raw: { resource: ['arn:aws:dynamodb:*:table/jobs'] }, ids: [] },
  { name: 'resource with [ literal', raw: { resource: ['arn:aws:s3:::logs-*/a[1].txt'] }, ids: [2] },
  { name: 'region from target, else workload', raw: { region: ['eu-west-1'] }, ids: [1, 2] },
  { name: 'account', raw: { account: ['222222222222'] }, ids: [3, 4] },
  { name: 'outcome', raw: { outcome: ['denied', 'THROTTLE'] }, ids: [2, 3] },
  { name: 'SQL metacharacters are literal', raw: { principal: ["x' OR 1=1 --"] }, ids: [] },
  {
    name: 'filters combine with AND',
    raw: { service: ['dynamodb'], outcome: ['ok'], principal: ['notes-api'] },
    ids: [1],
  },
];
for (const c of cases) {
  test(`filter: ${c.name}`, (t) => {
    t.deepEqual(select(c.raw), c.ids);
  });
}

test('a NUL byte in a pattern is rejected (GLOB would stop at it)', (t) => {
  t.throws(() => parse({ principal: ['orders\0evil'] }), { instanceOf: UserInputError, message: /NUL byte/ });
});

test('a very long pattern is rejected, not run', (t) => {
  t.throws(() => parse({ principal: ['*'.repeat(5000)] }), {
    instanceOf: UserInputError,
    message: /at most 2048/,
  });
});
