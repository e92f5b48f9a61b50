/**
 * better-sqlite3's native module: whether it loads in this Node.js, and what to do when it does
 * not. It is built for one os, arch and Node ABI (NODE_MODULE_VERSION); a release carried to a
 * machine whose Node differs fails here, and the user must read why, not a native stack.
 */
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { StoreError } from '../shared/errors.js';

const require = createRequire(import.meta.url);

/** What the native module reports once loaded. */
export interface NativeModuleInfo {
  /** better-sqlite3's package version. */
  betterSqlite3: string;
  /** The SQLite library compiled into it. */
  sqlite: string;
}

/** better-sqlite3's package version, read from its package.json (no native code involved). */
export function betterSqlite3Version(): string {
  return (require('better-sqlite3/package.json') as { version: string }).version;
}

/**
 * Loads the native module (an in-memory database, opened and closed) and returns its versions.
 * Throws the {@link StoreError} of {@link nativeLoadProblem} when it cannot load.
 */
export function loadNativeModule(): NativeModuleInfo {
  let db: Database.Database | undefined;
  try {
    db = new Database(':memory:');
    const sqlite = db.prepare('SELECT sqlite_version() AS v').get() as { v: string };
    return { betterSqlite3: betterSqlite3Version(), sqlite: sqlite.v };
  } catch (err) {
    throw nativeLoadProblem(err) ?? err;
  } finally {
    db?.close();
  }
}

/**
 * The error to show when `err` says better-sqlite3's native module could not be loaded (built for
 * another Node ABI, another os or arch, or missing), else undefined. The message names the ABI
 * it was built for and the one this Node needs, and how to fix it.
 */
export function nativeLoadProblem(
  err: unknown,
  running: { node: string; abi: string } = { node: process.version, abi: process.versions.modules },
): StoreError | undefined {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : '';
  const dlopen = e?.code === 'ERR_DLOPEN_FAILED';
  const missing = /Could not locate the bindings file/.test(message);
  if (!dlopen && !missing) return undefined;
  const fix =
    `Run xray-lp with the Node.js major it was built with (a release names it in BUILD.json), ` +
    `or rebuild it for this one: in a checkout \`npm rebuild better-sqlite3\`; a release is built again ` +
    `with this Node major on a connected machine (README, "Installing where there is no network").`;
  const abi =
    /NODE_MODULE_VERSION (\d+)\. This version of Node\.js requires\s+NODE_MODULE_VERSION (\d+)/.exec(message);
  if (abi)
    return new StoreError(
      `better-sqlite3's native module was built for another Node.js (NODE_MODULE_VERSION ${abi[1]}) than this one (${running.node}, NODE_MODULE_VERSION ${abi[2]}), so it cannot load. ${fix}`,
    );
  const first = (missing ? 'its compiled file (build/Release/better_sqlite3.node) is missing' : message)
    .split('\n')[0]
    ?.trim();
  return new StoreError(
    `better-sqlite3's native module cannot load in this Node.js (${running.node}, NODE_MODULE_VERSION ${running.abi}, ${process.platform}-${process.arch}): ${first}. ${fix}`,
  );
}
