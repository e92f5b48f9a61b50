#!/usr/bin/env node
/**
 * Entry point of the `xray-lp` binary: the only place that ends the process, and the one owner
 * of the signal handlers. SIGINT or SIGTERM: a command that stops cleanly (src/cli/interrupt.ts)
 * sees `io.signal` aborted, removes or rolls back what it was writing and says so; any other
 * command (or a second signal) ends at once, after saying what the interrupt did to its work.
 * Exit 130 (SIGINT) or 143 (SIGTERM).
 */
import { EXIT } from '../shared/errors.js';
import { currentInterruption } from './interrupt.js';
import { processIO } from './io.js';
import { runCli } from './program.js';

const controller = new AbortController();
const codeOf = (signal: unknown): number => (signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
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

const code = await runCli(process.argv.slice(2), { ...processIO(), signal: controller.signal });
if (controller.signal.aborted && code === EXIT.ok) {
  // The signal came after the command's last look at it: its work is complete.
  process.stderr.write('\nxray-lp: interrupted as it finished; what it wrote is complete.\n');
  process.exitCode = codeOf(controller.signal.reason);
} else {
  process.exitCode = code;
}
