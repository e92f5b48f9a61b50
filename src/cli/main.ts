#!/usr/bin/env node
/**
 * Entry point of the `xray-lp` binary: the only place that ends the process.
 */
import { processIO } from './io.js';
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), processIO());
process.exitCode = code;
