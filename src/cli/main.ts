#!/usr/bin/env node
/**
 * Entry point of the `xray-lp` binary: the only place that ends the process.
 */
import { processIO } from './io.js';
import { runCli } from './program.js';

// Ctrl-C during an ingest: the input being read is one uncommitted transaction, which SQLite
// discards; say so instead of dying silently.
process.once('SIGINT', () => {
  process.stderr.write(
    '\nxray-lp: interrupted. Inputs already reported as ingested are kept; the one being read was not (each input is one transaction). Run the same command again to finish.\n',
  );
  process.exit(130);
});

const code = await runCli(process.argv.slice(2), processIO());
process.exitCode = code;
