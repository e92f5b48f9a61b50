import os from 'node:os';
import type { Command } from 'commander';
import { EXIT } from '../../shared/errors.js';
import { readBuildInfo } from '../../selftest/build-info.js';
import { selfTest, type SelfTestResult } from '../../selftest/self-test.js';
import type { CommandContext } from '../command.js';
import { onInterrupt } from '../interrupt.js';
import { safeJson } from '../output.js';
import { safe } from '../render.js';
import { bundledSamples, EXPECTED_POLICIES, PACKAGE_ROOT } from '../samples.js';

/** Registers `xray-lp self-test`: the first command to run where the tool was carried to. */
export function registerSelfTest(program: Command, { io, setExit, version }: CommandContext): void {
  program
    .command('self-test')
    .description(
      'check this installation: load the native module, ingest the bundled samples into a temporary database (removed after) and compare the policies with the expected ones; prints versions, then PASS or FAIL (exit 1, with the differences)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      onInterrupt({
        graceful: false,
        message: `self-test interrupted: nothing was checked to the end, and nothing of yours was written; its temporary database may be left in ${os.tmpdir()} (xray-lp-self-test-…): delete it.`,
      });
      const result = await selfTest({
        samples: bundledSamples(),
        expectedFile: EXPECTED_POLICIES,
        tempDir: os.tmpdir(),
      });
      const build = readBuildInfo(PACKAGE_ROOT) ?? null;
      if (opts.json) io.out(`${safeJson({ version, build, ...result })}\n`);
      else io.out(renderSelfTest(result, version, build));
      if (!result.passed) {
        const failed = result.checks.filter((c) => c.status === 'fail').map((c) => c.name);
        io.err(`xray-lp: self-test failed (${failed.join(', ')}); see above.\n`);
        setExit(EXIT.failure);
      }
    });
}

/** The human report: versions, one line per check, the differences, the verdict. */
function renderSelfTest(
  r: SelfTestResult,
  version: string,
  build: ReturnType<typeof readBuildInfo> | null,
): string {
  const v = r.versions;
  const rows: [string, string][] = [
    ['xray-lp', version],
    ['database schema', String(v.schema)],
    [
      'IAM catalogue',
      `${v.catalogue.package} ${v.catalogue.version}${v.catalogue.updatedAt ? ` (data of ${v.catalogue.updatedAt.slice(0, 10)})` : ''}`,
    ],
    ['Node.js', `${v.node} (NODE_MODULE_VERSION ${v.nodeModuleVersion}), ${v.platform}-${v.arch}`],
    [
      'better-sqlite3',
      v.betterSqlite3 ? `${v.betterSqlite3}, SQLite ${v.sqlite}` : 'does not load (see native-module below)',
    ],
  ];
  if (build)
    rows.push([
      'release built for',
      `Node ${build.node} (NODE_MODULE_VERSION ${build.nodeModuleVersion}), ${build.os}-${build.arch}${build.libc ? `, ${build.libc}` : ''}${build.commit ? `, commit ${build.commit}` : ''}`,
    ]);
  const pad = Math.max(...rows.map(([k]) => k.length));
  const lines = [
    'xray-lp self-test',
    ...rows.map(([k, val]) => `  ${k.padEnd(pad)}  ${safe(val)}`),
    '',
    ...r.checks.map((c) => `${c.status.toUpperCase().padEnd(7)} ${c.name}: ${safe(c.detail)}`),
  ];
  if (r.differenceCount > 0) {
    lines.push('', `Differences (${r.differenceCount}):`, ...r.differences.map((d) => `  ${safe(d)}`));
    if (r.differenceCount > r.differences.length)
      lines.push(`  … and ${r.differenceCount - r.differences.length} more`);
  }
  lines.push('', r.passed ? 'PASS' : 'FAIL');
  return `${lines.join('\n')}\n`;
}
