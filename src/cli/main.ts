#!/usr/bin/env node
/**
 * Entry point of the `xray-lp` binary: the only place that ends the process.
 */
import { processIO } from './io.js';
import { runCli } from './program.js';

// Ctrl-C during an ingest: the inputs since the last commit are one uncommitted transaction,
// which SQLite discards; say so instead of dying silently.
process.once('SIGINT', () => {
  process.stderr.write(
    '\nxray-lp: interrupted. What was committed is kept, whole; the inputs not yet committed were rolled back. Run the same command again to finish: what is stored is never stored twice.\n',
  );
  process.exit(130);
});

const code = await runCli(process.argv.slice(2), processIO());
process.exitCode = code;
