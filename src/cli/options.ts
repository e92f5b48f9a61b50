/**
 * Options shared by several commands.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { mergeGranted, parseGrantedFile, type GrantedInputs } from '../granted/granted.js';
import { UserInputError } from '../shared/errors.js';
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

/** Reads `--granted` files (IAM policies, authorization details, Lambda function lists) into one set. */
export function readGrantedFiles(files: readonly string[], cwd: string): GrantedInputs {
  return mergeGranted(
    files.map((file) => {
      let text: string;
      try {
        // Named as given; read from `cwd` (the CLI's, which in-process callers set).
        text = fs.readFileSync(path.resolve(cwd, file), 'utf8');
      } catch (err) {
        throw new UserInputError(`--granted ${file}: ${(err as Error).message}`);
      }
      return parseGrantedFile(text, file);
    }),
  );
}
