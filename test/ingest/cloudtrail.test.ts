/**
 * CloudTrail through `ingest` (src/ingest/cloudtrail.ts, caller.ts; schema v5 `trail_events`):
 * every delivery form detected by content, gzip trees, exactly once by eventID, records that
 * lack what evidence needs counted as problems (never guessed), a malformed file refused whole
 * with its position and a hint, and the class of every kind of caller.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { eventMillis, readTrailEvent } from '../../src/ingest/cloudtrail.js';
import type { Store } from '../../src/store/db.js';
import { FIXTURE_ROLE as ROLE } from '../support/cloudtrail.js';
import { repoRoot, tempDir, tempStore, writeFile } from '../support/helpers.js';

const dir = path.join(repoRoot, 'test/fixtures/cloudtrail');
const fixture = (name: string): string => path.join(dir, name);

const ids = (store: Store): string[] =>
  (store.prepare('SELECT event_id FROM trail_events ORDER BY event_id').all() as { event_id: string }[]).map(
    (r) => r.event_id,
  );

/** Delivery form → shape, records stored, problems. */
const FORMS: { name: string; input: string; shape: string; events: number; problems: number }[] = [
  { name: 'plain Records file', input: 'records.json', shape: 'cloudtrail-records', events: 13, problems: 1 },
  {
    name: 'AWS documentation examples',
    input: 'aws-docs-examples.json',
    shape: 'cloudtrail-records',
    events: 1,
    problems: 2,
  },
  {
    name: 'lookup-events output',
    input: 'lookup-events.json',
    shape: 'cloudtrail-lookup-events',
    events: 6,
    problems: 0,
  },
  {
    name: 'CloudTrail Lake results',
    input: 'lake-results.json',
    shape: 'cloudtrail-lake',
    events: 2,
    problems: 0,
  },
  {
    name: 'S3 delivery tree of .json.gz',
    input: 'tree',
    shape: 'cloudtrail-records',
    events: 7,
    problems: 0,
  },
];
for (const f of FORMS)
  test(`ingest: ${f.name}`, async (t) => {
    const { store } = tempStore();
    const s = await ingest(store, { inputs: [fixture(f.input)] });
    t.is(s.rejected, 0, JSON.stringify(s.results.map((r) => r.error)));
    t.is(s.trailEvents, f.events);
    t.is(s.newTrailEvents, f.events);
    t.is(s.problems, f.problems);
    t.deepEqual([...new Set(s.results.map((r) => r.shape))], [f.shape]);
    t.is(ids(store).length, f.events);
    // Traces are not touched: no workload, no call.
    t.is((store.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n, 0);
    store.close();
  });

test('exactly once by eventID: overlapping forms and a second run store each record once', async (t) => {
  const { store } = tempStore();
  const inputs = ['tree', 'lookup-events.json', 'records.json', 'lake-results.json'].map(fixture);
  const first = await ingest(store, { inputs });
  const stored = ids(store);
  t.is(stored.length, 13);
  t.is(first.newTrailEvents, 13);
  t.is(first.trailEvents, 7 + 6 + 13 + 2);
  const again = await ingest(store, { inputs });
  t.is(again.newTrailEvents, 0);
  t.deepEqual(ids(store), stored);
  store.close();
});

test('records missing eventTime or eventID are counted as problems with their position, never guessed', async (t) => {
  const { store } = tempStore();
  const s = await ingest(store, { inputs: [fixture('records.json'), fixture('aws-docs-examples.json')] });
  const problems = s.results.flatMap((r) => r.problems);
  t.is(problems.length, 3);
  t.regex(problems[0]?.path ?? '', /^Records\[12\]/);
  t.regex(problems[0]?.message ?? '', /without eventTime/);
  t.regex(problems[1]?.message ?? '', /without eventID/);
  t.false(ids(store).includes('00000000-0000-4000-8000-000000000031'));
  store.close();
});

const BAD: [string, string, RegExp][] = [
  ['truncated Records file', '{"Records": [{"eventVersion": "1.08", "eventID": "a"', /./],
  [
    'a lookup-events entry whose CloudTrailEvent is not JSON',
    '{"Events": [{"CloudTrailEvent": "{not json"}]}',
    /CloudTrailEvent is not JSON/,
  ],
  [
    'a lookup-events entry without CloudTrailEvent',
    '{"Events": [{"CloudTrailEvent": "{}"}, {"EventId": "x"}]}',
    /no CloudTrailEvent/,
  ],
  ['a Lake row that is not a list', '{"QueryResultRows": [{"eventID": "x"}]}', /not a list of columns/],
];
for (const [name, text, message] of BAD)
  test(`refused whole with position and hint: ${name}`, async (t) => {
    const d = tempDir();
    const { store } = tempStore();
    const s = await ingest(store, { inputs: [writeFile(d, 'bad.json', text)] });
    t.is(s.rejected, 1);
    const r = s.results[0];
    t.regex(r?.error?.message ?? '', message);
    t.truthy(r?.error?.hint);
    t.not(r?.error?.offset ?? r?.error?.line, undefined);
    t.deepEqual(ids(store), []);
    store.close();
  });

test('a gzip tree ingests like its plain files', async (t) => {
  const d = tempDir();
  const text = fs.readFileSync(fixture('records.json'));
  writeFile(d, 'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/30/x.json.gz', zlib.gzipSync(text));
  const a = tempStore();
  const b = tempStore();
  await ingest(a.store, { inputs: [d] });
  await ingest(b.store, { inputs: [fixture('records.json')] });
  const rows = (s: Store): unknown[] =>
    (s.prepare('SELECT * FROM trail_events ORDER BY event_id').all() as Record<string, unknown>[]).map(
      ({ source_id: _, ...r }) => r,
    );
  t.deepEqual(rows(a.store), rows(b.store));
  t.is(ids(a.store).length, 13);
  a.store.close();
  b.store.close();
});

test('a huge Records file is read record by record', async (t) => {
  const d = tempDir();
  const one = (
    JSON.parse(fs.readFileSync(fixture('records.json'), 'utf8')) as { Records: Record<string, unknown>[] }
  ).Records[0] as Record<string, unknown>;
  const pad = 'x'.repeat(4096);
  const records = Array.from({ length: 2500 }, (_, i) => ({
    ...one,
    eventID: `big-${i}`,
    requestParameters: { secretId: `s${i}`, pad },
  }));
  const file = writeFile(d, 'big.json', JSON.stringify({ Records: records }));
  t.true(fs.statSync(file).size > 8 * 1024 * 1024);
  const { store } = tempStore();
  const s = await ingest(store, { inputs: [file] });
  t.is(s.rejected, 0, JSON.stringify(s.results[0]?.error));
  t.is(s.newTrailEvents, 2500);
  store.close();
});

test('role subject, session name and service-linked roles', (t) => {
  const records = (
    JSON.parse(fs.readFileSync(fixture('records.json'), 'utf8')) as { Records: Record<string, unknown>[] }
  ).Records;
  const read = (n: number) => readTrailEvent(records[n] as Record<string, unknown>, 0, `Records[${n}]`);
  t.like(read(0), { principal: 'role', role: ROLE, session: 'orders-fn', management: true });
  t.like(read(3), { principal: 'role', management: false, eventName: 'GetItem' });
  // sts:AssumeRole by the Lambda service: the role and the function's session (the link).
  t.like(read(6), { principal: 'service', role: ROLE, session: 'orders-fn', caller: 'service' });
  t.like(read(13), {
    principal: 'service-linked-role',
    role: 'arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling',
  });
});

const TIMES: [string, number | undefined][] = [
  ['2026-11-30T12:00:01Z', Date.UTC(2026, 10, 30, 12, 0, 1)],
  ['2026-11-30T12:00:01.250+01:00', Date.UTC(2026, 10, 30, 11, 0, 1, 250)],
  ['2026-11-30 12:00:01.000', Date.UTC(2026, 10, 30, 12, 0, 1)],
  ['2026-11-30T12:00:01', undefined],
  ['yesterday', undefined],
];
for (const [text, ms] of TIMES)
  test(`eventTime ${text}`, (t) => {
    const got = eventMillis(text);
    if (ms === undefined) t.true(Number.isNaN(got));
    else t.is(got, ms);
  });
