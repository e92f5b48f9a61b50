/**
 * Finding inputs and reading their bytes: files, directories (recursive), standard input;
 * gzip detected by its magic bytes, not by the file name.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { DumpFormatError } from '../shared/errors.js';

/** One input to ingest. */
export interface InputSpec {
  /** What to call it in messages and in `sources`: the path as given, or `-` for stdin. */
  name: string;
  /** Absolute path, or undefined for standard input. */
  file: string | undefined;
  /** Size on disk, when known (stat once, when the inputs are listed). */
  size?: number;
}

/** File names a directory walk picks up; explicit file arguments are always read. */
const DUMP_NAME = /\.(json|jsonl|ndjson|txt)(\.gz)?$|\.gz$/i;

/** Why an input could not even be opened. */
export interface InputProblem {
  name: string;
  message: string;
}

/**
 * Expands the command-line inputs: directories recursively (sorted, dump-like names only,
 * hidden entries skipped), `-` as standard input.
 */
export function expandInputs(inputs: readonly string[]): { specs: InputSpec[]; problems: InputProblem[] } {
  const specs: InputSpec[] = [];
  const problems: InputProblem[] = [];
  for (const input of inputs) {
    if (input === '-') {
      specs.push({ name: '-', file: undefined });
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(input);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({
        name: input,
        message: code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${(err as Error).message}`,
      });
      continue;
    }
    if (stat.isDirectory()) {
      const found = walk(input, problems);
      if (found.length === 0)
        problems.push({
          name: input,
          message: 'directory holds no .json, .jsonl, .ndjson, .txt or .gz files',
        });
      for (const f of found) specs.push({ name: f, file: path.resolve(f), size: safeSize(f) });
    } else {
      specs.push({ name: input, file: path.resolve(input), size: stat.size });
    }
  }
  return { specs, problems };
}

/**
 * The dump files under `dir`, sorted. Symbolic links are followed as `find -L` does: a link to a
 * file is read like the file (its name must look like a dump), a link to a directory is walked,
 * except one leading back to a directory already walked (a loop). A link that leads nowhere is a
 * problem named with its path, as a missing file argument is.
 */
function walk(dir: string, problems: InputProblem[]): string[] {
  const out: string[] = [];
  const stack = [dir];
  const walked = new Set<string>();
  while (stack.length > 0) {
    const d = stack.pop()!;
    const real = fs.realpathSync(d);
    if (walked.has(real)) continue;
    walked.add(real);
    const entries = fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    const subdirs: string[] = [];
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      let kind: 'dir' | 'file' | 'other' = e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other';
      if (e.isSymbolicLink()) {
        try {
          const target = fs.statSync(p);
          kind = target.isDirectory() ? 'dir' : target.isFile() ? 'file' : 'other';
        } catch (err) {
          if (DUMP_NAME.test(e.name))
            problems.push({ name: p, message: `symbolic link to nothing readable: ${linkProblem(err)}` });
          continue;
        }
      }
      if (kind === 'dir') subdirs.push(p);
      else if (kind === 'file' && DUMP_NAME.test(e.name)) out.push(p);
    }
    for (let k = subdirs.length - 1; k >= 0; k--) stack.push(subdirs[k] as string);
  }
  return out;
}

function linkProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'its target does not exist';
  if (code === 'ELOOP') return 'it leads back to itself';
  return (err as Error).message;
}

/** The bytes of one input, decompressed, with what was read from disk. */
export interface OpenedInput {
  chunks: AsyncIterable<Buffer>;
  /** sha256 of the bytes as stored (compressed), complete once `chunks` is exhausted. */
  digest(): string;
  /** Bytes read as stored. */
  rawBytes(): number;
}

/** Options for {@link openInput}. */
export interface OpenInputOptions {
  stdin?: NodeJS.ReadableStream;
  /** Largest decompressed size accepted per compressed byte (gzip bombs); default 200. */
  maxInflateRatio?: number;
}

/** Opens an input for streaming. Never reads it whole. */
export function openInput(spec: InputSpec, options: OpenInputOptions = {}): OpenedInput {
  const size = spec.file === undefined ? undefined : (spec.size ?? safeSize(spec.file));
  const hash: Hash = createHash('sha256');
  let raw = 0;
  let digest: string | undefined;
  const source: AsyncIterable<Buffer> =
    spec.file === undefined
      ? ((options.stdin ?? process.stdin) as AsyncIterable<Buffer>)
      : size !== undefined && size <= SMALL_FILE
        ? readSmall(spec.file)
        : // Each read allocates a buffer this large: no larger than the file.
          fs.createReadStream(spec.file, { highWaterMark: readSize(size) });
  const ratio = options.maxInflateRatio ?? 200;

  async function* counted(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
    yield first;
    for (;;) {
      const n = await rest.next();
      if (n.done) return;
      const b = Buffer.isBuffer(n.value) ? n.value : Buffer.from(n.value);
      hash.update(b);
      raw += b.length;
      yield b;
    }
  }

  async function* chunks(): AsyncGenerator<Buffer> {
    const it = source[Symbol.asyncIterator]();
    const head = await it.next();
    if (head.done) return;
    const first = Buffer.isBuffer(head.value) ? head.value : Buffer.from(head.value);
    hash.update(first);
    raw += first.length;
    const gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    if (!gzip) {
      yield* counted(first, it);
      return;
    }
    const input = Readable.from(counted(first, it), { objectMode: false });
    const gunzip = zlib.createGunzip({ chunkSize: 256 * 1024 });
    input.on('error', (e) => gunzip.destroy(e));
    input.pipe(gunzip);
    let out = 0;
    for await (const c of gunzip as AsyncIterable<Buffer>) {
      out += c.length;
      // Inflated size is checked against what was read so far, so a bomb stops early.
      if (out > 64 * 1024 * 1024 && out > raw * ratio) {
        input.destroy();
        gunzip.destroy();
        throw new InflateLimitError(out, raw, ratio);
      }
      yield c;
    }
  }

  return {
    chunks: chunks(),
    digest: () => (digest ??= hash.digest('hex')),
    rawBytes: () => raw,
  };
}

/** A gzip stream that inflates beyond the accepted ratio. */
export class InflateLimitError extends DumpFormatError {
  constructor(
    readonly inflated: number,
    readonly compressed: number,
    readonly ratio: number,
  ) {
    super(
      `gzip data inflates more than ${ratio}× (${inflated} bytes from ${compressed}): refusing what looks like a gzip bomb`,
      { hint: 'decompress it yourself if it is genuine, and ingest the result' },
    );
  }
}

/**
 * Files up to this size are read in one synchronous call: a typical batch-get-traces file is
 * ~25 KB, and the asynchronous open/read/close round trips cost more than reading it (a directory
 * of 1,457 such files spent a quarter of its time waiting on them).
 */
const SMALL_FILE = 1024 * 1024;

async function* readSmall(file: string): AsyncGenerator<Buffer> {
  yield fs.readFileSync(file);
}

/** Read size: 256 KiB, or the file's size (at least 4 KiB) when smaller. */
function readSize(size: number | undefined): number {
  return Math.max(4096, Math.min(256 * 1024, size ?? 256 * 1024));
}

function safeSize(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}

/**
 * Line and column (1-based) of a byte offset in the decompressed bytes of a file, by reading
 * it again up to that offset. Only used to report an error, so the second read is fine.
 */
export async function lineColumnOf(
  spec: InputSpec,
  offset: number,
): Promise<{ line: number; column: number } | undefined> {
  if (spec.file === undefined) return undefined;
  let line = 1;
  let lineStart = 0;
  let seen = 0;
  try {
    const opened = openInput(spec);
    for await (const chunk of opened.chunks) {
      const end = Math.min(chunk.length, offset - seen);
      let i = chunk.indexOf(0x0a, 0);
      while (i >= 0 && i < end) {
        line++;
        lineStart = seen + i + 1;
        i = chunk.indexOf(0x0a, i + 1);
      }
      seen += chunk.length;
      if (seen >= offset) break;
    }
  } catch {
    return undefined;
  }
  return { line, column: offset - lineStart + 1 };
}
