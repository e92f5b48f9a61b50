/**
 * The shards a merge reads, checked before anything is written: each must be a database written
 * by xray-lp, of this schema or an older one (migrated in a temporary copy), none the target or
 * given twice, and at most {@link MAX_SHARDS} of them.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UserInputError } from '../../shared/errors.js';
import { openStore } from '../db.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../schema.js';

/** Databases one merge reads: SQLite's limit on attached databases (better-sqlite3 builds with 10). */
export const MAX_SHARDS = 10;

/** A shard that passed {@link checkShards}. */
export interface ShardInfo {
  /** As given. */
  shard: string;
  /** Absolute path. */
  file: string;
  schemaVersion: number;
}

/**
 * Checks that every shard is a database written by xray-lp, of this schema or an older one, and
 * none is the target or given twice; throws a {@link UserInputError} naming the first that is not.
 * Reads only. `target` is the target database's path (it need not exist yet).
 */
export function checkShards(shards: readonly string[], target?: string): ShardInfo[] {
  const handles: Database.Database[] = [];
  try {
    return openShards(shards, target, handles);
  } finally {
    for (const h of handles) h.close();
  }
}

/** {@link checkShards}, leaving each shard open read-only in `handles` (see mergeShards). */
export function openShards(
  shards: readonly string[],
  target: string | undefined,
  handles: Database.Database[],
): ShardInfo[] {
  if (shards.length === 0) throw new UserInputError('merge: no shard given: pass the databases to merge');
  if (shards.length > MAX_SHARDS)
    throw new UserInputError(
      `merge: ${shards.length} shards given; one merge reads at most ${MAX_SHARDS} (SQLite attaches at most ${MAX_SHARDS} databases to one connection, and the merge is one transaction). Merge them in several runs: each is all or nothing, and merging is idempotent.`,
    );
  const targetReal = target && target !== ':memory:' ? realOrResolved(target) : undefined;
  const seen = new Map<string, string>();
  const out: ShardInfo[] = [];
  for (const shard of shards) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(shard);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserInputError(
        code === 'ENOENT'
          ? `merge: no such file: ${shard}`
          : `merge: cannot read ${shard}: ${(err as Error).message}`,
      );
    }
    if (!stat.isFile()) throw new UserInputError(`merge: ${shard} is not a file: pass database files`);
    const file = realOrResolved(shard);
    if (targetReal !== undefined && file === targetReal)
      throw new UserInputError(
        `merge: ${shard} is the target database itself (--db): pass the other databases`,
      );
    const twice = seen.get(file);
    if (twice !== undefined) throw new UserInputError(`merge: ${shard} is given twice (also as ${twice})`);
    seen.set(file, shard);
    let db: Database.Database;
    let version: number;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw new UserInputError(`merge: cannot open ${shard}: ${(err as Error).message}`);
    }
    handles.push(db);
    try {
      version = db.pragma('user_version', { simple: true }) as number;
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new UserInputError(
        code === 'SQLITE_NOTADB'
          ? `merge: ${shard} is not an xray-lp database (not even SQLite: ${(err as Error).message}); pass databases written by \`xray-lp ingest\``
          : `merge: cannot read ${shard}: ${(err as Error).message}${code ? ` (${code})` : ''}`,
      );
    }
    if (version > SCHEMA_VERSION)
      throw new UserInputError(
        `merge: ${shard} has schema version ${version}, newer than this xray-lp understands (${SCHEMA_VERSION}); upgrade xray-lp to merge it`,
      );
    const missing = missingSchema(db, version);
    if (missing !== undefined)
      throw new UserInputError(
        `merge: ${shard} is a SQLite database but not an xray-lp one (${missing}); pass databases written by \`xray-lp ingest\``,
      );
    out.push({ shard, file, schemaVersion: version });
  }
  return out;
}

function realOrResolved(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** Tables and columns each schema version has, from the migrations themselves. */
const expectedSchemas = new Map<number, Map<string, string[]>>();

function expectedSchema(version: number): Map<string, string[]> {
  let schema = expectedSchemas.get(version);
  if (schema) return schema;
  const db = new Database(':memory:');
  try {
    for (let v = 0; v < version; v++) db.exec((MIGRATIONS[v] as (typeof MIGRATIONS)[number]).sql);
    schema = tableColumns(db);
  } finally {
    db.close();
  }
  expectedSchemas.set(version, schema);
  return schema;
}

function tableColumns(db: Database.Database): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
    name: string;
  }[];
  for (const { name } of tables) {
    out.set(
      name,
      (db.prepare('SELECT name FROM pragma_table_info(?)').all(name) as { name: string }[]).map(
        (c) => c.name,
      ),
    );
  }
  return out;
}

/** What a database lacks of the xray-lp schema its version says it has, or undefined. */
function missingSchema(db: Database.Database, version: number): string | undefined {
  const have = tableColumns(db);
  if (version === 0)
    return have.size === 0
      ? 'an empty database'
      : `no xray-lp schema version; its tables: ${[...have.keys()].slice(0, 5).join(', ')}${have.size > 5 ? ', …' : ''}`;
  for (const [table, columns] of expectedSchema(version)) {
    const got = have.get(table);
    if (!got) return `schema version ${version} but no table ${table}`;
    const lacking = columns.filter((c) => !got.includes(c));
    if (lacking.length > 0) return `table ${table} lacks ${lacking.join(', ')}`;
  }
  return undefined;
}

/** A copy of an older shard, migrated to the current schema (the shard itself is left as it is). */
export function migratedCopy(handle: Database.Database, dir: string): string {
  const copy = path.join(dir, `shard-${fs.readdirSync(dir).length}.db`);
  // VACUUM INTO reads through the shard's WAL, if any, and writes one consistent file.
  handle.prepare('VACUUM INTO ?').run(copy);
  openStore({ path: copy }).close();
  return copy;
}
