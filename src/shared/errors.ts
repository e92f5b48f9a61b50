/**
 * Typed errors. Each message says what went wrong and how to fix it; the CLI maps each class to
 * a documented exit code and prints the message without a stack trace.
 */

/** Exit codes, documented in README "Exit codes". */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  rejectedInputs: 3,
  checkFailed: 4,
  /** `policy --check-complete`: a selected workload's traces are not enough (not settled). */
  incomplete: 5,
  /** `explain`: the permission is not granted (the explanation is printed either way). */
  notGranted: 6,
  /** Stopped by SIGINT (Ctrl-C) after cleaning up: 128 + 2. */
  interrupted: 130,
  /** Stopped by SIGTERM after cleaning up: 128 + 15. */
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Base class for errors caused by the user or their data (printed without a stack trace). */
export class XrayLpError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Wrong options or arguments (exit 2). */
export class UserInputError extends XrayLpError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** Where in an input a problem was found. */
export interface InputPosition {
  /** Byte offset from the start of the (decompressed) input. */
  offset: number;
  /** 1-based line and column, when they could be computed. */
  line?: number;
  column?: number;
}

/** An input that is not a dump we can read: wrong shape, bad JSON, truncated (input rejected, exit 3). */
export class DumpFormatError extends XrayLpError {
  readonly position: InputPosition | undefined;
  readonly hint: string | undefined;
  constructor(message: string, options: { position?: InputPosition; hint?: string } = {}) {
    super(message, EXIT.rejectedInputs);
    this.position = options.position;
    this.hint = options.hint;
  }
}

/** Why a file could not be written, as {@link WriteError} names it. */
export type WriteFailure =
  | 'no-space'
  | 'read-only'
  | 'permission'
  | 'is-a-directory'
  | 'not-a-directory'
  | 'missing-folder'
  | 'exists';

/**
 * An output file or folder could not be written: the disk is full, the file system read-only,
 * the path a directory… (exit 1). Nothing was published and the temporaries were removed.
 */
export class WriteError extends XrayLpError {
  readonly failure: WriteFailure;
  constructor(failure: WriteFailure, message: string) {
    super(message, EXIT.failure);
    this.failure = failure;
  }
}

/**
 * The run was interrupted (SIGINT, SIGTERM) and stopped cleanly: what it was writing was
 * removed or rolled back. The CLI says what the interrupt did and exits 128 + the signal number.
 */
export class InterruptedError extends Error {
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/** The database cannot be used: newer schema, not a database, unwritable (exit 1). */
export class StoreError extends XrayLpError {
  constructor(message: string) {
    super(message, EXIT.failure);
  }
}
