/**
 * Options shared by several commands.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { mergeGranted, readGranted, type GrantedFile, type GrantedInputs } from '../granted/granted.js';
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

/**
 * Reads `--granted` files into one set: IAM policies, authorization details, Lambda function
 * lists and infrastructure as code, each recognised by its content. `-` is standard input (read
 * once); a folder is a CDK cloud assembly (`cdk.out`), whose `*.template.json` are read.
 */
export async function readGrantedFiles(
  files: readonly string[],
  cwd: string,
  stdin?: NodeJS.ReadableStream,
): Promise<GrantedInputs> {
  const parsed: GrantedFile[] = [];
  for (const file of files) {
    if (file === '-') {
      if (!stdin) throw new UserInputError('--granted -: standard input is not available here.');
      parsed.push(await readGranted(await readAll(stdin), '-'));
      continue;
    }
    // Named as given; read from `cwd` (the CLI's, which in-process callers set).
    const full = path.resolve(cwd, file);
    let names: string[] = [file];
    try {
      if (fs.statSync(full).isDirectory()) names = cloudAssembly(full, file);
    } catch (err) {
      throw new UserInputError(`--granted ${file}: ${(err as Error).message}`);
    }
    for (const name of names) {
      let text: string;
      try {
        text = fs.readFileSync(path.resolve(cwd, name), 'utf8');
      } catch (err) {
        throw new UserInputError(`--granted ${name}: ${(err as Error).message}`);
      }
      parsed.push(await readGranted(text, name));
    }
  }
  return mergeGranted(parsed);
}

/** The templates of a CDK cloud assembly folder (and of its nested stage assemblies), sorted. */
function cloudAssembly(dir: string, given: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isFile() && e.name.endsWith('.template.json')) out.push(path.join(given, e.name));
    else if (e.isDirectory() && e.name.startsWith('assembly-'))
      out.push(...cloudAssembly(path.join(dir, e.name), path.join(given, e.name)));
  }
  if (out.length === 0)
    throw new UserInputError(
      `--granted ${given} is a folder without *.template.json: pass a CDK cloud assembly (cdk.out, after \`cdk synth\`) or the files themselves.`,
    );
  return out;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
