import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../shared/errors.js';
import { rebuildRollups } from './rollups.js';
import { nativeLoadProblem } from './native.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

/** The open database, as every core function receives it. */
export type Store = Database.Database;

/** Where the database lives when neither `--db` nor `XRAY_LP_DB` says. */
export const DEFAULT_DB_PATH = './xray-lp.db';

/** Options for {@link openStore}. */
export interface OpenStoreOptions {
  /** File path, or `:memory:`. */
  path: string;
  /** Open read-only and fail when the file does not exist (query commands). */
  readonly?: boolean;
  /** With `readonly`: open a database of an older schema as it is (to inspect it), instead of refusing it. */
  allowOlder?: boolean;
  /** Milliseconds to wait for another writer before failing (default 30 s). */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) and migrates the database. WAL lets queries run during an ingest;
 * the busy timeout lets two ingests share the file.
 */
export function openStore(options: OpenStoreOptions): Store {
  const { path: file, readonly = false } = options;
  if (file !== ':memory:') {
    const dir = path.dirname(path.resolve(file));
    if (!fs.existsSync(dir)) {
      throw new StoreError(
        `Cannot open database ${file}: directory ${dir} does not exist. Create it or pass --db with another path.`,
      );
    }
    if (readonly && !fs.existsSync(file)) {
      throw new StoreError(
        `No database at ${file}. Run \`xray-lp ingest <dump>\` first, or pass --db / set XRAY_LP_DB.`,
      );
    }
  }
  let db: Store;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly });
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 30_000))}`);
    // Touch the file header: fails here, not later, when the file is not a database.
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new StoreError(
        `Database ${file} has schema version ${version}, newer than this xray-lp understands (${SCHEMA_VERSION}). Upgrade xray-lp, or use another --db.`,
      );
    }
    if (!readonly) {
      if (file !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, version);
    } else if (version < SCHEMA_VERSION && !options.allowOlder) {
      db.close();
      throw new StoreError(
        `Database ${file} has schema version ${version}; this xray-lp needs ${SCHEMA_VERSION}. Run \`xray-lp migrate\` (or \`xray-lp ingest\` with no input) to upgrade it.`,
      );
    }
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const native = nativeLoadProblem(err);
    if (native) throw native;
    const code = (err as { code?: string }).code ?? '';
    throw new StoreError(
      `Cannot open database ${file}: ${(err as Error).message}${code ? ` (${code})` : ''}. Check the path and its permissions, or pass another --db.`,
    );
  }
  // 32 MiB: enough to keep the hot index pages of a 1 GB ingest cached (44 vs 39 MB/s with 16 MiB)
  // while peak RSS stays under 200 MB (177–192 MB at 1 GB).
  db.pragma('cache_size = -32768');
  // Large sorts (a policy read groups every permission of the range) spill to temporary files
  // beyond the cache instead of growing the heap: peak RSS stays flat as the database grows.
  db.pragma('temp_store = FILE');
  return db;
}

/**
 * Applies the missing migrations in one transaction, then rebuilds the rollups when a step asked
 * for it: a crash half-way leaves the database as it was, never migrated without its rollups.
 */
function migrate(db: Store, from: number): void {
  if (from >= SCHEMA_VERSION) return;
  db.transaction(() => {
    // Re-read the version inside the write lock: another process may have migrated meanwhile.
    const now = db.pragma('user_version', { simple: true }) as number;
    let rebuild = false;
    for (let v = now; v < SCHEMA_VERSION; v++) {
      const step = MIGRATIONS[v] as (typeof MIGRATIONS)[number];
      db.exec(step.sql);
      // A new database (version 0) has no calls: nothing to rebuild.
      if (step.rebuildRollups && now > 0) rebuild = true;
    }
    if (rebuild) rebuildRollups(db);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** The schema version of the database in `file` (it must exist), read without migrating it. */
export function schemaVersionOf(file: string): number {
  const store = openStore({ path: file, readonly: true, allowOlder: true });
  try {
    return store.pragma('user_version', { simple: true }) as number;
  } finally {
    store.close();
  }
}
