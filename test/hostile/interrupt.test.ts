/**
 * Interrupts of the writers and of merge, on the built binary (`dist/cli/main.js`, built by
 * `npm test`'s pretest), at random but reproducible points: SIGINT stops cleanly (exit 130, says
 * what it undid, nothing published, no temporary left, a merge rolled back); after SIGKILL the
 * next run removes what was left, says so, and writes exactly what an uninterrupted run writes.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { temporaryName } from '../../src/shared/files.js';
import {
  awsCall,
  batch,
  cli,
  lambdaSegment,
  temporaries,
  tempDir,
  traceId,
  tree,
} from '../support/helpers.js';
import { inspect, mainJs, rng } from './common.js';

/** A dump folder of `files` files of 400 traces, ids from `base`: disjoint for disjoint bases. */
function dumps(base: number, files: number): string {
  const dir = path.join(tempDir(), 'dumps');
  fs.mkdirSync(dir);
  for (let f = 0; f < files; f++) {
    const traces = [];
    for (let i = 0; i < 400; i++) {
      const n = base + f * 400 + i;
      const id = traceId(n);
      traces.push({
        id,
        segments: [
          lambdaSegment(id, `fn-${n % 200}`, [
            awsCall('DynamoDB', 'PutItem', { table_name: `t${i % 7}` }),
            awsCall('S3', 'GetObject', { bucket_name: 'b', key: `k/${n}` }),
          ]),
        ],
      });
    }
    fs.writeFileSync(path.join(dir, `part-${f}.json`), batch(traces, { pretty: false }));
  }
  return dir;
}

function run(args: string[]): { code: number | null; out: string; err: string; ms: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [mainJs, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr, ms: Date.now() - started };
}

/** Database shards, ingested once for every test of this file. */
const shards = (() => {
  let made: Promise<string[]> | undefined;
  return (): Promise<string[]> =>
    (made ??= Promise.resolve().then(() =>
      [0, 1, 2].map((s) => {
        const db = path.join(tempDir(), `shard-${s}.db`);
        const r = run(['--db', db, 'ingest', '-q', dumps(1_000_000 * (s + 1), 12)]);
        if (r.code !== 0) throw new Error(r.err);
        return db;
      }),
    ));
})();

const SEED = Number(process.env.XRAY_LP_KILL_SEED ?? 20_261_207);

/**
 * Starts the binary and sends `signal` `delay` ms after `ready()` first holds (polled every 5
 * ms: an interrupt meant to land while the command works waits for its first temporary);
 * resolves with how it ended and its stderr.
 */
function killed(
  args: string[],
  signal: NodeJS.Signals,
  delay: number,
  ready: () => boolean = () => true,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      if (!ready()) return;
      clearInterval(poll);
      timer = setTimeout(() => child.kill(signal), delay);
    }, 5);
    child.on('exit', (code, sig) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal: sig, err });
    });
  });
}

/** A writer under test: its arguments for an output under `root`, and what it wrote there. */
interface Case {
  name: string;
  args: (db: string, root: string) => string[];
  /** What an uninterrupted run leaves under `root`, to compare with (names only). */
  result: (root: string) => string[];
  /** The message of a clean interrupt. */
  said: RegExp;
}

const CASES: Case[] = [
  {
    name: 'export',
    args: (db, root) => ['--db', db, 'export', '--out', path.join(root, 'exp')],
    result: (root) => tree(root),
    said: /export interrupted: nothing was published to .*; its temporary files were removed/,
  },
  {
    name: 'report',
    args: (db, root) => ['--db', db, 'report', '--out', path.join(root, 'r.html')],
    result: (root) => tree(root),
    said: /report interrupted: .*r\.html was not written \(left as it was\); its temporary file was removed/,
  },
  {
    name: 'policy --out',
    args: (db, root) => ['--db', db, 'policy', '--out', path.join(root, 'pol')],
    result: (root) => tree(root),
    said: /policy interrupted: nothing was published to .*pol \(left as it was\)/,
  },
];

for (const c of CASES) {
  test.serial(
    `${c.name} interrupted at random points: SIGINT cleans up and says so; after SIGKILL the rerun does`,
    async (t) => {
      t.timeout(180_000);
      const [db] = await shards();
      const baseRoot = tempDir();
      const base = run(c.args(db as string, baseRoot));
      t.is(base.code, 0, base.err);
      const expected = c.result(baseRoot);
      t.true(expected.length > 0);
      const random = rng(SEED);
      t.log(`uninterrupted ${c.name}: ${base.ms} ms; kill seed ${SEED}`);
      let clean = 0;
      for (const signal of ['SIGINT', 'SIGKILL', 'SIGINT', 'SIGKILL', 'SIGINT', 'SIGKILL'] as const) {
        let root = tempDir();
        // SIGINT once the command works (its first temporary is there), SIGKILL anywhere.
        let delay =
          signal === 'SIGINT'
            ? Math.floor(random() * base.ms * 0.3)
            : Math.floor(150 + random() * Math.max(100, base.ms - 150));
        const working = (): boolean => signal === 'SIGKILL' || temporaries(root).length > 0;
        let k = await killed(c.args(db as string, root), signal, delay, working);
        t.log(`${signal} after ${delay} ms: ${k.signal ?? `exit ${k.code}`}`);
        // Finished before the interrupt landed (a loaded machine): again, sooner, a few times.
        for (let retry = 0; signal === 'SIGINT' && k.code === 0 && retry < 4; retry++) {
          t.deepEqual(c.result(root), expected);
          root = tempDir();
          delay = Math.floor(delay / 3);
          k = await killed(c.args(db as string, root), signal, delay, working);
          t.log(`  again, SIGINT after ${delay} ms: ${k.signal ?? `exit ${k.code}`}`);
        }
        if (signal === 'SIGINT' && k.code === 130) {
          clean++;
          t.regex(k.err, c.said);
          t.notRegex(k.err, /internal error|\n\s+at /);
          // Nothing published, nothing temporary left.
          t.deepEqual(tree(root), [], k.err);
        } else if (k.code === 0) {
          // Finished before the signal: whole.
          t.deepEqual(c.result(root), expected);
        }
        if (k.code === 0) continue;
        const left = temporaries(root);
        const again = run(c.args(db as string, root));
        if (k.signal === 'SIGKILL' && again.code === 2 && /already exists/.test(again.err))
          // Killed after its last file was published: complete, and another export is refused.
          t.deepEqual(c.result(root), expected);
        else t.is(again.code, 0, again.err);
        t.deepEqual(temporaries(root), []);
        t.deepEqual(c.result(root), expected);
        // What a killed run left is removed by the rerun, which says so (and only then: stderr
        // also carries what the command itself reports, such as policy --out's warning counts).
        if (left.length > 0) t.regex(again.err, /removed .*interrupted/);
        else t.notRegex(again.err, /removed .*interrupted/);
      }
      t.log(`${clean} of 3 SIGINTs stopped ${c.name} while it worked`);
      t.true(clean > 0, 'at least one interrupt lands while the command works');
    },
  );
}

test.serial(
  'merge interrupted at random points: SIGINT rolls back (target as it was), SIGKILL too; the rerun completes',
  async (t) => {
    t.timeout(180_000);
    const [a, b, c] = (await shards()) as [string, string, string];
    const start = path.join(tempDir(), 'start.db');
    t.is(run(['--db', start, 'merge', '-q', a]).code, 0);
    const before = inspect(start);
    const full = path.join(tempDir(), 'full.db');
    fs.copyFileSync(start, full);
    const base = run(['--db', full, 'merge', '-q', b, c]);
    t.is(base.code, 0, base.err);
    const after = inspect(full);
    t.true(after.calls > before.calls);
    const random = rng(SEED + 1);
    t.log(`uninterrupted merge: ${base.ms} ms; kill seed ${SEED + 1}`);
    let clean = 0;
    const counts = (s: ReturnType<typeof inspect>) => ({
      traces: s.traces,
      calls: s.calls,
      segments: s.segments,
    });
    for (const signal of ['SIGINT', 'SIGKILL', 'SIGINT', 'SIGKILL', 'SIGINT', 'SIGKILL'] as const) {
      const target = path.join(tempDir(), 't.db');
      fs.copyFileSync(start, target);
      const wal = `${target}-wal`;
      // SIGINT once the merge has opened the target (its WAL is there), SIGKILL anywhere.
      let delay =
        signal === 'SIGINT'
          ? Math.floor(random() * base.ms * 0.3)
          : Math.floor(150 + random() * Math.max(100, base.ms - 150));
      const opened = (): boolean => signal === 'SIGKILL' || fs.existsSync(wal);
      let k = await killed(['--db', target, 'merge', '-q', b, c], signal, delay, opened);
      // Finished before the interrupt landed (a loaded machine): again, sooner, a few times.
      for (let retry = 0; signal === 'SIGINT' && k.code === 0 && retry < 4; retry++) {
        t.deepEqual(counts(inspect(target)), counts(after));
        fs.rmSync(wal, { force: true });
        fs.rmSync(`${target}-shm`, { force: true });
        fs.copyFileSync(start, target);
        delay = Math.floor(delay / 3);
        k = await killed(['--db', target, 'merge', '-q', b, c], signal, delay, opened);
        t.log(`  again, SIGINT after ${delay} ms: ${k.signal ?? `exit ${k.code}`}`);
      }
      const now = inspect(target);
      t.log(`${signal} after ${delay} ms: ${k.signal ?? `exit ${k.code}`}`);
      t.is(now.integrity, 'ok');
      if (k.code === 0) t.deepEqual(counts(now), counts(after));
      else if (k.code === 130 && /as it finished/.test(k.err)) {
        // After the merge's last look at the flag: committed, and said so.
        t.deepEqual(counts(now), counts(after));
      } else if (k.code === 130) {
        clean++;
        t.regex(k.err, /merge interrupted: rolled back; .* is as it was/);
        t.deepEqual(counts(now), counts(before));
      } else
        t.true(
          [counts(before), counts(after)].some((x) => JSON.stringify(x) === JSON.stringify(counts(now))),
        );
      const again = run(['--db', target, 'merge', '-q', b, c]);
      t.is(again.code, 0, again.err);
      t.deepEqual(counts(inspect(target)), counts(after));
    }
    t.log(`${clean} of 3 SIGINTs rolled the merge back`);
    t.true(clean > 0, 'at least one interrupt lands while the merge works');
  },
);

test('merge honours an interrupt: rolled back, the target as it was, exit 130 saying so (in-process)', async (t) => {
  const [a, b] = (await shards()) as [string, string, string];
  const target = path.join(tempDir(), 't.db');
  t.is(run(['--db', target, 'merge', '-q', a]).code, 0);
  const before = inspect(target);
  const controller = new AbortController();
  controller.abort('SIGINT');
  const r = await cli(['--db', target, 'merge', b], { signal: controller.signal });
  t.is(r.code, 130, r.err);
  t.regex(r.err, /merge interrupted: rolled back; .*t\.db is as it was/);
  t.is(r.out, '');
  t.deepEqual(inspect(target), before);
});

test.serial(
  'merge: the migrated shard copies a killed merge left in the temporary folder are removed by the next merge, which says so',
  async (t) => {
    const [a] = (await shards()) as [string, string, string];
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const stale = path.join(os.tmpdir(), temporaryName('stage').replace(`-${process.pid}-`, `-${dead}-`));
    fs.mkdirSync(stale);
    fs.writeFileSync(path.join(stale, 'shard-0.db'), 'a migrated copy, half written');
    const r = await cli(['--db', path.join(tempDir(), 't.db'), 'merge', '-q', a]);
    t.is(r.code, 0, r.err);
    t.regex(r.err, new RegExp(`removed ${stale.replace(/[.]/g, '\\.')}, left by an interrupted run`));
    t.false(fs.existsSync(stale));
  },
);
