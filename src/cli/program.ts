/**
 * The commander program. Built per invocation with injected I/O, so tests run it in-process.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, InterruptedError, type ExitCode } from '../shared/errors.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerIngest, registerMigrate } from './commands/ingest.js';
import { registerMerge } from './commands/merge.js';
import { registerPolicy } from './commands/policy.js';
import { registerCalls } from './commands/calls.js';
import { registerCompare } from './commands/compare.js';
import { registerWorkloads } from './commands/workloads.js';
import { registerStats } from './commands/stats.js';
import { registerSources } from './commands/sources.js';
import { registerTimeline } from './commands/timeline.js';
import { registerUsage } from './commands/usage.js';
import { registerReport } from './commands/report.js';
import { registerSelfTest } from './commands/self-test.js';
import { catalogueVersion } from '../iam/catalogue.js';
import { managedCatalogueInfo } from '../granted/managed.js';
import { SCHEMA_VERSION } from '../store/schema.js';
import { currentInterruption, NOTHING_WRITTEN, onInterrupt } from './interrupt.js';
import type { CommandContext, RegisterCommand } from './command.js';
import { reportError, type CliIO } from './io.js';

/** Every command, in the order `--help` lists them; each registers with the one signature. */
const COMMANDS: readonly RegisterCommand[] = [
  registerIngest,
  registerMigrate,
  registerMerge,
  registerStats,
  registerSources,
  registerWorkloads,
  registerUsage,
  registerCalls,
  registerTimeline,
  registerPolicy,
  registerCompare,
  registerReport,
  registerExport,
  registerDemo,
  registerSelfTest,
];

/** The package version, kept in step with package.json by a test. */
export const VERSION = '0.2.0';

/**
 * What `--version` prints: the version on the first line (what scripts read), then the database
 * schema it writes, the IAM catalogue its actions and ARNs come from (policies depend on both) and
 * the bundled AWS managed policies `compare` reads (how old they are).
 */
export function versionText(): string {
  const c = catalogueVersion();
  const m = managedCatalogueInfo();
  return [
    VERSION,
    `database schema ${SCHEMA_VERSION}`,
    `IAM catalogue ${c.package} ${c.version}${c.updatedAt ? ` (data of ${c.updatedAt.slice(0, 10)})` : ''}`,
    `AWS managed policies ${m.repository.replace(/^https:\/\/github\.com\//, '')} ${m.commit.slice(0, 7)} (data of ${m.date.slice(0, 10)}, ${m.policies.toLocaleString('en-US')} policies)`,
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  const setExit = (c: ExitCode): void => {
    exitCode = c;
  };
  const program = new Command('xray-lp')
    .description(
      'Turn exported AWS traces (X-Ray and OpenTelemetry) into least-privilege IAM policies, offline.',
    )
    .version(
      // The managed-policy catalogue is read only when the version is asked for (about 150 ms).
      argv.includes('--version') || argv.includes('-V') ? versionText() : VERSION,
      '-V, --version',
      'print the version, the database schema and the IAM catalogue version',
    )
    .option('--db <path>', 'database file (env XRAY_LP_DB, default ./xray-lp.db)')
    .option(
      '--wide',
      'do not fit tables to the terminal: show every column (by default a table wider than COLUMNS, else the terminal, else 100, shortens long values, then hides its least important columns, in the order the README lists; --json and --csv are always complete)',
    )
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(run with --help for usage)')
    // Until a command says otherwise (src/cli/interrupt.ts), an interrupt ends it at once.
    .hook('preAction', () => onInterrupt(NOTHING_WRITTEN))
    .addHelpText(
      'after',
      `
Exit codes: 0 success; 1 failure (database unusable, self-test failed, internal error); 2 usage error;
            3 some inputs rejected by ingest; 4 a --check found something;
            5 policy --check-complete: a workload's traces are not enough;
            6 explain: the permission is not granted;
            130 interrupted (SIGINT), 143 terminated (SIGTERM), after saying what it undid.`,
    );
  const context: CommandContext = { io, setExit, version: VERSION };
  for (const register of COMMANDS) register(program, context);
  // Every command works on either trace family; say so where people look first.
  for (const c of program.commands)
    c.addHelpText(
      'after',
      '\nxray-lp works on exported AWS traces of both families, X-Ray and OpenTelemetry (Transaction Search aws/spans, OTLP/JSON…), ingested into one database: see `xray-lp ingest --help`.',
    );
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof InterruptedError && io.signal?.aborted) {
      io.err(`\nxray-lp: ${currentInterruption().message}\n`);
      return io.signal.reason === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
    }
    return reportError(io, err);
  }
}
