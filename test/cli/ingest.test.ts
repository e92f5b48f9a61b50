import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { progressLine } from '../../src/cli/views/ingest.js';
import {
  awsCall,
  batch,
  cli,
  lambdaSegment,
  repoRoot,
  tempDir,
  traceId,
  writeFile,
} from '../support/helpers.js';

const run = promisify(execFile);
const bin = path.join(repoRoot, 'dist/cli/main.js');

function dump(dir: string): string {
  const id = traceId(1);
  return writeFile(
    dir,
    'd.json',
    batch([
      { id, segments: [lambdaSegment(id, 'orders', [awsCall('DynamoDB', 'GetItem', { table_name: 'o' })])] },
    ]),
  );
}

test('ingest prints a summary and exits 0', async (t) => {
  const dir = tempDir();
  const r = await cli(['--db', path.join(dir, 'x.db'), 'ingest', dump(dir)]);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /Ingested 1 of 1 input/);
  t.regex(r.out, /traces 1 \(1 new\), segments 1 \(1 new, 0 already stored\), AWS calls 1 \(1 new\)/);
});

test('ingest --json prints the summary as JSON', async (t) => {
  const dir = tempDir();
  const r = await cli(['--db', path.join(dir, 'x.db'), 'ingest', '--json', dump(dir)]);
  const s = JSON.parse(r.out) as {
    traces: number;
    calls: number;
    workloads: number;
    results: { status: string }[];
  };
  t.like(s, { traces: 1, calls: 1, workloads: 1 });
  t.is(s.results[0]!.status, 'ingested');
});

test('rejected inputs: exit 3, file:line:column and hint on stderr, the rest ingested', async (t) => {
  const dir = tempDir();
  const bad = writeFile(dir, 'sum.json', '{\n  "TraceSummaries": []\n}');
  const r = await cli(['--db', path.join(dir, 'x.db'), 'ingest', bad, dump(dir)]);
  t.is(r.code, 3);
  t.regex(r.err, /rejected .*sum\.json:1:1: these are trace summaries/);
  t.regex(r.err, /hint: these are summaries; pass their ids to `aws xray batch-get-traces/);
  t.regex(r.out, /Ingested 1 of 2 inputs/);
});

test('XRAY_LP_DB picks the database; --db wins over it', async (t) => {
  const dir = tempDir();
  const envDb = path.join(dir, 'env.db');
  const flagDb = path.join(dir, 'flag.db');
  await cli(['ingest', '-q', dump(dir)], { env: { XRAY_LP_DB: envDb } });
  t.true(fs.existsSync(envDb));
  await cli(['--db', flagDb, 'ingest', '-q', dump(dir)], { env: { XRAY_LP_DB: envDb } });
  t.true(fs.existsSync(flagDb));
});

test('unknown options are usage errors (exit 2)', async (t) => {
  const r = await cli(['ingest', '--frobnicate', 'x']);
  t.is(r.code, 2);
  t.regex(r.err, /unknown option/);
});

test('a database from the future is refused with exit 1 and no stack trace', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'f.db');
  const { default: Database } = await import('better-sqlite3');
  const raw = new Database(db);
  raw.pragma('user_version = 999');
  raw.close();
  const r = await cli(['--db', db, 'ingest', dump(dir)]);
  t.is(r.code, 1);
  t.regex(r.err, /^xray-lp: Database .* has schema version 999/);
  t.notRegex(r.err, /\n\s+at /);
});

test('the built binary ingests from stdin and neutralises control characters in messages', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'bin.db');
  const evil = writeFile(dir, 'evil\u001b[31m.json', '{"hello": 1}');
  const child = await run(process.execPath, [bin, '--db', db, 'ingest', evil]).catch(
    (e: { code: number; stderr: string }) => e,
  );
  t.is((child as { code: number }).code, 3);
  t.regex((child as { stderr: string }).stderr, /evil\\x1b\[31m\.json/);
  t.false((child as { stderr: string }).stderr.includes(String.fromCharCode(27)));
});

test('the built binary: stats --json reports counts and the recorded period', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'bin.db');
  await run(process.execPath, [bin, '--db', db, 'ingest', '-q', dump(dir)]);
  const { stdout } = await run(process.execPath, [bin, '--db', db, 'stats', '--json']);
  const s = JSON.parse(stdout) as Record<string, unknown>;
  t.like(s, { traces: 1, segments: 1, calls: 1, workloads: 1 });
  t.regex(String(s.firstCall), /^\d{4}-\d\d-\d\dT/);
});

test('the progress line shows bytes, share, traces, speed and ETA; data in it is neutralised', (t) => {
  const line = progressLine({
    input: 'dump\u001b[2J.json',
    index: 1,
    inputs: 3,
    bytes: 64 * 1024 * 1024,
    size: 256 * 1024 * 1024,
    traces: 12345,
    totalBytes: 100e6,
    totalSize: 400e6,
    elapsedMs: 10_000,
  });
  t.is(line, 'ingest [2/3] dump\\x1b[2J.json: 64 MiB of 256 MiB (25%), 12,345 traces, 10.0 MB/s, ETA 0:30');
  const stdin = progressLine({
    input: '-',
    index: 0,
    inputs: 1,
    bytes: 1024,
    size: undefined,
    traces: 1,
    totalBytes: 1024,
    totalSize: undefined,
    elapsedMs: 2000,
  });
  t.is(stdin, 'ingest [1/1] -: 1.0 KiB, 1 traces, 0.0 MB/s');
});

test('ingest draws progress on stderr only when it is a terminal', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'x.db');
  const big = writeFile(
    dir,
    'big.json',
    batch(
      Array.from({ length: 3000 }, (_, i) => ({
        id: traceId(100000 + i),
        segments: [
          lambdaSegment(traceId(100000 + i), 'fn', [
            awsCall('SQS', 'SendMessage', {
              queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
            }),
          ]),
        ],
      })),
    ),
  );
  const tty = await cli(['--db', db, 'ingest', big], { tty: true });
  t.is(tty.code, 0);
  t.regex(tty.err, /\ringest \[1\/1\] .*big\.json: .* traces, [\d.]+ MB\/s/);
  const pipe = await cli(['--db', path.join(dir, 'y.db'), 'ingest', big]);
  t.is(pipe.err, '');
});
