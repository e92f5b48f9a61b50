/**
 * The large corpus entries, generated at run time into a temp directory: nesting 100,000 levels
 * deep, a 100 MB string, a gzip bomb, a million tiny traces. Each runs through the CLI between
 * two good files.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import test from 'ava';
import { cli, T0, tempDir, traceId } from '../support/helpers.js';
import { bad, GOOD_ONLY, inspect } from './common.js';

const DEPTH = 100_000;

async function ingestBetweenGood(
  file: string,
): Promise<{ code: number; out: string; err: string; db: string }> {
  const db = path.join(path.dirname(file), 'x.db');
  const r = await cli(['--db', db, 'ingest', '-q', bad('good-1.json'), file, bad('good-2.json')]);
  return { ...r, db };
}

/** `levels` nested subsegments with an AWS call at the bottom. */
function deepDocument(trace: string, levels: number): string {
  const open: string[] = [];
  for (let i = 0; i < levels; i++) open.push(`{"id":"n${i}","name":"n","start_time":${T0},"subsegments":[`);
  const leaf = `{"id":"leaf","name":"DynamoDB","namespace":"aws","start_time":${T0},"aws":{"operation":"GetItem","region":"eu-west-1","table_name":"deep"}}`;
  return `{"id":"root","trace_id":"${trace}","name":"deep","origin":"AWS::EC2::Instance","start_time":${T0},"subsegments":[${open.join('')}${leaf}${']}'.repeat(levels)}]}`;
}

test('a segment nested 100,000 levels deep inside a Document string is walked without recursion', async (t) => {
  const dir = tempDir();
  const id = traceId(501);
  const file = path.join(dir, 'deep-string.json');
  fs.writeFileSync(
    file,
    JSON.stringify({ Traces: [{ Id: id, Segments: [{ Id: 'root', Document: deepDocument(id, DEPTH) }] }] }),
  );
  const { code, err, db } = await ingestBetweenGood(file);
  t.is(code, 0, err);
  const state = inspect(db);
  // The call at the bottom is found; the 100,000 plain subsegments are not calls.
  t.like(state, { traces: 3, calls: GOOD_ONLY.calls + 1, integrity: 'ok' });
});

test('JSON nested 100,000 levels deep is refused at the 10,000th level with its position', async (t) => {
  const dir = tempDir();
  const id = traceId(502);
  const file = path.join(dir, 'deep-object.json');
  const prefix = `{"Traces":[{"Id":"${id}","Segments":[{"Id":"r","Document":`;
  fs.writeFileSync(file, `${prefix}${deepDocument(id, DEPTH)}}]}]}`);
  const { code, err, db } = await ingestBetweenGood(file);
  t.is(code, 3);
  // Depth 10,001 is the `[` closing the opener of subsegment n4996: 7 levels above it, 2 per opener.
  const opener = `{"id":"n4996","name":"n","start_time":${T0},"subsegments":[`;
  const column = prefix.length + deepDocument(id, DEPTH).indexOf(opener) + opener.length;
  t.true(
    err.includes(
      `rejected ${file}:1:${column}: nesting deeper than 10000 levels; no X-Ray document nests this deep`,
    ),
    err,
  );
  t.like(inspect(db), { ...GOOD_ONLY, integrity: 'ok' });
});

test('a single 100 MB string is read in bounded parts and not stored', async (t) => {
  const dir = tempDir();
  const id = traceId(503);
  const file = path.join(dir, 'big-string.json');
  const huge = 'A'.repeat(100 * 1024 * 1024);
  const doc = {
    id: 'big',
    trace_id: id,
    name: huge,
    origin: 'AWS::EC2::Instance',
    start_time: T0,
    subsegments: [
      {
        id: 'call',
        name: 'S3',
        namespace: 'aws',
        start_time: T0,
        aws: { operation: 'GetObject', region: 'eu-west-1', bucket_name: 'b', key: 'k' },
      },
    ],
  };
  fs.writeFileSync(file, JSON.stringify({ Traces: [{ Id: id, Segments: [{ Id: 'big', Document: doc }] }] }));
  const { code, err, db } = await ingestBetweenGood(file);
  t.is(code, 0, err);
  t.like(inspect(db), { traces: 3, calls: GOOD_ONLY.calls + 1, integrity: 'ok' });
  const d = new (await import('better-sqlite3')).default(db, { readonly: true });
  // Values longer than 2,048 characters are not identities: nothing that long is stored.
  const longest = d
    .prepare(
      'SELECT max(n) AS n FROM (SELECT max(length(name)) AS n FROM workloads UNION ALL SELECT max(length(name)) FROM segments)',
    )
    .get() as { n: number };
  t.true(longest.n <= 2048);
  d.close();
});

test('a gzip bomb stops past 200× inflation with a clear message, after at most ~64 MiB', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'bomb.json.gz');
  fs.writeFileSync(file, zlib.gzipSync(Buffer.alloc(256 * 1024 * 1024, 0x20), { level: 9 }));
  const { code, err, db } = await ingestBetweenGood(file);
  t.is(code, 3);
  t.true(err.includes(`rejected ${file}: gzip data inflates more than 200× (`), err);
  t.true(err.includes('refusing what looks like a gzip bomb'), err);
  t.true(err.includes('hint: decompress it yourself if it is genuine'), err);
  // Stopped early: the inflated size at the stop is just past the 64 MiB floor, not 256 MiB.
  const inflated = Number(/\((\d+) bytes from/.exec(err)?.[1]);
  t.true(inflated > 64 * 1024 * 1024 && inflated <= 66 * 1024 * 1024, err);
  t.like(inspect(db), { ...GOOD_ONLY, integrity: 'ok' });
});

test('a million tiny traces are ingested in bounded memory with exact counts', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'million.json');
  const fd = fs.openSync(file, 'w');
  let chunk = '[';
  for (let i = 0; i < 1_000_000; i++) {
    chunk += `${i ? ',' : ''}{"Id":"1-00000001-${i.toString(16).padStart(24, '0')}","Segments":[]}\n`;
    if (chunk.length > 1 << 20) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  }
  fs.writeSync(fd, `${chunk}]`);
  fs.closeSync(fd);
  const { code, err, db } = await ingestBetweenGood(file);
  t.is(code, 0, err);
  t.like(inspect(db), { traces: 1_000_002, calls: GOOD_ONLY.calls, integrity: 'ok' });
});
