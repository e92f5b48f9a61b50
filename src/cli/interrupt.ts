/**
 * What an interrupt (SIGINT, SIGTERM) does to the running command, said on stderr
 * (README, "Exit codes"). src/cli/main.ts owns the signal handlers; each command says here, when
 * it starts, whether it stops cleanly on `io.signal` (graceful: it removes or rolls back what it
 * was writing, then throws InterruptedError) or may simply end (nothing of it is half-done on
 * disk), and what to tell the user.
 */

/** How the running command takes an interrupt. */
export interface Interruption {
  /**
   * True: the first signal aborts `io.signal` and the command cleans up and stops at its next
   * step (a second signal ends the process at once). False: the process ends at once.
   */
  graceful: boolean;
  /** What the interrupt did to the command's work, one sentence for stderr. */
  message: string;
  /** What a second interrupt, ending a graceful command at once, leaves (default: `message`). */
  atOnce?: string;
}

/** Commands that write nothing (queries): ending them at once loses nothing. */
export const NOTHING_WRITTEN: Interruption = {
  graceful: false,
  message: 'interrupted; nothing was written.',
};

let current: Interruption = NOTHING_WRITTEN;

/** Declares how the command starting now takes an interrupt. */
export function onInterrupt(i: Interruption): void {
  current = i;
}

/** How the running command takes an interrupt. */
export function currentInterruption(): Interruption {
  return current;
}
