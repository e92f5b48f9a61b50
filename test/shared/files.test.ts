/**
 * src/shared/files.ts, the one way xray-lp writes files: new files only (never through a link),
 * whole or not at all, output folders swapped in or refused, temporaries of killed runs found and
 * removed, write failures named.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { UserInputError, WriteError } from '../../src/shared/errors.js';
import {
  AtomicFile,
  MANIFEST,
  NewFile,
  OutFolder,
  removeStaleTemporaries,
  temporaryName,
  writeErrorOf,
  writeFileAtomic,
} from '../../src/shared/files.js';
import { tempDir } from '../support/helpers.js';

const errno = (code: string): Error => Object.assign(new Error(code), { code });

for (const [code, failure, says] of [
  ['ENOSPC', 'no-space', /^no space left on \/x\/y \(ENOSPC\)/],
  ['EDQUOT', 'no-space', /^no space left on \/x\/y \(EDQUOT\)/],
  ['EROFS', 'read-only', /read-only file system \(EROFS\)/],
  ['EACCES', 'permission', /^permission denied writing \/x\/y \(EACCES\)/],
  ['EPERM', 'permission', /^permission denied writing \/x\/y \(EPERM\)/],
  ['EISDIR', 'is-a-directory', /^\/x\/y is a directory/],
  ['ENOTDIR', 'not-a-directory', /is a file, not a folder/],
  ['ENOENT', 'missing-folder', /does not exist/],
] as const) {
  test(`writeErrorOf names ${code} (${failure}), exit 1`, (t) => {
    const e = writeErrorOf(errno(code), '/x/y');
    t.true(e instanceof WriteError);
    t.is((e as WriteError).failure, failure);
    t.is((e as WriteError).exitCode, 1);
    t.regex((e as WriteError).message, says);
  });
}

test('writeErrorOf leaves other errors as they are', (t) => {
  const other = errno('EIO');
  t.is(writeErrorOf(other, '/x'), other);
});

test('NewFile never opens an existing entry: a link (even dangling) is refused, its target untouched', (t) => {
  const dir = tempDir();
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'precious');
  fs.symlinkSync(victim, path.join(dir, 'a'));
  fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'b'));
  t.throws(() => new NewFile(path.join(dir, 'a')), { code: 'EEXIST' });
  t.throws(() => new NewFile(path.join(dir, 'b')), { code: 'EEXIST' });
  t.is(fs.readFileSync(victim, 'utf8'), 'precious');
  t.false(fs.existsSync(path.join(dir, 'nowhere')));
});

test('AtomicFile replaces a link at its target (never writes through it); discard leaves the target as it was', (t) => {
  const dir = tempDir();
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'precious');
  const target = path.join(dir, 'out.html');
  fs.symlinkSync(victim, target);
  const f = new AtomicFile(target);
  f.write('half');
  f.discard();
  t.true(fs.lstatSync(target).isSymbolicLink());
  writeFileAtomic(target, 'whole');
  t.true(fs.lstatSync(target).isFile());
  t.is(fs.readFileSync(target, 'utf8'), 'whole');
  t.is(fs.readFileSync(victim, 'utf8'), 'precious');
  t.deepEqual(fs.readdirSync(dir).sort(), ['out.html', 'victim']);
});

test('temporaries of killed runs on this host are removed; live ones, and files that are not temporaries, stay', (t) => {
  const dir = tempDir();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  const mine = temporaryName('tmp');
  const stale = temporaryName('stage').replace(`-${process.pid}-`, `-${dead}-`);
  const otherHost = mine
    .replace(/^\.xray-lp-[0-9a-f]{8}/, '.xray-lp-00000000')
    .replace(`-${process.pid}-`, `-${dead}-`);
  for (const name of [mine, otherHost, 'notes.txt', `report.html.partial-${dead}`])
    fs.writeFileSync(path.join(dir, name), '');
  fs.mkdirSync(path.join(dir, stale));
  // A link named as a stale temporary is removed itself, never followed.
  const victim = path.join(tempDir(), 'victim');
  fs.writeFileSync(victim, 'precious');
  const link = temporaryName('tmp').replace(`-${process.pid}-`, `-${dead}-`);
  fs.symlinkSync(victim, path.join(dir, link));
  // Earlier releases' `report.html.partial-PID` is recognised beside its report only.
  fs.writeFileSync(path.join(dir, `notes.partial-${dead}`), 'mine');
  const removed = removeStaleTemporaries(dir, { partialOf: 'report.html' }).sort();
  t.deepEqual(removed, [stale, link, `report.html.partial-${dead}`].sort());
  t.deepEqual(fs.readdirSync(dir).sort(), [mine, otherHost, 'notes.txt', `notes.partial-${dead}`].sort());
  t.is(fs.readFileSync(victim, 'utf8'), 'precious');
});

test('OutFolder: a new folder appears whole with its manifest; a second run replaces it as a whole', (t) => {
  const root = tempDir();
  const dir = path.join(root, 'out');
  const a = new OutFolder(dir);
  a.writeFile('one.json', '1');
  const ev = a.file('evidence.json');
  ev.write('[');
  // Nothing is visible before commit.
  t.false(fs.existsSync(dir));
  ev.write(']');
  a.commit();
  t.deepEqual(fs.readdirSync(dir).sort(), [MANIFEST, 'evidence.json', 'one.json']);
  const b = new OutFolder(dir);
  b.writeFile('two.json', '2');
  b.commit();
  t.deepEqual(fs.readdirSync(dir).sort(), [MANIFEST, 'two.json']);
  t.deepEqual(fs.readdirSync(root), ['out']);
});

test('OutFolder refuses a folder holding what no manifest lists (a file, a link, a folder) and changes nothing', (t) => {
  for (const plant of ['file', 'link', 'folder', 'listed-link'] as const) {
    const dir = path.join(tempDir(), 'out');
    fs.mkdirSync(dir);
    const victim = path.join(tempDir(), 'victim');
    fs.writeFileSync(victim, 'precious');
    if (plant === 'file') fs.writeFileSync(path.join(dir, 'a.json'), 'mine');
    if (plant === 'link') fs.symlinkSync(victim, path.join(dir, 'a.json'));
    if (plant === 'folder') fs.mkdirSync(path.join(dir, 'sub'));
    if (plant === 'listed-link') {
      // Listed in a manifest, but a link now: still not the tool's.
      fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify({ writtenBy: 'xray-lp', files: ['a.json'] }));
      fs.symlinkSync(victim, path.join(dir, 'a.json'));
    }
    const before = fs.readdirSync(dir).sort();
    const err = t.throws(() => new OutFolder(dir), { instanceOf: UserInputError });
    t.regex(err?.message ?? '', /did not write/, plant);
    t.deepEqual(fs.readdirSync(dir).sort(), before, plant);
    t.is(fs.readFileSync(victim, 'utf8'), 'precious');
    t.deepEqual(
      fs.readdirSync(path.dirname(dir)).filter((f) => f.startsWith('.xray-lp-')),
      [],
      plant,
    );
  }
});

test('OutFolder.discard leaves no trace; names that would leave the folder are refused', (t) => {
  const root = tempDir();
  const f = new OutFolder(path.join(root, 'out'));
  f.writeFile('a.json', 'x');
  for (const bad of ['../x', 'a/b', '.', '..', MANIFEST, '']) t.throws(() => f.file(bad));
  f.discard();
  t.deepEqual(fs.readdirSync(root), []);
});
