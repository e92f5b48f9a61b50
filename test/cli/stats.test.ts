import path from 'node:path';
import test from 'ava';
import { awsCall, batch, cli, lambdaSegment, tempDir, traceId, writeFile } from '../support/helpers.js';

async function seeded(): Promise<string> {
  const dir = tempDir();
  const db = path.join(dir, 's.db');
  const id = traceId(3);
  const f = writeFile(
    dir,
    'd.json',
    batch([
      {
        id,
        segments: [
          lambdaSegment(id, 'fn', [
            awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' }),
            awsCall(
              'S3',
              'PutObject',
              { bucket_name: 'b', key: 'k' },
              { http: { response: { status: 403 } } },
            ),
          ]),
        ],
      },
    ]),
  );
  await cli(['--db', db, 'ingest', '-q', f]);
  return db;
}

test('stats prints counts, period and outcomes', async (t) => {
  const db = await seeded();
  const r = await cli(['--db', db, 'stats']);
  t.is(r.code, 0);
  t.regex(r.out, /traces 1, segments 1, AWS calls 2, workloads 1/);
  t.regex(r.out, /outcomes: denied 1, ok 1/);
});

test('sources lists each ingest with its checksum', async (t) => {
  const db = await seeded();
  const r = await cli(['--db', db, 'sources', '--json']);
  const rows = JSON.parse(r.out) as { sha256: string; calls: number; shape: string }[];
  t.is(rows.length, 1);
  t.regex(rows[0]!.sha256, /^[0-9a-f]{64}$/);
  t.like(rows[0], { calls: 2, shape: 'batch-get-traces' });
});

test('principals lists the workload', async (t) => {
  const db = await seeded();
  const r = await cli(['--db', db, 'principals', '--json']);
  const rows = JSON.parse(r.out) as { kind: string; name: string; calls: number; denied: number }[];
  t.deepEqual(
    rows.map((p) => [p.kind, p.name, p.calls, p.denied]),
    [['lambda', 'fn', 2, 1]],
  );
});

test('query commands on a missing database say to ingest first (exit 1)', async (t) => {
  const r = await cli(['--db', path.join(tempDir(), 'none.db'), 'stats']);
  t.is(r.code, 1);
  t.regex(r.err, /No database at .* Run `xray-lp ingest <dump>` first/);
});
