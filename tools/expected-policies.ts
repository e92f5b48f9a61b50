/**
 * The expected self-test result, computed the way a user would: `xray-lp ingest` of the bundled
 * samples (the demo's sets, in order) into `db`, then `xray-lp policy --json`, run in-process.
 */
import { bundledSamples } from '../src/cli/samples.js';
import type { CliIO } from '../src/cli/io.js';
import { runCli } from '../src/cli/program.js';

/** The bytes `policy --json` prints for the bundled samples, ingested into the new database `db`. */
export async function expectedPolicies(db: string): Promise<string> {
  for (const set of bundledSamples()) await run(['--db', db, 'ingest', '-q', ...set.inputs]);
  return run(['--db', db, 'policy', '--json']);
}

async function run(argv: string[]): Promise<string> {
  let out = '';
  let err = '';
  const io: CliIO = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    errIsTTY: false,
    stdin: process.stdin,
    env: {},
    cwd: process.cwd(),
  };
  const code = await runCli(argv, io);
  if (code !== 0) throw new Error(`xray-lp ${argv.join(' ')} exited with ${code}: ${err}`);
  return out;
}
