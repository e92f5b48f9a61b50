/**
 * `npm run release`: a self-contained release for machines with no network and no compiler.
 *
 * Writes `release/xray-lp-<version>-<os>-<arch>.tar.gz` and `release/SHA256SUMS` (every archive in
 * the folder). The archive holds one folder, `xray-lp-<version>/`: `bin/xray-lp` (a POSIX sh
 * launcher), the built code (`dist/`, no source maps), the runtime packages copied from this
 * checkout's node_modules (better-sqlite3 reduced to its JavaScript and its compiled module for
 * this os, arch and Node ABI), `BUILD.json`, `sbom.cdx.json` (CycloneDX 1.5), `THIRD-PARTY-LICENSES`,
 * `samples/` (the demo's inputs and the self-test's expected result), `data/` (the bundled AWS
 * managed policies) and README.md. Nothing is
 * downloaded: run it after `npm ci` on a connected machine with the target's os, arch and Node
 * major. It refuses to build when a runtime package's licence is not a permissive one.
 *
 * Usage: node --import tsx tools/release.ts [--out DIR]   (npm run release builds dist/ first)
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { bundledSamples, EXPECTED_POLICIES } from '../src/cli/samples.js';
import { VERSION } from '../src/cli/program.js';
import { catalogueVersion } from '../src/iam/catalogue.js';
import { BUILD_INFO_FILE, type BuildInfo } from '../src/selftest/build-info.js';
import { loadNativeModule } from '../src/store/native.js';
import { SCHEMA_VERSION } from '../src/store/schema.js';
import { licenceFiles, permissive, runtimePackages, type RuntimePackage } from './packages.js';
import { cycloneDx } from './sbom.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Options for {@link buildRelease}. */
export interface ReleaseOptions {
  /** The checkout to build from (with dist/ built and node_modules installed). */
  root: string;
  /** Where the archive and SHA256SUMS go. */
  out: string;
}

/** What {@link buildRelease} wrote. */
export interface ReleaseResult {
  archive: string;
  sums: string;
  /** The folder name inside the archive (`xray-lp-0.2.0`). */
  folder: string;
  build: BuildInfo;
  packages: RuntimePackage[];
}

interface PackageJson {
  name: string;
  version: string;
  description?: string;
  license?: string;
  type?: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
}

/** Builds the release; throws with what to do when it cannot. */
export async function buildRelease(options: ReleaseOptions): Promise<ReleaseResult> {
  const { root } = options;
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;
  if (pkg.version !== VERSION) throw new Error(`package.json says ${pkg.version}, the code ${VERSION}`);
  if (!fs.existsSync(path.join(root, 'dist/cli/main.js')))
    throw new Error('dist/ is not built: run `npm run build` (npm run release does it first).');
  const packages = runtimePackages(root, Object.keys(pkg.dependencies ?? {}));
  const refused = packages.filter((p) => !permissive(p.license));
  if (refused.length > 0)
    throw new Error(
      `not a permissive licence: ${refused.map((p) => `${p.name}@${p.version} (${p.license ?? 'none declared'})`).join(', ')}. Replace the package or add its licence to tools/packages.ts after a review.`,
    );

  const native = loadNativeModule();
  const folder = `xray-lp-${pkg.version}`;
  const name = `${folder}-${process.platform}-${process.arch}.tar.gz`;
  fs.mkdirSync(options.out, { recursive: true });
  const staging = fs.mkdtempSync(path.join(options.out, '.staging-'));
  try {
    const top = path.join(staging, folder);
    fs.mkdirSync(top);
    // The built code, without source maps (they point at src/, which is not shipped).
    fs.cpSync(path.join(root, 'dist'), path.join(top, 'dist'), {
      recursive: true,
      filter: (src) => !src.endsWith('.map'),
    });
    for (const p of packages) copyPackage(p, path.join(top, p.path));
    copySamples(root, top);
    // The bundled catalogue of AWS managed policies (read lazily by dist/granted/managed.js).
    fs.cpSync(path.join(root, 'data'), path.join(top, 'data'), { recursive: true });
    fs.copyFileSync(path.join(root, 'README.md'), path.join(top, 'README.md'));
    fs.writeFileSync(
      path.join(top, 'package.json'),
      `${JSON.stringify(
        {
          name: pkg.name,
          version: pkg.version,
          description: pkg.description,
          license: pkg.license,
          type: pkg.type,
          engines: pkg.engines,
          bin: { 'xray-lp': 'bin/xray-lp' },
          dependencies: pkg.dependencies,
        },
        null,
        2,
      )}\n`,
    );
    const build: BuildInfo = {
      name: pkg.name,
      version: pkg.version,
      os: process.platform,
      arch: process.arch,
      libc: libc(),
      node: process.version,
      nodeModuleVersion: process.versions.modules,
      engines: pkg.engines?.node ?? '',
      betterSqlite3: native.betterSqlite3,
      sqlite: native.sqlite,
      catalogue: { package: catalogueVersion().package, version: catalogueVersion().version },
      schema: SCHEMA_VERSION,
      commit: commitOf(root),
      packages: packages.length,
    };
    fs.writeFileSync(path.join(top, BUILD_INFO_FILE), `${JSON.stringify(build, null, 2)}\n`);
    fs.writeFileSync(
      path.join(top, 'sbom.cdx.json'),
      `${JSON.stringify(cycloneDx({ root, pkg, build, packages }), null, 2)}\n`,
    );
    fs.writeFileSync(path.join(top, 'THIRD-PARTY-LICENSES'), thirdPartyLicences(packages, build, root));
    fs.mkdirSync(path.join(top, 'bin'));
    fs.writeFileSync(path.join(top, 'bin/xray-lp'), launcher(build), { mode: 0o755 });

    const archive = path.join(options.out, name);
    await tarGz(staging, folder, archive, commitTime(root));
    const sums = writeSums(options.out);
    return { archive, sums, folder, build, packages };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Copies one package without its nested node_modules (those bundled are copied as packages of
 * their own). better-sqlite3 keeps only what runs: package.json, its licence, lib/ and the
 * compiled module, not its C sources (deps/, src/) nor the build's intermediates.
 */
function copyPackage(p: RuntimePackage, dest: string): void {
  if (p.name === 'better-sqlite3') {
    const keep = ['package.json', 'lib', 'build/Release/better_sqlite3.node', ...licenceFiles(p.dir)];
    for (const k of keep) {
      if (!fs.existsSync(path.join(p.dir, k)))
        throw new Error(
          `better-sqlite3 has no ${k}: its native module is not built for this Node. Run \`npm rebuild better-sqlite3\`.`,
        );
      fs.cpSync(path.join(p.dir, k), path.join(dest, k), { recursive: true, dereference: true });
    }
    return;
  }
  const nested = path.join(p.dir, 'node_modules');
  fs.cpSync(p.dir, dest, {
    recursive: true,
    dereference: true,
    filter: (src) => src !== nested && !src.startsWith(nested + path.sep),
  });
}

/** The demo's and self-test's inputs, their expected result, and the granted-policy samples (for `compare`). */
function copySamples(root: string, top: string): void {
  const inputs = [
    ...bundledSamples().flatMap((s) => s.inputs),
    EXPECTED_POLICIES,
    path.join(root, 'samples/granted'),
  ];
  for (const input of inputs) {
    const rel = path.relative(root, input);
    if (rel.startsWith('..') || !rel.startsWith('samples'))
      throw new Error(`sample ${input} is outside ${root}/samples`);
    fs.cpSync(input, path.join(top, rel), { recursive: true });
  }
}

/** `glibc 2.36` or `musl` on Linux (a native module built on one does not load on the other), else null. */
function libc(): string | null {
  if (process.platform !== 'linux') return null;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header;
  return header?.glibcVersionRuntime ? `glibc ${header.glibcVersionRuntime}` : 'musl';
}

/** The checkout's commit, `+dirty` when it has changes; null outside git. */
function commitOf(root: string): string | null {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) return null;
  const status = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' });
  return `${head.stdout.trim()}${status.stdout.trim() ? '+dirty' : ''}`;
}

/** The commit's time in epoch seconds (the archive's file dates), or undefined outside git. */
function commitTime(root: string): string | undefined {
  const r = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 && /^\d+$/.test(r.stdout.trim()) ? r.stdout.trim() : undefined;
}

/** Every bundled package's licence texts, and SQLite's (compiled into the native module). */
function thirdPartyLicences(packages: RuntimePackage[], build: BuildInfo, root: string): string {
  const rule = '='.repeat(80);
  const parts = [
    `Third-party software in ${build.name} ${build.version} (${build.os}-${build.arch}): the licence of each`,
    `runtime package bundled in node_modules/, as its package ships it. sbom.cdx.json lists the same.`,
  ];
  for (const p of packages) {
    const files = licenceFiles(p.dir);
    parts.push(
      rule,
      `${p.name} ${p.version} (${p.license ?? 'no licence declared'})`,
      p.path,
      '-'.repeat(80),
    );
    if (files.length === 0)
      parts.push(`The package ships no licence file; its package.json declares ${p.license ?? 'none'}.`);
    for (const f of files) parts.push(fs.readFileSync(path.join(p.dir, f), 'utf8').trimEnd());
  }
  parts.push(
    rule,
    'iann0036/iam-dataset (MIT): the AWS managed policies of data/managed-policies.json.gz (data/README.md)',
    '-'.repeat(80),
    fs.readFileSync(path.join(root, 'data/LICENSE.iam-dataset'), 'utf8').trimEnd(),
  );
  parts.push(
    rule,
    `SQLite ${build.sqlite} (public domain), compiled into node_modules/better-sqlite3/build/Release/better_sqlite3.node`,
    '-'.repeat(80),
    [
      'The author disclaims copyright to this source code. In place of a legal notice, here is a blessing:',
      '',
      '    May you do good and not evil.',
      '    May you find forgiveness for yourself and forgive others.',
      '    May you share freely, never taking more than you give.',
    ].join('\n'),
  );
  return `${parts.join('\n')}\n`;
}

/**
 * bin/xray-lp: finds the release folder (following symlinks to itself), then checks the `node` on
 * PATH before running the bundled code with it: present, at least engines' version, and the
 * os, arch and ABI the native module was built for. Each refusal says what to do, in one line.
 */
function launcher(build: BuildInfo): string {
  const m = /^>=\s*(\d+)\.(\d+)/.exec(build.engines);
  const [minMajor, minMinor] = m ? [m[1], m[2]] : ['20', '19'];
  const major = build.node.replace(/^v/, '').split('.')[0];
  const readme = 'README, "Installing where there is no network"';
  return `#!/bin/sh
# xray-lp ${build.version} launcher: runs the bundled code with the node on PATH.
# Built with Node ${build.node} (NODE_MODULE_VERSION ${build.nodeModuleVersion}) for ${build.os}-${build.arch}; see BUILD.json.
set -u
BUILT_ABI=${build.nodeModuleVersion}
BUILT_FOR=${build.os}-${build.arch}
self=$0
while [ -L "$self" ]; do
  link=$(readlink "$self")
  case $link in
    /*) self=$link ;;
    *) self=$(dirname "$self")/$link ;;
  esac
done
root=$(CDPATH= cd -- "$(dirname -- "$self")/.." && pwd -P) || exit 1
if ! command -v node >/dev/null 2>&1; then
  echo "xray-lp: no node on PATH. Install Node.js ${major} (${build.engines}; this release was built with ${build.node}) and put it on PATH (${readme})." >&2
  exit 1
fi
info=$(node -e 'process.stdout.write([process.versions.node, process.versions.modules, process.platform + "-" + process.arch].join(" "))' 2>/dev/null) || info=
ver=\${info%% *}
rest=\${info#* }
abi=\${rest%% *}
platform=\${rest#* }
vmajor=\${ver%%.*}
vrest=\${ver#*.}
vminor=\${vrest%%.*}
case "$vmajor.$vminor" in
  *[!0-9.]* | .* | *.) echo "xray-lp: $(command -v node) does not run as Node.js (it printed '$info'). Put Node.js ${major} (${build.engines}) first on PATH." >&2; exit 1 ;;
esac
if [ "$vmajor" -lt ${minMajor} ] || { [ "$vmajor" -eq ${minMajor} ] && [ "$vminor" -lt ${minMinor} ]; }; then
  echo "xray-lp: the node on PATH ($(command -v node)) is v$ver, too old: xray-lp needs Node.js ${build.engines} (this release was built with ${build.node}). Put a newer Node.js ${major} first on PATH." >&2
  exit 1
fi
if [ "$platform" != "$BUILT_FOR" ]; then
  echo "xray-lp: this release is built for $BUILT_FOR, but the node on PATH runs on $platform: its native module (better-sqlite3) cannot load. Build the release on a $platform machine (${readme})." >&2
  exit 1
fi
if [ "$abi" != "$BUILT_ABI" ]; then
  echo "xray-lp: the node on PATH is v$ver (NODE_MODULE_VERSION $abi), but this release's native module (better-sqlite3) was built with ${build.node} (NODE_MODULE_VERSION $BUILT_ABI) and cannot load. Put Node.js ${major} first on PATH, or build the release again with Node.js \${vmajor} on a connected machine (${readme})." >&2
  exit 1
fi
exec node "$root/dist/cli/main.js" "$@"
`;
}

/**
 * Writes `folder` (inside `parent`) as a gzip-compressed tar. The system's tar writes the archive
 * (GNU tar: sorted, owned by root, dated by the commit, so the same tree gives the same bytes);
 * zlib compresses it (no name or time in the gzip header).
 */
async function tarGz(
  parent: string,
  folder: string,
  archive: string,
  epoch: string | undefined,
): Promise<void> {
  const gnu = /GNU tar/.test(spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout ?? '');
  const args = [
    ...(gnu
      ? ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', ...(epoch ? [`--mtime=@${epoch}`] : [])]
      : []),
    '-cf',
    '-',
    '-C',
    parent,
    folder,
  ];
  const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  tar.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', resolve);
  });
  await pipeline(tar.stdout, zlib.createGzip({ level: 9 }), fs.createWriteStream(archive));
  const code = await exited;
  if (code !== 0) throw new Error(`tar ${args.join(' ')} exited with ${code}: ${err}`);
}

/** SHA256SUMS for every archive in `out`, in `sha256sum -c`'s format; returns its path. */
function writeSums(out: string): string {
  const lines = fs
    .readdirSync(out)
    .filter((f) => f.endsWith('.tar.gz'))
    .sort()
    .map(
      (f) =>
        `${crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(out, f)))
          .digest('hex')}  ${f}`,
    );
  const file = path.join(out, 'SHA256SUMS');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const out = path.resolve(
    at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : path.join(ROOT, 'release'),
  );
  const started = Date.now();
  const r = await buildRelease({ root: ROOT, out });
  const size = fs.statSync(r.archive).size;
  console.log(
    `Wrote ${path.relative(process.cwd(), r.archive) || r.archive} (${(size / 1024 / 1024).toFixed(1)} MiB, ${r.packages.length} runtime packages, Node ${r.build.node} ABI ${r.build.nodeModuleVersion}, ${r.build.os}-${r.build.arch}) and ${path.relative(process.cwd(), r.sums) || r.sums} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(
    `Check it where it lands: sha256sum -c SHA256SUMS; then tar -xzf ${path.basename(r.archive)} && ${r.folder}/bin/xray-lp self-test`,
  );
}
