/**
 * The daily rollups (workload_days, workload_day_targets, workload_day_actions) must always
 * equal what the calls table says, whatever sequence of inputs built it: the writer adds to
 * them incrementally where it can prove that is exact and recomputes them where it cannot
 * (replaced, re-attributed or re-targeted calls, traces continued from an earlier input).
 * Each case ingests a sequence and compares every rollup row with a from-scratch aggregation.
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { generateDumpSync } from '../support/generator.js';
import { ingest } from '../../src/ingest/ingest.js';
import { listWorkloads } from '../../src/query/workloads.js';
import type { Store } from '../../src/store/db.js';
import {
  awsCall,
  batch,
  independentCall,
  inferredFor,
  lambdaSegment,
  repoRoot,
  T0,
  tempStore,
  traceId,
  writeFile,
} from '../support/helpers.js';

/** The rollups computed from scratch from calls (what the tables must hold). */
function expected(store: Store): Record<string, unknown[]> {
  return {
    days: store
      .prepare(
        `SELECT workload_id, CAST(start_time / 86400 AS INTEGER) AS day, count(*) AS calls, count(DISTINCT trace_id) AS traces,
           sum(outcome = 'denied') AS denied, sum(outcome = 'error') AS errors, sum(outcome = 'fault') AS faults,
           sum(outcome = 'throttle') AS throttles, min(start_time) AS first_time, max(start_time) AS last_time
         FROM calls WHERE workload_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
      )
      .all(),
    targets: store
      .prepare(
        `SELECT workload_id, CAST(start_time / 86400 AS INTEGER) AS day, target_id, outcome, count(*) AS calls,
           min(start_time) AS first_time, max(start_time) AS last_time, min(tr.xray_id) AS trace_min, max(tr.xray_id) AS trace_max
         FROM calls c JOIN traces tr ON tr.id = c.trace_id WHERE workload_id IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      )
      .all(),
    actions: store
      .prepare(
        `SELECT c.workload_id, CAST(c.start_time / 86400 AS INTEGER) AS day, tp.action, count(*) AS calls
         FROM calls c JOIN target_permissions tp ON tp.target_id = c.target_id
         WHERE c.workload_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      )
      .all(),
  };
}

function actual(store: Store): Record<string, unknown[]> {
  return {
    days: store
      .prepare(
        `SELECT workload_id, day, calls, traces, denied, errors, faults, throttles, first_time, last_time
         FROM workload_days ORDER BY 1, 2`,
      )
      .all(),
    targets: store
      .prepare(
        `SELECT workload_id, day, target_id, outcome, calls, first_time, last_time, trace_min, trace_max
         FROM workload_day_targets ORDER BY 1, 2, 3, 4`,
      )
      .all(),
    actions: store
      .prepare(`SELECT workload_id, day, action, calls FROM workload_day_actions ORDER BY 1, 2, 3`)
      .all(),
  };
}

function check(t: ExecutionContext, store: Store, when: string): void {
  const want = expected(store);
  const got = actual(store);
  t.true((want.days?.length ?? 0) > 0, `${when}: the case produced attributed calls`);
  for (const k of ['days', 'targets', 'actions']) t.deepEqual(got[k], want[k], `${when}: ${k}`);
  t.deepEqual(store.prepare('PRAGMA foreign_key_check').all(), [], `${when}: foreign keys`);
}

/** A small generated dump, as its top-level documents. */
function generatedDocuments(seed: number): string[] {
  return [...generateDumpSync({ sizeBytes: 800_000, seed, workloads: 12, days: 3, layout: 'concatenated' })];
}

test('overlapping generated dumps, in one run and in several', async (t) => {
  const docs = generatedDocuments(7);
  t.true(docs.length > 20);
  const third = Math.floor(docs.length / 3);
  const { store, dir } = tempStore();
  const a = writeFile(dir, 'a.json', docs.slice(0, 2 * third).join(''));
  const b = writeFile(dir, 'b.json', docs.slice(third).join(''));
  const c = writeFile(dir, 'c.json', docs.slice(0, 5).join(''));
  await ingest(store, { inputs: [a] });
  check(t, store, 'after a');
  await ingest(store, { inputs: [b, c] });
  check(t, store, 'after b, c');
  await ingest(store, { inputs: [a, b] });
  check(t, store, 'after re-ingesting a, b');
});

test('a trace continued in a later input (and in a later item of the same input)', async (t) => {
  const id = traceId(9001);
  const s1 = lambdaSegment(id, 'fn', [awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k1' })]);
  const s2 = lambdaSegment(id, 'fn', [
    awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k1' }),
    awsCall('DynamoDB', 'GetItem', { table_name: 't' }),
  ]);
  const s3 = lambdaSegment(id, 'other', [
    awsCall('SQS', 'SendMessage', { queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' }),
  ]);
  const { store, dir } = tempStore();
  await ingest(store, { inputs: [writeFile(dir, '1.json', batch([{ id, segments: [s1] }]))] });
  check(t, store, 'first part');
  // The second file carries the same trace twice (two items), each with new segments.
  const two = batch([{ id, segments: [s2] }]) + batch([{ id, segments: [s3] }]);
  await ingest(store, { inputs: [writeFile(dir, '2.json', two)] });
  check(t, store, 'continued');
  const [r] = store.prepare('SELECT traces, calls FROM workload_days WHERE workload_id = 1').all() as {
    traces: number;
    calls: number;
  }[];
  t.deepEqual(r, { traces: 1, calls: 3 });
});

test('in-progress then complete, late attribution, inferred-only then caller', async (t) => {
  const id = traceId(9002);
  const call = awsCall('SNS', 'Publish', { topic_arn: 'arn:aws:sns:eu-west-1:123456789012:t' });
  const complete = lambdaSegment(id, 'fn', [
    call,
    awsCall('S3', 'PutObject', { bucket_name: 'b', key: 'k' }),
  ]);
  const partial = { ...complete, end_time: undefined, in_progress: true, subsegments: [] };
  const inferred = inferredFor(call, id, 'AWS::SNS', {
    operation: 'Publish',
    region: 'eu-west-1',
    topic_arn: 'arn:aws:sns:eu-west-1:123456789012:t',
  });
  const indep = independentCall(complete, awsCall('DynamoDB', 'PutItem', { table_name: 't' }));
  const other = traceId(9003);
  const { store, dir } = tempStore();
  const f = (name: string, doc: unknown): string => writeFile(dir, name, JSON.stringify(doc));
  await ingest(store, {
    inputs: [
      f(
        'seed.json',
        lambdaSegment(other, 'fn', [awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'x' })]),
      ),
    ],
  });
  await ingest(store, {
    inputs: [f('partial.json', partial), f('inferred.json', inferred), f('indep.json', indep)],
  });
  check(t, store, 'partial');
  await ingest(store, { inputs: [f('complete.json', complete)] });
  check(t, store, 'complete');
  t.is(
    (store.prepare("SELECT count(*) AS n FROM calls WHERE via = 'inferred'").get() as { n: number }).n,
    0,
    'the caller replaced the inferred-only call',
  );
});

test('calls either side of midnight count on their own day', async (t) => {
  const midnight = Math.ceil(T0 / 86400) * 86400;
  const id = traceId(9004);
  const before = awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' }, { start_time: midnight - 0.5 });
  const after = awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' }, { start_time: midnight + 0.5 });
  const { store, dir } = tempStore();
  await ingest(store, {
    inputs: [writeFile(dir, 'm.json', batch([{ id, segments: [lambdaSegment(id, 'fn', [before, after])] }]))],
  });
  check(t, store, 'midnight');
  t.is((store.prepare('SELECT count(*) AS n FROM workload_days').get() as { n: number }).n, 2);
});

test('the bundled samples, twice', async (t) => {
  const { store } = tempStore();
  const samples = path.join(repoRoot, 'samples/traces');
  await ingest(store, { inputs: [samples] });
  check(t, store, 'samples');
  await ingest(store, { inputs: [samples] });
  check(t, store, 'samples again');
});

test('workload_day_actions follows a call attributed by a later ingest', async (t) => {
  const id = traceId(901);
  const seg = lambdaSegment(id, 'fn', [awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' })]);
  const indep = independentCall(seg, awsCall('DynamoDB', 'PutItem', { table_name: 't' }));
  const { store, dir } = tempStore();
  await ingest(store, { inputs: [writeFile(dir, 'a.json', JSON.stringify(indep))] });
  t.deepEqual(listWorkloads(store), []);
  await ingest(store, { inputs: [writeFile(dir, 'b.json', JSON.stringify(seg))] });
  const actions = store
    .prepare('SELECT day, action, calls FROM workload_day_actions ORDER BY action')
    .all() as { day: number; action: string; calls: number }[];
  const day = Math.floor((T0 + 1) / 86400);
  t.deepEqual(actions, [
    { day, action: 'dynamodb:PutItem', calls: 1 },
    { day, action: 's3:GetObject', calls: 1 },
  ]);
  t.like(listWorkloads(store)[0], { name: 'fn', calls: 2, distinctActions: 2 });
});

test("OTel spans settled for a fallback workload, then some of their traces' SERVER spans in a later run", async (t) => {
  // Run 1 settles every Lambda span on `lambda::region:name` (no SERVER span names the account);
  // run 2 brings the SERVER spans of half the traces: their calls move to the function's ARN,
  // and the fallback workload, still used by the other half, must lose exactly those calls.
  const lines = fs
    .readFileSync(path.join(repoRoot, 'samples/otel/aws-spans.jsonl'), 'utf8')
    .trimEnd()
    .split('\n');
  const traceOf = (l: string): string => (JSON.parse(l) as { traceId: string }).traceId;
  const server = lines.filter((l) => l.includes('"kind":"SERVER"'));
  const half = new Set(server.map(traceOf).filter((_id, i) => i % 2 === 0));
  const { store, dir } = tempStore();
  await ingest(store, {
    inputs: [
      writeFile(dir, 'a.jsonl', `${lines.filter((l) => !l.includes('"kind":"SERVER"')).join('\n')}\n`),
    ],
  });
  check(t, store, 'settled on the fallback workloads');
  await ingest(store, {
    inputs: [writeFile(dir, 'b.jsonl', `${server.filter((l) => half.has(traceOf(l))).join('\n')}\n`)],
  });
  const keys = listWorkloads(store).map((w) => w.key);
  t.true(
    keys.some((k) => k.startsWith('lambda::')) && keys.some((k) => k.startsWith('arn:aws:lambda:')),
    `both the fallback and the ARN workloads hold calls: ${keys.join(', ')}`,
  );
  check(t, store, 'half the traces moved to the ARN');
});
