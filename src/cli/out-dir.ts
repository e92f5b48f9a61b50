/**
 * Writing one file per workload into an output folder: names come from the data, so they are
 * sanitised, de-duplicated and checked to stay inside the folder.
 */
import path from 'node:path';
import { OutFolder } from '../shared/files.js';

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

/**
 * Allocates unique, safe file names inside one output folder, written as a whole through
 * {@link OutFolder} (src/shared/files.ts): staged, then swapped in; a folder holding files the tool
 * did not write is refused.
 */
export class OutDir {
  private readonly used = new Set<string>();
  readonly folder: OutFolder;

  constructor(dir: string) {
    this.folder = new OutFolder(dir);
  }

  /** The folder written (absolute). */
  get dir(): string {
    return this.folder.dir;
  }

  /** A unique file name for `stem + ext`, directly inside the folder. */
  name(stem: string, ext: string): string {
    const base = safeStem(stem);
    let candidate = `${base}${ext}`;
    for (let n = 2; this.used.has(candidate.toLowerCase()); n++) candidate = `${base}-${n}${ext}`;
    this.used.add(candidate.toLowerCase());
    if (path.basename(candidate) !== candidate || candidate.startsWith('.'))
      throw new Error(`refusing to write outside ${this.dir}: ${candidate}`);
    return candidate;
  }
}
