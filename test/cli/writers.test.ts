/**
 * Every writer (`policy --out`, `report`, `export`) writes the one way src/shared/files.ts does:
 * never through a link already there, never mixing with files it did not write, whole or not at
 * all on a full or read-only file system (a small tmpfs, mounted where root can; skipped with
 * the reason where it cannot), and nothing temporary left behind.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { MANIFEST, temporaryName } from '../../src/shared/files.js';
import { Duck, lit } from '../support/duckdb.js';
import { cli, repoRoot, temporaries, tempDir, tree } from '../support/helpers.js';

const db = (async () => {
  const file = path.join(tempDir(), 's.db');
  const r = await cli(['--db', file, 'ingest', '-q', path.join(repoRoot, 'samples/traces')]);
  if (r.code !== 0) throw new Error(r.err);
  return file;
})();

/** A writer, run into `out` (a folder or a file under the test's root). */
interface Writer {
  name: string;
  /** Where it writes, under `root`. */
  out: (root: string) => string;
  args: (out: string) => string[];
  /** The name of a file it writes inside its folder (folders only). */
  inside?: string;
}

const WRITERS: Writer[] = [
  {
    name: 'policy --out',
    out: (r) => path.join(r, 'pol'),
    args: (o) => ['policy', '--out', o],
    inside: 'orders-api.policy.json',
  },
  {
    name: 'policy --format terraform --out',
    out: (r) => path.join(r, 'tf'),
    args: (o) => ['policy', '--format', 'terraform', '--out', o],
    inside: 'evidence.json',
  },
  { name: 'report', out: (r) => path.join(r, 'review.html'), args: (o) => ['report', '--out', o] },
  {
    name: 'export',
    out: (r) => path.join(r, 'exp'),
    args: (o) => ['export', '--out', o],
    inside: 'workloads/part-00000.parquet',
  },
];

async function run(w: Writer, out: string): Promise<{ code: number; out: string; err: string }> {
  return cli(['--db', await db, ...w.args(out)]);
}

const noStack = (t: ExecutionContext, err: string): void => {
  t.notRegex(err, /internal error|\n\s+at |Unhandled/);
};

for (const w of WRITERS) {
  test(`${w.name}: a link planted where it writes is never followed; the victim is unchanged`, async (t) => {
    const root = tempDir();
    const victim = path.join(root, 'victim');
    fs.writeFileSync(victim, 'precious');
    const out = w.out(root);
    let r;
    if (w.inside) {
      // A link inside the folder, named as a file the writer writes, and another to a new file.
      fs.mkdirSync(path.dirname(path.join(out, w.inside)), { recursive: true });
      fs.symlinkSync(victim, path.join(out, w.inside));
      fs.symlinkSync(path.join(root, 'newfile'), path.join(out, 'evidence.json.link'));
      r = await run(w, out);
      t.is(r.code, 2, r.err);
      t.regex(r.err, /did not write|already exists/);
      t.is(fs.readlinkSync(path.join(out, w.inside)), victim);
    } else {
      // The output file itself is a link: replaced by the report, not written through.
      fs.symlinkSync(victim, out);
      r = await run(w, out);
      t.is(r.code, 0, r.err);
      t.true(fs.lstatSync(out).isFile());
    }
    noStack(t, r.err);
    t.is(fs.readFileSync(victim, 'utf8'), 'precious');
    t.false(fs.existsSync(path.join(root, 'newfile')));
    t.deepEqual(temporaries(root), []);
  });
}

test('export: a folder link inside --out (usage -> elsewhere) is refused; nothing lands outside', async (t) => {
  const root = tempDir();
  const elsewhere = path.join(root, 'elsewhere');
  fs.mkdirSync(elsewhere);
  const out = path.join(root, 'exp');
  fs.mkdirSync(out);
  fs.symlinkSync(elsewhere, path.join(out, 'usage'));
  const r = await cli(['--db', await db, 'export', '--out', out]);
  t.is(r.code, 2, r.err);
  t.regex(r.err, /usage is a link: nothing was written/);
  t.deepEqual(fs.readdirSync(elsewhere), []);
  t.deepEqual(tree(out), ['usage']);
});

test("policy --out: an earlier run's files are replaced as a whole, never mixed in; the manifest lists what is there", async (t) => {
  const out = path.join(tempDir(), 'pol');
  const all = await cli(['--db', await db, 'policy', '--out', out]);
  t.is(all.code, 0, all.err);
  t.true(tree(out).length > 3);
  const one = await cli(['--db', await db, 'policy', '--workload', 'orders-api', '--out', out]);
  t.is(one.code, 0, one.err);
  t.deepEqual(tree(out), [MANIFEST, 'evidence.json', 'orders-api.policy.json']);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, MANIFEST), 'utf8')) as { files: string[] };
  t.deepEqual(manifest.files, ['evidence.json', 'orders-api.policy.json']);
  // A file the user put there: the folder is refused, the file kept.
  fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
  const again = await cli(['--db', await db, 'policy', '--out', out]);
  t.is(again.code, 2);
  t.regex(again.err, /holds a file xray-lp did not write \(notes\.txt\): nothing was written/);
  t.deepEqual(tree(out), [MANIFEST, 'evidence.json', 'notes.txt', 'orders-api.policy.json']);
});

test('report: an existing folder as --out is named as such (exit 2), not an internal EISDIR', async (t) => {
  const dir = path.join(tempDir(), 'a-folder');
  fs.mkdirSync(dir);
  const r = await cli(['--db', await db, 'report', '--out', dir]);
  t.is(r.code, 2);
  t.regex(r.err, /is a folder: give the name of the HTML file to write/);
  noStack(t, r.err);
  t.deepEqual(fs.readdirSync(dir), []);
});

/**
 * A tmpfs of `kib` KiB mounted at a new folder (read-only when asked, after `fill` has written
 * into it), unmounted at the end; undefined, with the reason logged, where it cannot be mounted.
 */
function tmpfs(
  t: ExecutionContext,
  kib: number,
  o: { readonly?: boolean; fill?: (dir: string) => void } = {},
): string | undefined {
  const dir = path.join(tempDir(), 'mnt');
  fs.mkdirSync(dir);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { encoding: 'utf8' });
  if (m.status !== 0) {
    t.log(`skipped: cannot mount a tmpfs here (${(m.stderr || m.error?.message || '').trim()}); needs root`);
    return undefined;
  }
  t.teardown(() => {
    spawnSync('umount', [dir]);
  });
  o.fill?.(dir);
  if (o.readonly) {
    const ro = spawnSync('mount', ['-o', 'remount,ro', dir], { encoding: 'utf8' });
    if (ro.status !== 0) {
      t.log(`skipped: cannot remount the tmpfs read-only (${ro.stderr.trim()})`);
      return undefined;
    }
  }
  return dir;
}

for (const w of WRITERS) {
  for (const where of ['below', 'at'] as const) {
    if (where === 'at' && !w.inside) continue;
    test(`${w.name}: a full disk (tmpfs, output folder ${where} the mount point) is named, exit 1, nothing left`, async (t) => {
      const mnt = tmpfs(t, 24);
      if (!mnt) return t.pass();
      const out = where === 'at' ? mnt : w.out(mnt);
      const r = await run(w, out);
      t.is(r.code, 1, r.err);
      t.regex(r.err, /^xray-lp: no space left on .*\(ENOSPC\): nothing was written there/m);
      noStack(t, r.err);
      t.deepEqual(tree(mnt), [], 'nothing, temporary or partial, is left on the full disk');
    });
  }

  test(`${w.name}: a read-only file system is named, exit 1, nothing changed`, async (t) => {
    const mnt = tmpfs(t, 1024, {
      readonly: true,
      fill: (dir) => fs.writeFileSync(path.join(dir, 'keep'), 'x'),
    });
    if (!mnt) return t.pass();
    const r = await run(w, w.out(mnt));
    t.is(r.code, 1, r.err);
    t.regex(r.err, /read-only file system \(EROFS\)/);
    noStack(t, r.err);
    t.deepEqual(tree(mnt), ['keep']);
  });
}

test('policy --out into a mount point (no sibling to stage in): files renamed in one by one, the earlier set replaced, nothing temporary left', async (t) => {
  const mnt = tmpfs(t, 4096);
  if (!mnt) return t.pass();
  const all = await cli(['--db', await db, 'policy', '--out', mnt]);
  t.is(all.code, 0, all.err);
  t.true(tree(mnt).includes('orders-api.policy.json'));
  const one = await cli(['--db', await db, 'policy', '--workload', 'thumbnailer', '--out', mnt]);
  t.is(one.code, 0, one.err);
  t.deepEqual(tree(mnt), [MANIFEST, 'evidence.json', 'thumbnailer.policy.json']);
  const manifest = JSON.parse(fs.readFileSync(path.join(mnt, MANIFEST), 'utf8')) as { files: string[] };
  t.deepEqual(manifest.files, ['evidence.json', 'thumbnailer.policy.json']);
});

test('policy --out into a full disk replaces nothing: the earlier output stays whole', async (t) => {
  const mnt = tmpfs(t, 64);
  if (!mnt) return t.pass();
  const out = path.join(mnt, 'pol');
  const first = await cli(['--db', await db, 'policy', '--workload', 'orders-api', '--out', out]);
  t.is(first.code, 0, first.err);
  const before = Object.fromEntries(tree(out).map((f) => [f, fs.readFileSync(path.join(out, f), 'utf8')]));
  // Fill the disk but for a few KiB.
  const filler = path.join(mnt, 'filler');
  try {
    fs.writeFileSync(filler, Buffer.alloc(64 * 1024));
  } catch {
    // ENOSPC: as full as it gets.
  }
  const r = await cli(['--db', await db, 'policy', '--out', out]);
  t.is(r.code, 1, r.err);
  t.regex(r.err, /no space left on/);
  t.deepEqual(
    Object.fromEntries(tree(out).map((f) => [f, fs.readFileSync(path.join(out, f), 'utf8')])),
    before,
  );
  t.deepEqual(temporaries(mnt), []);
});

test('export: the staging folder of a killed export is removed by the next one, which says so; engines read the folder', async (t) => {
  const out = path.join(tempDir(), 'exp');
  const first = await cli(['--db', await db, 'export', '--out', out, '--file-prefix', 'a']);
  t.is(first.code, 0, first.err);
  // What SIGKILL leaves before publishing: a hidden staging folder with a truncated part.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  const stale = temporaryName('stage').replace(`-${process.pid}-`, `-${dead}-`);
  const part = path.join(out, stale, 'usage', 'day=2026-11-16', 'b-00000.parquet.partial');
  fs.mkdirSync(path.dirname(part), { recursive: true });
  fs.writeFileSync(part, 'PAR1 truncated');
  // An engine's glob does not see it meanwhile.
  const duck = await Duck.open();
  try {
    const [n] = await duck.rows(
      `SELECT count(*)::INTEGER AS n FROM read_parquet(${lit(`${out}/**/*.parquet`)}, union_by_name = true)`,
    );
    t.true(Number(n?.n ?? 0) > 0);
  } finally {
    duck.close();
  }
  const second = await cli(['--db', await db, 'export', '--out', out, '--file-prefix', 'b']);
  t.is(second.code, 0, second.err);
  t.regex(
    second.err,
    new RegExp(`removed ${stale.replace(/\./g, '\\.')}, the staging folder of an interrupted export`),
  );
  t.deepEqual(temporaries(out), []);
});

test('export: killed while publishing, the next export withdraws what it had published (roll back), says so, and the rerun works', async (t) => {
  const out = path.join(tempDir(), 'exp');
  const done = path.join(tempDir(), 'whole');
  const whole = await cli(['--db', await db, 'export', '--out', done, '--tables', 'calls']);
  t.is(whole.code, 0, whole.err);
  const files = tree(done).filter((f) => f.endsWith('.parquet'));
  t.true(files.length > 2);
  // Another shard's export, already there: never touched.
  const other = await cli(['--db', await db, 'export', '--out', out, '--file-prefix', 'other']);
  t.is(other.code, 0, other.err);
  const others = tree(out).filter((f) => f.endsWith('.parquet'));
  // What a kill during the renames leaves: the journal, some files published, the rest staged.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  const stale = temporaryName('stage').replace(`-${process.pid}-`, `-${dead}-`);
  const stage = path.join(out, stale);
  fs.mkdirSync(stage, { recursive: true });
  fs.writeFileSync(path.join(stage, 'publish.json'), JSON.stringify({ files }));
  files.forEach((f, i) => {
    const to = i < 2 ? path.join(out, f) : path.join(stage, `${f}.partial`);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(done, f), to);
  });
  const again = await cli(['--db', await db, 'export', '--out', out, '--tables', 'calls']);
  t.regex(again.err, /removed the 2 files an export interrupted while it published had moved into place/);
  t.is(again.code, 0, again.err);
  t.deepEqual(
    tree(out).filter((f) => f.endsWith('.parquet')),
    [...others, ...files].sort(),
  );
  t.deepEqual(temporaries(out), []);
});

for (const w of WRITERS) {
  test(`${w.name}: an interrupt (aborted signal) publishes nothing, removes its temporaries, exit 130 saying so`, async (t) => {
    const root = tempDir();
    const out = w.out(root);
    const controller = new AbortController();
    controller.abort('SIGINT');
    const r = await cli(['--db', await db, ...w.args(out)], { signal: controller.signal });
    t.is(r.code, 130, r.err);
    t.regex(r.err, /interrupted: (nothing was published|.* was not written)/);
    t.deepEqual(tree(root), []);
  });
}
