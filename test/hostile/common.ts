/**
 * Shared pieces of the hostile-input tests: the corpus folder, database checks, and the
 * characters that must never reach a terminal raw.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { fixturesDir } from '../support/helpers.js';

export const badDir = path.join(fixturesDir, 'bad');
export const bad = (name: string): string => path.join(badDir, name);
export { mainJs } from '../support/helpers.js';

/** What `good-1.json` + `good-2.json` alone put in a database. */
export const GOOD_ONLY = { traces: 2, segments: 2, calls: 3, workloads: 2 } as const;

/** Row counts and consistency of a database file, read through a separate connection. */
export function inspect(file: string): {
  traces: number;
  segments: number;
  calls: number;
  workloads: number;
  sources: string[];
  problems: number;
  integrity: string;
  foreignKeys: number;
} {
  const db = new Database(file, { readonly: true });
  try {
    const n = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    return {
      traces: n('SELECT count(*) AS n FROM traces'),
      segments: n('SELECT count(*) AS n FROM segments'),
      calls: n('SELECT count(*) AS n FROM calls'),
      workloads: n('SELECT count(*) AS n FROM workloads'),
      sources: (db.prepare('SELECT path FROM sources ORDER BY id').all() as { path: string }[]).map(
        (r) => r.path,
      ),
      problems: n('SELECT count(*) AS n FROM problems'),
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      foreignKeys: (db.pragma('foreign_key_check') as unknown[]).length,
    };
  } finally {
    db.close();
  }
}

/**
 * Characters that change what a terminal shows: C0 controls except newline, DEL, C1 controls
 * (U+009B is a one-character CSI), bidirectional marks, overrides and isolates, the line and
 * paragraph separators, zero-width characters.
 */
export const TERMINAL_UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;

/** xorshift32: kill points are random but reproducible from the seed printed in the log. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
