/**
 * Writing one file per workload into an output folder: names come from the data, so they are
 * sanitised, de-duplicated and checked to stay inside the folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserInputError } from '../shared/errors.js';

// Windows reserves these names whatever the extension; a review folder may be copied there.
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/** A file-name stem made from data: `[A-Za-z0-9._-]` only, no leading dot, bounded length. */
export function safeStem(name: string): string {
  let s = name
    .normalize('NFKC')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .replace(/_+/g, '_')
    .slice(0, 100);
  s = s.replace(/[._]+$/, '');
  if (s.length === 0) s = 'workload';
  if (RESERVED.test(s.split('.')[0] ?? '')) s = `_${s}`;
  return s;
}

/** Allocates unique, safe file names inside one folder. */
export class OutDir {
  private readonly used = new Set<string>();
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    try {
      fs.mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new UserInputError(`--out ${dir}: cannot create the folder (${(err as Error).message}).`);
    }
  }

  /** A unique path for `stem + ext`, guaranteed to be directly inside the folder. */
  name(stem: string, ext: string): string {
    const base = safeStem(stem);
    let candidate = `${base}${ext}`;
    for (let n = 2; this.used.has(candidate.toLowerCase()); n++) candidate = `${base}-${n}${ext}`;
    this.used.add(candidate.toLowerCase());
    const full = path.resolve(this.dir, candidate);
    if (path.dirname(full) !== this.dir)
      throw new Error(`refusing to write outside ${this.dir}: ${candidate}`);
    return full;
  }

  /** Writes a file under a name from {@link name}. */
  write(file: string, content: string): void {
    fs.writeFileSync(file, content);
  }
}
