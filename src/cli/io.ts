/**
 * The CLI's one door to the process: output streams, exit codes, and how errors are shown.
 */
import { EXIT, XrayLpError, type ExitCode } from '../shared/errors.js';
import { safe } from './render.js';

/** Where a command writes; tests pass buffers instead of the process streams. */
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stderr is a terminal (progress lines are drawn only then). */
  errIsTTY: boolean;
  /** Cells per line of stdout when it is a terminal; absent when it is not (a pipe, a file, a test). */
  outColumns?: number;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * Aborted on the first SIGINT or SIGTERM (src/cli/main.ts): commands that write stop at their
   * next step, remove what they wrote and throw InterruptedError. Tests pass their own.
   */
  signal?: AbortSignal;
}

/** The real process streams. */
export function processIO(): CliIO {
  // A closed pipe (`xray-lp … | head`) is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    errIsTTY: Boolean(process.stderr.isTTY),
    outColumns: process.stdout.isTTY ? process.stdout.columns : undefined,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** The width tables use when no terminal says otherwise (stdout piped, or a terminal of unknown size). */
export const DEFAULT_WIDTH = 100;

/**
 * The width tables are fitted to, in terminal cells: the `COLUMNS` environment variable when it
 * is a positive whole number, else the width of the terminal stdout is, else {@link DEFAULT_WIDTH}.
 */
export function terminalWidth(io: CliIO): number {
  const env = io.env.COLUMNS?.trim();
  if (env && /^\d+$/.test(env) && Number(env) > 0) return Number(env);
  if (io.outColumns !== undefined && io.outColumns > 0) return io.outColumns;
  return DEFAULT_WIDTH;
}

/** Prints an error the way users should see it and returns the exit code. */
export function reportError(io: CliIO, err: unknown): ExitCode {
  if (err instanceof XrayLpError) {
    io.err(`xray-lp: ${safe(err.message)}\n`);
    return err.exitCode;
  }
  const e = err as { code?: string; message?: string; stack?: string };
  if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_')) {
    const hint =
      e.code === 'SQLITE_BUSY'
        ? 'another process holds the database; wait for it to finish or raise --busy-timeout'
        : e.code === 'SQLITE_FULL'
          ? 'the disk is full; free space and run the command again (inputs not yet committed were rolled back whole; what is stored is never stored twice)'
          : e.code === 'SQLITE_READONLY'
            ? 'the database file or its directory is read-only; pass a writable --db'
            : 'check the database file, or pass another --db';
    io.err(`xray-lp: database error: ${safe(e.message)} (${e.code}); ${hint}\n`);
    return EXIT.failure;
  }
  io.err(`xray-lp: internal error: ${safe(e?.message ?? String(err))}\n`);
  if (io.env.XRAY_LP_DEBUG) io.err(`${safe(e?.stack ?? '')}\n`);
  else io.err('Set XRAY_LP_DEBUG=1 for details, and please report it.\n');
  return EXIT.failure;
}
