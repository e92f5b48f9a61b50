/**
 * The one way xray-lp writes files: `policy --out`, `report`, `export` and every other writer go
 * through here (README, "Security").
 *
 * - Every file is created new (`O_CREAT | O_EXCL`), so never through a link already in the
 *   folder, under a temporary name, synced, and renamed into place: a reader sees the old file or
 *   the whole new one, never half of it; a link at the final name is replaced, not followed.
 * - An output folder ({@link OutFolder}) is written whole into a staging folder and swapped in;
 *   a folder holding anything the tool did not write (no manifest lists it) is refused.
 * - Temporaries are named `.xray-lp-<host>-<pid>-<random>.<kind>`: a run removes its own on any
 *   failure, and the next run in the same folder removes those of a run that was killed (its
 *   process is gone) and returns their names, so that the CLI can say so.
 * - Disk full, read-only, permission and "is a directory" failures become a {@link WriteError}
 *   (exit 1) naming the path and the cause.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InterruptedError, UserInputError, WriteError, XrayLpError } from './errors.js';

/** What a temporary is: a file being written, a staging folder, or an output folder swapped out. */
export type TemporaryKind = 'tmp' | 'stage' | 'old';

/** Eight hex digits of this host's name: a temporary of another host is never judged stale here. */
const HOST = crypto.createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);
const TEMPORARY = /^\.xray-lp-([0-9a-f]{8})-(\d+)-[0-9a-f]{8}\.(tmp|stage|old)$/;
// Left by releases before this module: report's `FILE.partial-PID`, export's staging folders.
const LEGACY_PARTIAL = /\.partial-(\d+)$/;
const LEGACY_EXPORT = /^\.xray-lp-export-/;

/** The manifest an output folder holds: the files the tool wrote there. */
export const MANIFEST = '.xray-lp-manifest.json';

/** A fresh temporary name for this process. */
export function temporaryName(kind: TemporaryKind): string {
  return `.xray-lp-${HOST}-${process.pid}-${crypto.randomBytes(4).toString('hex')}.${kind}`;
}

/**
 * A new private folder for temporaries (mode 0700) in `parent`, named as {@link temporaryName}:
 * when its run is killed, the next run that cleans `parent` ({@link removeStaleTemporaries})
 * removes it.
 */
export function temporaryFolder(parent: string): string {
  const dir = path.join(parent, temporaryName('stage'));
  writing(dir, () => fs.mkdirSync(dir, { mode: 0o700 }));
  return dir;
}

/** True when `name` is a temporary name of {@link temporaryName}'s form (any process). */
export function isTemporaryName(name: string): boolean {
  return TEMPORARY.test(name);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What else than {@link temporaryName}'s temporaries a writer recognises as its own leftovers. */
export interface StaleOptions {
  /** Decides about a stale temporary before it is removed (true keeps it); export reads its journal. */
  keep?: (name: string) => boolean;
  /** The file a report writes: earlier releases left `<file>.partial-<pid>` beside it. */
  partialOf?: string;
  /** Earlier releases' export staging folders, `.xray-lp-export-*`. */
  legacyExport?: boolean;
}

/** True for a temporary left by a process of this host that is gone (killed). */
function isStale(name: string, o: StaleOptions): boolean {
  const m = TEMPORARY.exec(name);
  if (m) return m[1] === HOST && !alive(Number(m[2]));
  const legacy = LEGACY_PARTIAL.exec(name);
  if (legacy && o.partialOf !== undefined && name === `${o.partialOf}${legacy[0]}`)
    return !alive(Number(legacy[1]));
  return o.legacyExport === true && LEGACY_EXPORT.test(name);
}

/**
 * Removes, directly inside `folder`, the temporaries of runs that were killed (their process is
 * gone) and returns their names. Links are removed, never followed. A missing folder has none.
 */
export function removeStaleTemporaries(folder: string, o: StaleOptions = {}): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!isStale(name, o) || o.keep?.(name)) continue;
    fs.rmSync(path.join(folder, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * The error to throw for a failed write of `target`: a {@link WriteError} naming the cause for
 * the failures a user can fix (disk full, read-only, permission, a directory in the way), the
 * error itself otherwise.
 */
export function writeErrorOf(err: unknown, target: string): unknown {
  if (err instanceof XrayLpError || err instanceof InterruptedError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const undone = 'nothing was written there and the temporary files were removed';
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new WriteError(
        'no-space',
        `no space left on ${target} (${code}): ${undone}. Free some space, or write somewhere else.`,
      );
    case 'EROFS':
      return new WriteError(
        'read-only',
        `${target} is on a read-only file system (EROFS): ${undone}. Write somewhere else.`,
      );
    case 'EACCES':
    case 'EPERM':
      return new WriteError(
        'permission',
        `permission denied writing ${target} (${code}): ${undone}. Write to a folder you may write to.`,
      );
    case 'EISDIR':
      return new WriteError(
        'is-a-directory',
        `${target} is a directory: give the name of a file to write (inside it, if you meant that).`,
      );
    case 'ENOTDIR':
      return new WriteError('not-a-directory', `${target}: a part of this path is a file, not a folder.`);
    case 'ENOENT':
      return new WriteError(
        'missing-folder',
        `${target}: the folder it goes into does not exist (or was removed while writing).`,
      );
    default:
      return err;
  }
}

/** Runs `f`, turning a failed write into {@link writeErrorOf}'s error for `target`. */
export function writing<T>(target: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw writeErrorOf(err, target);
  }
}

/** Throws {@link InterruptedError} once `signal` is aborted: core functions call it between steps. */
export function checkInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}

/**
 * Throws when a folder on the way from `root` to `root/rel` is a link or not a folder: a file
 * renamed there would land outside `root`. Folders not there yet are fine (they are created).
 */
export function checkNoLinks(root: string, rel: string, shown: string): void {
  let at = root;
  for (const part of path.dirname(rel).split(path.sep)) {
    if (part === '.' || part === '') continue;
    at = path.join(at, part);
    const st = fs.lstatSync(at, { throwIfNoEntry: false });
    if (!st) return;
    if (!st.isDirectory())
      throw new UserInputError(
        `${path.join(shown, path.relative(root, at))} is ${st.isSymbolicLink() ? 'a link' : 'not a folder'}: nothing was written (xray-lp never writes through a link inside its output folder). Remove it, or export into another folder.`,
      );
  }
}

/**
 * Creates `dir` and the folders above it that are missing, one at a time (a recursive mkdir
 * reports a read-only file system as ENOENT); errors are {@link WriteError}s naming `shown`.
 */
export function makeFolder(dir: string, shown: string = dir): void {
  const missing: string[] = [];
  for (let at = path.resolve(dir); !fs.lstatSync(at, { throwIfNoEntry: false }); at = path.dirname(at))
    missing.unshift(at);
  for (const at of missing)
    writing(shown, () => {
      try {
        fs.mkdirSync(at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    });
}

/** Milliseconds of work between two looks at an interrupt (the event loop runs then). */
export const LOOK_MS = 50;

/**
 * A look at `signal` for a long synchronous loop to await once per item: every {@link LOOK_MS}
 * of work (the clock is read every `every` calls: items of microseconds need not read it each
 * time) it lets the event loop run, so that a signal handler can abort `signal`, then throws
 * InterruptedError once it is aborted.
 */
export function interruptionPoints(signal: AbortSignal | undefined, every = 64): () => Promise<void> {
  let calls = 0;
  let looked = performance.now();
  return async () => {
    if (++calls % every !== 0 || performance.now() - looked < LOOK_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    looked = performance.now();
    checkInterrupted(signal);
  };
}

/** Syncs a folder's entries to disk (after a rename); file systems that cannot are skipped. */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(folder, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Not every file system syncs folders (EINVAL, EISDIR on some): the data itself is synced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * A file being written, created new at `file` (never through an existing entry: `wx`). Write,
 * then {@link NewFile.close}; {@link NewFile.discard} removes it. Errors are {@link WriteError}s
 * naming `shown` (the path the user knows).
 */
export class NewFile {
  private fd: number | undefined;
  /** Bytes written so far. */
  bytes = 0;

  constructor(
    readonly file: string,
    readonly shown: string = file,
  ) {
    this.fd = writing(shown, () => fs.openSync(file, 'wx', 0o644));
  }

  /** Appends `data`. */
  write(data: string | Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) throw new Error(`${this.shown} is closed`);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    writing(this.shown, () => {
      for (let off = 0; off < buf.byteLength;) off += fs.writeSync(fd, buf, off, buf.byteLength - off);
    });
    this.bytes += buf.byteLength;
  }

  /** Syncs the data to disk and closes the file. */
  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    writing(this.shown, () => {
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  /** Closes and removes the file (after a failure); never throws. */
  discard(): void {
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // Already unusable: removing it is what matters.
      }
      this.fd = undefined;
    }
    fs.rmSync(this.file, { force: true });
  }
}

/**
 * One file written whole or not at all: under a temporary name in the target's folder, then
 * renamed over `target` by {@link AtomicFile.commit} (a link at `target` is replaced, not
 * followed). Until then, and after {@link AtomicFile.discard}, `target` is as it was.
 */
export class AtomicFile {
  private readonly temp: NewFile;
  /** Stale temporaries of killed runs removed from the folder first (their names). */
  readonly removed: string[];

  constructor(readonly target: string) {
    const folder = path.dirname(target);
    const st = fs.lstatSync(folder, { throwIfNoEntry: false });
    if (!st?.isDirectory())
      throw new WriteError(
        st ? 'not-a-directory' : 'missing-folder',
        `${target}: the folder ${folder} ${st ? 'is not a folder' : 'does not exist'}.`,
      );
    if (fs.lstatSync(target, { throwIfNoEntry: false })?.isDirectory())
      throw writeErrorOf(Object.assign(new Error('EISDIR'), { code: 'EISDIR' }), target);
    this.removed = removeStaleTemporaries(folder, { partialOf: path.basename(target) });
    this.temp = new NewFile(path.join(folder, temporaryName('tmp')), target);
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.temp.bytes;
  }

  /** Appends `data`. */
  write(data: string | Uint8Array): void {
    this.temp.write(data);
  }

  /** Syncs and renames the file into place. */
  commit(): void {
    try {
      this.temp.close();
      writing(this.target, () => fs.renameSync(this.temp.file, this.target));
    } catch (err) {
      this.temp.discard();
      throw err;
    }
    syncFolder(path.dirname(this.target));
  }

  /** Removes the temporary; `target` stays as it was. */
  discard(): void {
    this.temp.discard();
  }
}

/** Writes `content` to `target` whole or not at all ({@link AtomicFile}). */
export function writeFileAtomic(target: string, content: string | Uint8Array): void {
  const f = new AtomicFile(target);
  try {
    f.write(content);
    f.commit();
  } catch (err) {
    f.discard();
    throw err;
  }
}

interface Manifest {
  writtenBy: 'xray-lp';
  files: string[];
}

/** The files an earlier run listed in `dir`'s manifest, or undefined when it has none (or a bad one). */
function readManifest(dir: string): string[] | undefined {
  const file = path.join(dir, MANIFEST);
  if (!fs.lstatSync(file, { throwIfNoEntry: false })?.isFile()) return undefined;
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Manifest>;
    if (m.writtenBy !== 'xray-lp' || !Array.isArray(m.files)) return undefined;
    return m.files.filter((f): f is string => typeof f === 'string');
  } catch {
    return undefined;
  }
}

/** A plain file name: no folder part, not `.`/`..`, not the manifest or a temporary. */
function checkName(name: string): void {
  if (
    name === '' ||
    name === '.' ||
    name === '..' ||
    name !== path.basename(name) ||
    name.includes('/') ||
    name.includes('\\') ||
    name === MANIFEST ||
    isTemporaryName(name)
  )
    throw new Error(`not a file name for an output folder: ${JSON.stringify(name)}`);
}

/**
 * An output folder (`policy --out DIR`) written as a whole: every file goes into a staging
 * folder; {@link OutFolder.commit} swaps it in (the old folder's files, all written by an earlier
 * run, go with it), with a manifest ({@link MANIFEST}) listing what the tool wrote.
 *
 * - A folder holding anything no manifest lists (a user's file, a planted link) is refused
 *   before anything is written: nothing in it is followed, replaced or removed.
 * - The staging folder is a sibling of DIR, so that the swap is two renames on one file system.
 *   When that is impossible (DIR is a mount point, its parent is not writable) the staging folder
 *   is inside DIR and the files are renamed in one by one (each whole, the manifest first listing
 *   old and new, so that an interrupted publish is still recognised as the tool's).
 * - A DIR given as a link to a folder is followed (the user named it); links inside never are.
 */
export class OutFolder {
  readonly dir: string;
  /** Stale temporaries of killed runs removed first (names, relative to DIR's parent or DIR). */
  readonly removed: string[] = [];
  private readonly parent: string;
  private readonly stage: string;
  private readonly inside: boolean;
  private readonly names = new Set<string>();
  private readonly open = new Set<NewFile>();
  private done = false;

  constructor(
    dir: string,
    private readonly shown: string = dir,
  ) {
    let resolved = path.resolve(dir);
    const st = fs.lstatSync(resolved, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) resolved = writing(shown, () => fs.realpathSync(resolved));
    this.dir = resolved;
    this.parent = path.dirname(resolved);
    const exists = this.check();
    if (!fs.lstatSync(this.parent, { throwIfNoEntry: false })?.isDirectory()) makeFolder(this.parent, shown);
    this.removed.push(...removeStaleTemporaries(this.parent));
    if (exists) this.removed.push(...removeStaleTemporaries(this.dir));
    let stage = path.join(this.parent, temporaryName('stage'));
    let inside = false;
    try {
      fs.mkdirSync(stage);
      if (exists && fs.statSync(stage).dev !== fs.statSync(this.dir).dev) {
        fs.rmdirSync(stage);
        inside = true;
      }
    } catch (err) {
      if (!exists) throw writeErrorOf(err, shown);
      inside = true;
    }
    if (inside) {
      stage = path.join(this.dir, temporaryName('stage'));
      writing(shown, () => fs.mkdirSync(stage));
    }
    this.stage = stage;
    this.inside = inside;
  }

  /**
   * Whether DIR exists (a folder); throws when it is not a folder or holds anything no manifest
   * lists as the tool's (a link included, whatever its name).
   */
  private check(): boolean {
    const st = fs.lstatSync(this.dir, { throwIfNoEntry: false });
    if (!st) return false;
    if (!st.isDirectory()) throw new WriteError('not-a-directory', `--out ${this.shown}: not a folder.`);
    const ours = new Set(readManifest(this.dir) ?? []);
    const foreign: string[] = [];
    for (const name of writing(this.shown, () => fs.readdirSync(this.dir))) {
      if (name === MANIFEST || isTemporaryName(name)) continue;
      const entry = fs.lstatSync(path.join(this.dir, name));
      if (!ours.has(name) || !entry.isFile())
        foreign.push(entry.isSymbolicLink() ? `${name} (a link)` : name);
    }
    if (foreign.length > 0)
      throw new UserInputError(
        `--out ${this.shown} holds ${foreign.length === 1 ? 'a file' : `${foreign.length} files`} xray-lp did not write (${foreign
          .slice(0, 3)
          .join(
            ', ',
          )}${foreign.length > 3 ? ', …' : ''}): nothing was written. Give a new or empty folder, or one an earlier run wrote (its ${MANIFEST} lists its files).`,
      );
    return true;
  }

  /** A new file `name` (a plain file name, unique in this folder) to write into. */
  file(name: string): NewFile {
    checkName(name);
    if (this.names.has(name)) throw new Error(`${name} is written twice`);
    this.names.add(name);
    const f = new NewFile(path.join(this.stage, name), path.join(this.shown, name));
    this.open.add(f);
    return f;
  }

  /** Writes a whole file `name`. */
  writeFile(name: string, content: string | Uint8Array): void {
    const f = this.file(name);
    f.write(content);
    f.close();
    this.open.delete(f);
  }

  /** Publishes every file written: swaps the staging folder in (see the class comment). */
  commit(): void {
    if (this.done) throw new Error('already published');
    try {
      for (const f of this.open) f.close();
      this.open.clear();
      const files = [...this.names].sort();
      if (this.inside) this.publishInside(files);
      else this.swap(files);
      this.done = true;
    } catch (err) {
      this.discard();
      throw writeErrorOf(err, this.shown);
    }
  }

  private manifest(folder: string, files: string[]): void {
    const m: Manifest = { writtenBy: 'xray-lp', files };
    const f = new NewFile(path.join(folder, temporaryName('tmp')), path.join(this.shown, MANIFEST));
    try {
      f.write(`${JSON.stringify(m, null, 2)}\n`);
      f.close();
      fs.renameSync(f.file, path.join(folder, MANIFEST));
    } catch (err) {
      f.discard();
      throw err;
    }
  }

  private swap(files: string[]): void {
    this.manifest(this.stage, files);
    syncFolder(this.stage);
    // Again just before the swap: what is swapped out must all be the tool's.
    if (this.check()) {
      const old = path.join(this.parent, temporaryName('old'));
      fs.renameSync(this.dir, old);
      try {
        fs.renameSync(this.stage, this.dir);
      } catch (err) {
        fs.renameSync(old, this.dir);
        throw err;
      }
      syncFolder(this.parent);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(this.stage, this.dir);
      syncFolder(this.parent);
    }
  }

  private publishInside(files: string[]): void {
    this.check();
    const before = readManifest(this.dir) ?? [];
    // First a manifest naming old and new: an interrupted publish is still all the tool's.
    this.manifest(this.dir, [...new Set([...before, ...files])].sort());
    for (const name of files) fs.renameSync(path.join(this.stage, name), path.join(this.dir, name));
    const keep = new Set(files);
    for (const name of before) if (!keep.has(name)) fs.rmSync(path.join(this.dir, name), { force: true });
    this.manifest(this.dir, files);
    syncFolder(this.dir);
    fs.rmSync(this.stage, { recursive: true, force: true });
  }

  /** Removes everything written; DIR stays as it was. Never throws. */
  discard(): void {
    for (const f of this.open) f.discard();
    this.open.clear();
    if (!this.done) fs.rmSync(this.stage, { recursive: true, force: true });
  }
}
