/**
 * Merge benchmark: ingesting shards apart and merging them, against ingesting the same dumps
 * into one database.
 *
 *   node --import tsx bench/merge.ts [--size 512MB] [--shards 8] [--seed 1] [--runs 1] [--keep]
 *
 * One concatenated dump of `--size` (test/support/generator.ts, the bench's X-Ray dumps: 1,000
 * workloads over 30 days) is cut at document boundaries into `--shards` dumps of about equal
 * size (bench/out/merge-<size>-<shards>-seed<seed>/, reused while the dump is the same): each
 * shard then holds traces of every workload and day, as shards of one fleet exported by period
 * or by team would. Timed, each as the CLI in its own process (wall clock, peak RSS):
 *   single   `ingest --db single.db <every shard dump>`: one run, one database
 *   shards   `ingest --db shard-i.db <shard dump i>` for each shard (the sum and the slowest)
 *   merge    `merge --db merged.db <every shard database>` into a new database (rollups rebuilt whole)
 *   touched  the same merge recomputing the touched (workload, day) pairs instead (mergeShards
 *            with rollups: 'touched', in a child process): what the default does not pick for a
 *            new target, measured to show why
 *   into     the same merge into a target holding the first shard already (touched pairs)
 * and checked: `stats --json` and `workloads --json` (ids aside) of the merged database equal
 * those of the single one. The ratio that matters: single / merge, re-ingesting the data against
 * merging the databases made from it.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  openSync,
  closeSync,
  readSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import {
  GENERATOR_VERSION,
  parseSize,
  resolveOptions,
  writeDump,
  type DumpMeta,
} from '../test/support/generator.js';
import { dbSize, runChild, timing, warm, type Timing } from './child.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench', 'out');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const MB = 1024 * 1024;

/** Options of {@link runMergeBench}. */
export interface MergeBenchOptions {
  /** Size of the whole dump, cut into the shards. */
  sizeBytes: number;
  shards: number;
  seed: number;
  /** Runs of each timing (the fastest is kept). */
  runs: number;
  /** Keep the databases (in the printed directory). */
  keep: boolean;
  log?: (line: string) => void;
}

export const DEFAULT_MERGE_BENCH: MergeBenchOptions = {
  sizeBytes: 512 * MB,
  shards: 8,
  seed: 1,
  runs: 1,
  keep: false,
};

/** One timed step. */
export type MergeTiming = Timing;

/** What {@link runMergeBench} measured. */
export interface MergeBenchResult {
  sizeBytes: number;
  shards: number;
  dump: { traces: number; segments: number; calls: number; workloads: number };
  /** Calls stored (the single database's count). */
  storedCalls: number;
  single: MergeTiming;
  /** Each shard's ingest, and their sum. */
  shardIngests: MergeTiming[];
  shardsSeconds: number;
  merge: MergeTiming;
  mergeTouched: MergeTiming;
  mergeInto: MergeTiming;
  /** single.seconds / merge.seconds. */
  mergeVsReingest: number;
  /** merge.seconds / mergeTouched.seconds (below 1: rebuilding whole is faster). */
  rebuildVsTouched: number;
  dbBytes: { single: number; shards: number; merged: number };
  /** The merged database answers `stats` and `workloads` as the single one does. */
  same: boolean;
}

const sizeLabel = (bytes: number): string =>
  bytes % (1024 * MB) === 0 ? `${bytes / 1024 / MB}GB` : `${Math.round(bytes / MB)}MB`;

/** The bench's concatenated X-Ray dump of this size, generated once (as bench/run.ts does). */
async function ensureDump(
  sizeBytes: number,
  seed: number,
  log: (l: string) => void,
): Promise<{ file: string; meta: DumpMeta }> {
  const file = path.join(OUT, `dump-${sizeLabel(sizeBytes)}-concatenated-seed${seed}.json`);
  const options = resolveOptions({ sizeBytes, layout: 'concatenated', seed });
  try {
    const meta = JSON.parse(readFileSync(`${file}.meta.json`, 'utf8')) as DumpMeta;
    if (
      meta.generatorVersion === GENERATOR_VERSION &&
      isDeepStrictEqual(meta.options, options) &&
      !meta.gzip &&
      statSync(file).size === meta.fileBytes
    )
      return { file, meta };
  } catch {
    // generate
  }
  log(`generating ${file} ...`);
  return { file, meta: await writeDump(options, file) };
}

/**
 * The dump cut into `n` files of about equal size at document boundaries (`}` alone on a line,
 * then `{`), streamed: the dump may be larger than a string can hold.
 */
function ensureShardDumps(dump: { file: string; meta: DumpMeta }, n: number): string[] {
  const dir = path.join(
    OUT,
    `merge-${sizeLabel(dump.meta.options.sizeBytes)}-${n}-seed${dump.meta.options.seed}`,
  );
  const files = Array.from({ length: n }, (_x, i) =>
    path.join(dir, `shard-${String(i).padStart(2, '0')}.json`),
  );
  const done = path.join(dir, '.complete');
  if (existsSync(done) && readFileSync(done, 'utf8') === dump.meta.sha256) return files;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const total = statSync(dump.file).size;
  const share = (k: number): number => Math.round((total * (k + 1)) / n);
  const boundary = Buffer.from('\n}\n{');
  const input = openSync(dump.file, 'r');
  const buf = Buffer.alloc(8 * MB);
  let carry = Buffer.alloc(0);
  /** Offset in the dump of data[0]. */
  let pos = 0;
  let part = 0;
  let out = openSync(files[0] as string, 'w');
  try {
    for (;;) {
      const got = readSync(input, buf, 0, buf.length, null);
      const data = Buffer.concat([carry, buf.subarray(0, got)]);
      let start = 0;
      for (let at = data.indexOf(boundary); at !== -1 && part < n - 1; at = data.indexOf(boundary, at + 1)) {
        const end = at + 3; // through "\n}\n": the next document starts a new file
        if (pos + end < share(part)) continue;
        writeSync(out, data.subarray(start, end));
        start = end;
        closeSync(out);
        out = openSync(files[++part] as string, 'w');
      }
      if (got === 0) {
        writeSync(out, data.subarray(start));
        break;
      }
      // Keep a tail that may hold the start of a boundary.
      const keep = Math.min(data.length - start, boundary.length - 1);
      writeSync(out, data.subarray(start, data.length - keep));
      carry = Buffer.from(data.subarray(data.length - keep));
      pos += data.length - keep;
    }
  } finally {
    closeSync(input);
    closeSync(out);
  }
  if (part !== n - 1) throw new Error(`the dump has too few documents for ${n} shards`);
  writeFileSync(done, dump.meta.sha256);
  return files;
}

async function best(runs: number, f: () => Promise<MergeTiming>): Promise<MergeTiming> {
  let keep: MergeTiming | undefined;
  for (let i = 0; i < runs; i++) {
    const t = await f();
    if (!keep || t.seconds < keep.seconds) keep = t;
  }
  return keep as MergeTiming;
}

const fresh = (file: string): void => {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
};

/** Runs the merge benchmark (see the comment at the top). */
export async function runMergeBench(partial: Partial<MergeBenchOptions> = {}): Promise<MergeBenchResult> {
  const o = { ...DEFAULT_MERGE_BENCH, ...partial };
  const log = o.log ?? ((): void => undefined);
  if (!existsSync(CLI)) throw new Error(`${CLI} not found (run npm run build)`);
  mkdirSync(OUT, { recursive: true });
  const dump = await ensureDump(o.sizeBytes, o.seed, log);
  const parts = ensureShardDumps(dump, o.shards);
  const dir = mkdtempSync(path.join(tmpdir(), 'xray-lp-merge-bench-'));
  const node = process.execPath;
  try {
    const single = path.join(dir, 'single.db');
    const shards = parts.map((_p, i) => path.join(dir, `shard-${i}.db`));
    const merged = path.join(dir, 'merged.db');

    log(`${sizeLabel(o.sizeBytes)} in ${o.shards} shards: ingest into one database ...`);
    const singleT = await best(o.runs, async () => {
      fresh(single);
      for (const p of parts) warm(p);
      return timing(
        await runChild(node, [CLI, '--db', single, 'ingest', '--quiet', ...parts]),
        'ingest single',
      );
    });
    log(`  ${singleT.seconds.toFixed(2)} s; each shard into its own database ...`);
    const shardT: MergeTiming[] = [];
    for (const [i, p] of parts.entries()) {
      shardT.push(
        await best(o.runs, async () => {
          fresh(shards[i] as string);
          warm(p);
          return timing(
            await runChild(node, [CLI, '--db', shards[i] as string, 'ingest', '--quiet', p]),
            `ingest shard ${i}`,
          );
        }),
      );
    }
    const shardsSeconds = shardT.reduce((a, t) => a + t.seconds, 0);
    log(`  ${shardsSeconds.toFixed(2)} s in all; merge ...`);
    for (const s of shards) warm(s);
    const mergeT = await best(o.runs, async () => {
      fresh(merged);
      return timing(await runChild(node, [CLI, '--db', merged, 'merge', '--quiet', ...shards]), 'merge');
    });
    log(`  ${mergeT.seconds.toFixed(2)} s; the same recomputing the touched days ...`);
    const touched = path.join(dir, 'touched.db');
    const touchedT = await best(o.runs, async () => {
      fresh(touched);
      return timing(
        await runChild(node, [
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          'child-merge',
          touched,
          'touched',
          ...shards,
        ]),
        'merge (touched)',
      );
    });
    log(`  ${touchedT.seconds.toFixed(2)} s; into a target holding the first shard ...`);
    const into = path.join(dir, 'into.db');
    const intoT = await best(o.runs, async () => {
      fresh(into);
      const first = await runChild(node, [CLI, '--db', into, 'merge', '--quiet', shards[0] as string]);
      timing(first, 'merge first shard');
      return timing(
        await runChild(node, [CLI, '--db', into, 'merge', '--quiet', ...shards.slice(1)]),
        'merge into',
      );
    });
    log(`  ${intoT.seconds.toFixed(2)} s; checking ...`);

    const answer = async (db: string, command: string): Promise<unknown> => {
      const r = await runChild(node, [CLI, '--db', db, command, '--json']);
      timing(r, command);
      const v = JSON.parse(r.stdout) as unknown;
      return command === 'workloads' ? (v as { id: number }[]).map(({ id: _id, ...w }) => w) : v;
    };
    let same = true;
    for (const db of [merged, touched, into])
      for (const command of ['stats', 'workloads'])
        if (!isDeepStrictEqual(await answer(db, command), await answer(single, command))) {
          same = false;
          log(`  DIFFERENT: ${command} of ${path.basename(db)}`);
        }
    const stats = (await answer(single, 'stats')) as { calls: number };
    return {
      sizeBytes: o.sizeBytes,
      shards: o.shards,
      dump: {
        traces: dump.meta.traces,
        segments: dump.meta.segments,
        calls: dump.meta.calls,
        workloads: dump.meta.workloads,
      },
      storedCalls: stats.calls,
      single: singleT,
      shardIngests: shardT,
      shardsSeconds,
      merge: mergeT,
      mergeTouched: touchedT,
      mergeInto: intoT,
      mergeVsReingest: singleT.seconds / mergeT.seconds,
      rebuildVsTouched: mergeT.seconds / touchedT.seconds,
      dbBytes: {
        single: dbSize(single),
        shards: shards.reduce((a, s) => a + dbSize(s), 0),
        merged: dbSize(merged),
      },
      same,
    };
  } finally {
    if (o.keep) log(`databases kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** The lines bench/run.ts and this script print. */
export function mergeBenchLines(r: MergeBenchResult): string[] {
  const t = (m: MergeTiming): string =>
    `${m.seconds.toFixed(2).padStart(7)} s${m.peakRssMB === undefined ? '' : `, peak RSS ${m.peakRssMB.toFixed(0)} MB`}`;
  const slowest = r.shardIngests.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  return [
    `${sizeLabel(r.sizeBytes)} of X-Ray dumps (${r.dump.traces.toLocaleString('en')} traces, ${r.storedCalls.toLocaleString('en')} calls stored, ${r.dump.workloads} workloads) in ${r.shards} shards:`,
    `  ingest into one database          ${t(r.single)}`,
    `  ingest each shard apart (sum)     ${r.shardsSeconds.toFixed(2).padStart(7)} s (slowest ${slowest.seconds.toFixed(2)} s)`,
    `  merge the ${r.shards} databases (new)      ${t(r.merge)}  = ${r.mergeVsReingest.toFixed(1)}x faster than re-ingesting`,
    `  the same, touched days recomputed ${t(r.mergeTouched)}  (rebuilding whole: ${r.rebuildVsTouched.toFixed(2)}x the time)`,
    `  merge ${r.shards - 1} into one holding the 1st  ${t(r.mergeInto)}`,
    `  databases: one ${(r.dbBytes.single / MB).toFixed(0)} MB, shards ${(r.dbBytes.shards / MB).toFixed(0)} MB in all, merged ${(r.dbBytes.merged / MB).toFixed(0)} MB; merged answers as one: ${r.same ? 'yes' : 'NO'}`,
  ];
}

function parseArgs(argv: string[]): Partial<MergeBenchOptions> {
  const out: Partial<MergeBenchOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--size') out.sizeBytes = parseSize(v());
    else if (a === '--shards') out.shards = Number(v());
    else if (a === '--seed') out.seed = Number(v());
    else if (a === '--runs') out.runs = Math.max(1, Number(v()));
    else if (a === '--keep') out.keep = true;
    else throw new Error(`unknown option ${a}; see the comment at the top of bench/merge.ts`);
  }
  return out;
}

/** `child-merge TARGET ROLLUPS SHARD...`: mergeShards in this process (a rollups method the CLI does not expose). */
async function childMerge(args: string[]): Promise<void> {
  const [target, rollups, ...shards] = args;
  const { openStore } = await import('../src/store/db.js');
  const { mergeShards } = await import('../src/store/merge/merge.js');
  const store = openStore({ path: target as string });
  try {
    mergeShards(store, { shards, rollups: rollups as 'touched' | 'rebuild' });
  } finally {
    store.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const main =
    argv[0] === 'child-merge'
      ? childMerge(argv.slice(1))
      : runMergeBench({ ...parseArgs(argv), log: (l) => console.error(l) }).then((r) => {
          for (const l of mergeBenchLines(r)) console.log(l);
          writeFileSync(path.join(OUT, 'merge-results.json'), `${JSON.stringify(r, null, 2)}\n`);
        });
  main.catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
