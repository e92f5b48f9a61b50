/**
 * Options shared by several commands.
 */
import type { Command } from 'commander';
import { DEFAULT_DB_PATH, openStore, type Store } from '../store/db.js';
import type { CliIO } from './io.js';

/** Global options, as commander parses them. */
export interface GlobalOptions {
  db?: string;
  wide?: boolean;
}

/** The database path: `--db`, else `XRAY_LP_DB`, else `./xray-lp.db`. */
export function dbPath(cmd: Command, io: CliIO): string {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  return opts.db ?? io.env.XRAY_LP_DB ?? DEFAULT_DB_PATH;
}

/** Opens the database for reading (query commands): it must exist. */
export function openForRead(cmd: Command, io: CliIO): Store {
  return openStore({ path: dbPath(cmd, io), readonly: true });
}
