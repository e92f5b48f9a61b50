/**
 * The runtime packages a release bundles: package.json's dependencies and everything they need at
 * run time, found in node_modules the way Node's resolver finds them, with their licences.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One bundled package. */
export interface RuntimePackage {
  name: string;
  version: string;
  /** package.json's `license` (an SPDX expression), or undefined when it declares none. */
  license: string | undefined;
  description: string | undefined;
  /** Repository URL, when package.json names one. */
  repository: string | undefined;
  /** Where it lies in the release: `node_modules/…`, the same as in the checkout. */
  path: string;
  /** Its folder in the checkout. */
  dir: string;
  /** The `path`s of the bundled packages it requires. */
  dependsOn: string[];
}

/**
 * Dependencies used only to install a package, never when it runs: better-sqlite3's install
 * script fetches a prebuilt binary (prebuild-install, with an HTTP client) or compiles one. A
 * release carries the compiled module instead, so neither they nor their dependencies are bundled.
 */
export const INSTALL_ONLY: Readonly<Record<string, readonly string[]>> = {
  'better-sqlite3': ['prebuild-install'],
};

/**
 * SPDX licences admitted in a release: permissive ones, and MPL-2.0 after review (file-level
 * copyleft: @cdktf/hcl2json, HashiCorp's HCL parser that reads `--granted` .tf files, is shipped
 * unmodified; its source is public).
 */
const PERMISSIVE = new Set([
  'MIT',
  'ISC',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'Apache-2.0',
  '0BSD',
  'BlueOak-1.0.0',
  'CC0-1.0',
  'Unlicense',
  'MPL-2.0',
]);

/**
 * True when the SPDX expression grants a permissive licence: a listed one, or an `OR` of which
 * one alternative is (`(MIT OR WTFPL)`); `AND` needs every part.
 */
export function permissive(expression: string | undefined): boolean {
  if (!expression) return false;
  const e = expression.trim().replace(/^\((.*)\)$/, '$1');
  if (/ OR /.test(e)) return e.split(/ OR /).some((part) => permissive(part));
  if (/ AND /.test(e)) return e.split(/ AND /).every((part) => permissive(part));
  return PERMISSIVE.has(e.trim());
}

/** The licence files at the top of a package folder (LICENSE, LICENCE.md, license, COPYING, NOTICE…), sorted. */
export function licenceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /^(licen[cs]e|copying|notice)([-._].*)?$/i.test(e.name))
    .map((e) => e.name)
    .sort();
}

interface Manifest {
  name: string;
  version: string;
  license?: unknown;
  licenses?: { type?: string }[];
  description?: string;
  repository?: string | { url?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * The runtime closure of `roots` (package names) in `root`'s node_modules, sorted by path. A
 * dependency is looked up as Node does: in the requiring package's own node_modules, then in each
 * node_modules above it. A missing optional dependency is skipped; a missing required one throws.
 */
export function runtimePackages(root: string, roots: readonly string[]): RuntimePackage[] {
  const found = new Map<string, RuntimePackage>();
  const visit = (name: string, from: string, optional: boolean): string | undefined => {
    const dir = resolvePackage(root, from, name);
    if (!dir) {
      if (optional) return undefined;
      throw new Error(
        `${name} (needed by ${path.relative(root, from) || 'xray-lp'}) is not installed: run \`npm ci\` first.`,
      );
    }
    const rel = path.relative(root, dir).split(path.sep).join('/');
    if (found.has(rel)) return rel;
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
    const p: RuntimePackage = {
      name: m.name,
      version: m.version,
      license: licenceOf(m),
      description: m.description,
      repository: typeof m.repository === 'string' ? m.repository : m.repository?.url,
      path: rel,
      dir,
      dependsOn: [],
    };
    found.set(rel, p);
    const skip = new Set(INSTALL_ONLY[m.name] ?? []);
    const deps = [
      ...Object.keys(m.dependencies ?? {}).map((d) => [d, false] as const),
      ...Object.keys(m.optionalDependencies ?? {}).map((d) => [d, true] as const),
    ];
    for (const [d, opt] of deps) {
      if (skip.has(d)) continue;
      const child = visit(d, dir, opt);
      if (child && !p.dependsOn.includes(child)) p.dependsOn.push(child);
    }
    return rel;
  };
  for (const name of roots) visit(name, root, false);
  return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Where `name` resolves from the package folder `from`: its node_modules, then each one above, up to `root`. */
function resolvePackage(root: string, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') {
      const candidate = path.join(dir, 'node_modules', name);
      if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    }
    if (dir === root || path.dirname(dir) === dir) return undefined;
  }
}

/** package.json's licence as an SPDX expression (the old `licenses` array joined with OR). */
function licenceOf(m: Manifest): string | undefined {
  if (typeof m.license === 'string') return m.license;
  if (m.license && typeof (m.license as { type?: unknown }).type === 'string')
    return (m.license as { type: string }).type;
  const types = (m.licenses ?? []).map((l) => l.type).filter((t): t is string => typeof t === 'string');
  return types.length > 0 ? types.join(' OR ') : undefined;
}
