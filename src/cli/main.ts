#!/usr/bin/env node
/**
 * Entry point of the `xray-lp` binary: the only place that ends the process, and the one owner
 * of the signal handlers. SIGINT or SIGTERM: a command that stops cleanly (src/cli/interrupt.ts)
 * sees `io.signal` aborted, removes or rolls back what it was writing and says so; any other
 * command (or a second signal) ends at once, after saying what the interrupt did to its work.
 * Exit 130 (SIGINT) or 143 (SIGTERM).
 */
import { currentInterruption } from './interrupt.js';

const controller = new AbortController();
/** True once the command has returned: an interrupt then undoes nothing. */
let finished = false;
const codeOf = (signal: unknown): number => (signal === 'SIGTERM' ? 143 : 130);

// Installed before the rest of the tool is loaded: an interrupt while it loads is said too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (finished) {
      process.stderr.write('\nxray-lp: interrupted as it finished; what it wrote is complete.\n');
      process.exit(codeOf(signal));
    }
    const i = currentInterruption();
    if (i.graceful && !controller.signal.aborted) {
      controller.abort(signal);
      return;
    }
    const message = controller.signal.aborted ? (i.atOnce ?? i.message) : i.message;
    process.stderr.write(`\nxray-lp: ${message}\n`);
    process.exit(codeOf(signal));
  });
}

const { processIO } = await import('./io.js');
const { runCli } = await import('./program.js');
const code = await runCli(process.argv.slice(2), { ...processIO(), signal: controller.signal });
finished = true;
if (controller.signal.aborted && code === 0) {
  // The signal came after the command's last look at it: its work is complete.
  process.stderr.write('\nxray-lp: interrupted as it finished; what it wrote is complete.\n');
  process.exitCode = codeOf(controller.signal.reason);
} else {
  process.exitCode = code;
}
