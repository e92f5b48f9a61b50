/**
 * Faults around an ingest: killed half-way (SIGINT, SIGKILL), two ingests and a query at once,
 * unwritable or missing database paths, a full disk. These spawn the built binary
 * (`dist/cli/main.js`, built by `npm test`'s pretest) so that processes really die and compete.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import test from 'ava';
import { reportError, type CliIO } from '../../src/cli/io.js';
import { ingest } from '../../src/ingest/ingest.js';
import { openStore } from '../../src/store/db.js';
import { awsCall, batch, cli, lambdaSegment, tempDir, traceId } from '../support/helpers.js';
import { bad, GOOD_ONLY, inspect, mainJs, rng } from './common.js';

const FILES = 24;
const TRACES_PER_FILE = 400;

/** A folder of disjoint dump files: each file's traces are its own, so counts add up exactly. */
function dumpFolder(): string {
  const dir = path.join(tempDir(), 'dumps');
  fs.mkdirSync(dir);
  for (let f = 0; f < FILES; f++) {
    const traces = [];
    for (let i = 0; i < TRACES_PER_FILE; i++) {
      const id = traceId(100_000 + f * TRACES_PER_FILE + i);
      traces.push({
        id,
        segments: [
          lambdaSegment(id, `fn-${f % 5}`, [
            awsCall('DynamoDB', 'PutItem', { table_name: `t${i % 7}` }),
            awsCall('SQS', 'SendMessage', {
              queue_url: `https://sqs.eu-west-1.amazonaws.com/123456789012/q${f}`,
            }),
          ]),
        ],
      });
    }
    fs.writeFileSync(
      path.join(dir, `part-${String(f).padStart(3, '0')}.json`),
      batch(traces, { pretty: false }),
    );
  }
  return dir;
}

/** The schema version a database file records (0: no schema yet). */
function schemaVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [mainJs, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const EXPECTED = {
  traces: FILES * TRACES_PER_FILE,
  segments: FILES * TRACES_PER_FILE,
  calls: 2 * FILES * TRACES_PER_FILE,
  workloads: 5,
};

test.serial(
  'ingest killed by SIGINT or SIGKILL at random points: whole files only, integrity ok, re-run completes exactly',
  async (t) => {
    t.timeout(90_000);
    const dumps = dumpFolder();
    const baselineDb = path.join(tempDir(), 'baseline.db');
    const started = Date.now();
    const base = run(['--db', baselineDb, 'ingest', '-q', dumps]);
    const duration = Date.now() - started;
    t.is(base.code, 0, base.err);
    t.like(inspect(baselineDb), EXPECTED);
    const seed = Number(process.env.XRAY_LP_KILL_SEED ?? 20_251_118);
    const random = rng(seed);
    t.log(`uninterrupted ingest: ${duration} ms; kill seed ${seed}`);
    for (const signal of ['SIGINT', 'SIGKILL', 'SIGINT', 'SIGKILL'] as const) {
      const db = path.join(tempDir(), 'x.db');
      const delay = Math.floor(200 + random() * Math.max(100, duration - 200));
      const child = spawn(process.execPath, [mainJs, '--db', db, 'ingest', '-q', dumps], { stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
        child.on('exit', (code, sig) => resolve(sig ?? code)),
      );
      setTimeout(() => child.kill(signal), delay);
      const how = await exited;
      if (!fs.existsSync(db)) {
        t.log(`${signal} after ${delay} ms: killed before the database was created`);
      } else if (schemaVersion(db) === 0) {
        // Killed while the schema was being created: its transaction left nothing but the file.
        t.log(`${signal} after ${delay} ms: killed before the schema was created`);
      } else {
        const state = inspect(db);
        t.log(`${signal} after ${delay} ms (${String(how)}): ${state.sources.length} whole files stored`);
        t.is(state.integrity, 'ok');
        t.is(state.foreignKeys, 0);
        // Only whole files: every stored source brought all of its traces, and nothing else is there.
        t.is(state.traces, state.sources.length * TRACES_PER_FILE);
        t.is(state.calls, state.sources.length * 2 * TRACES_PER_FILE);
      }
      const again = run(['--db', db, 'ingest', '-q', dumps]);
      t.is(again.code, 0, again.err);
      t.like(inspect(db), { ...EXPECTED, integrity: 'ok' });
    }
  },
);

test.serial(
  'two ingests on one database at once and queries during them all finish with exact counts',
  async (t) => {
    t.timeout(90_000);
    const dumps = dumpFolder();
    const files = fs.readdirSync(dumps).map((f) => path.join(dumps, f));
    const db = path.join(tempDir(), 'x.db');
    // Overlapping halves: the middle third is ingested by both, and must still be stored once.
    const a = files.slice(0, (FILES * 2) / 3);
    const b = files.slice(FILES / 3);
    const spawnIngest = (inputs: string[]): Promise<{ code: number | null; err: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [mainJs, '--db', db, 'ingest', '-q', ...inputs]);
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code) => resolve({ code, err }));
      });
    const first = spawnIngest(a);
    const second = spawnIngest(b);
    let done = false;
    const queries: { code: number | null; traces: number }[] = [];
    const querying = (async () => {
      while (!done) {
        const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
          const child = spawn(process.execPath, [mainJs, '--db', db, 'stats', '--json']);
          let out = '';
          let err = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.stderr.on('data', (d: Buffer) => (err += d.toString()));
          child.on('exit', (code) => resolve({ code, out, err }));
        });
        // Before the first ingest has created the database, a query may find none: that is exit 1.
        if (r.code === 1 && /No database at|schema version 0/.test(r.err)) continue;
        t.is(r.code, 0, r.err);
        queries.push({ code: r.code, traces: (JSON.parse(r.out) as { traces: number }).traces });
      }
    })();
    const results = await Promise.all([first, second]);
    done = true;
    await querying;
    for (const r of results) t.is(r.code, 0, r.err);
    t.like(inspect(db), { ...EXPECTED, integrity: 'ok', foreignKeys: 0 });
    t.true(queries.length > 0);
    // Each query saw a committed state: whole files only, growing.
    for (const q of queries) t.is(q.traces % TRACES_PER_FILE, 0);
    for (let i = 1; i < queries.length; i++)
      t.true((queries[i]?.traces ?? 0) >= (queries[i - 1]?.traces ?? 0));
  },
);

test('a read-only database file: clear message, exit 1, the file unchanged', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'x.db');
  t.is((await cli(['--db', db, 'ingest', '-q', bad('good-1.json')])).code, 0);
  // SQLite leaves no -wal file after a clean close; the folder and file become read-only.
  fs.chmodSync(db, 0o444);
  fs.chmodSync(dir, 0o555);
  const before = fs.readFileSync(db);
  // Root ignores file modes through CAP_DAC_OVERRIDE. As root, run the binary without it (and
  // without CAP_DAC_READ_SEARCH): still root, so the checkout is readable wherever it lives (a
  // mode-0700 folder included), but the read-only file and folder now hold.
  const asRoot = process.getuid?.() === 0;
  if (asRoot && !hasSetpriv()) {
    fs.chmodSync(dir, 0o755);
    t.log('skipped: running as root and setpriv (util-linux) is not installed, so file modes cannot hold');
    return t.pass();
  }
  const command = asRoot
    ? ['setpriv', ['--bounding-set=-dac_override,-dac_read_search', '--', process.execPath]]
    : [process.execPath, []];
  const r = spawnSync(
    command[0] as string,
    [...(command[1] as string[]), mainJs, '--db', db, 'ingest', '-q', bad('good-2.json')],
    { encoding: 'utf8' },
  );
  fs.chmodSync(dir, 0o755);
  t.is(r.status, 1, r.stderr);
  t.regex(
    r.stderr,
    /^xray-lp: (Cannot open database .*x\.db: .*(readonly|read-only|unable to open)|database error: .*read-?only)/im,
  );
  t.notRegex(r.stderr, /internal error|\n\s+at /);
  t.deepEqual(fs.readFileSync(db), before);
});

test('a missing database directory: clear message, exit 1, nothing created', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'missing', 'x.db');
  const r = await cli(['--db', db, 'ingest', bad('good-1.json')]);
  t.is(r.code, 1);
  t.true(
    r.err.includes(`Cannot open database ${db}: directory ${path.join(dir, 'missing')} does not exist`),
    r.err,
  );
  t.false(fs.existsSync(path.join(dir, 'missing')));
});

for (const parallel of [false, true]) {
  test(`a full disk (SQLITE_FULL) mid-input: clear message, exit 1, the database keeps what it had${parallel ? ' (file read on the worker thread)' : ''}`, async (t) => {
    const dir = tempDir();
    const file = path.join(dir, 'x.db');
    const store = openStore({ path: file });
    await ingest(store, { inputs: [bad('good-1.json'), bad('good-2.json')] });
    // SQLite's own way to simulate ENOSPC: the file may not grow past its current size.
    const pages = store.pragma('page_count', { simple: true }) as number;
    store.pragma(`max_page_count = ${pages + 2}`);
    const big = path.join(dir, 'big.json');
    const traces = [];
    for (let i = 0; i < 2000; i++) {
      const id = traceId(900_000 + i);
      traces.push({
        id,
        segments: [
          lambdaSegment(id, 'full', [
            awsCall('SNS', 'Publish', { topic_arn: `arn:aws:sns:eu-west-1:123456789012:t${i}` }),
          ]),
        ],
      });
    }
    fs.writeFileSync(big, batch(traces));
    const err = await ingest(store, { inputs: [big], parallel }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.is((err as { code?: string } | undefined)?.code, 'SQLITE_FULL');
    let printed = '';
    const io: CliIO = {
      out: () => undefined,
      err: (s) => (printed += s),
      errIsTTY: false,
      stdin: process.stdin,
      env: {},
      cwd: dir,
    };
    t.is(reportError(io, err), 1);
    t.true(
      printed.includes(
        '(SQLITE_FULL); the disk is full; free space and run the command again (inputs not yet committed were rolled back whole; what is stored is never stored twice)',
      ),
      printed,
    );
    t.false(store.inTransaction);
    store.close();
    t.like(inspect(file), { ...GOOD_ONLY, integrity: 'ok' });
    t.deepEqual(inspect(file).sources, [bad('good-1.json'), bad('good-2.json')]);
  });
}

/** True when util-linux's setpriv is on the PATH. */
function hasSetpriv(): boolean {
  return spawnSync('setpriv', ['--version'], { encoding: 'utf8' }).status === 0;
}
