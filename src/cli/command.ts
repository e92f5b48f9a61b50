/**
 * How a command is declared: every `register…` function in commands/ has this one signature, and
 * program.ts registers them from one list, in the order `--help` shows them.
 */
import type { Command } from 'commander';
import type { ExitCode } from '../shared/errors.js';
import type { CliIO } from './io.js';

/** What every command may use besides its options: the I/O, the exit code, the version. */
export interface CommandContext {
  io: CliIO;
  /** Sets the exit code the command ends with (a failure that is not an error: exit 3 to 6). */
  setExit: (code: ExitCode) => void;
  /** The package version (reports, exports and the self-test record it). */
  version: string;
}

/** Adds one command (or a pair that share their code) to the program. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;
