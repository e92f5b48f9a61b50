/**
 * BUILD.json, written into a release by the release builder (tools/release.ts): what the release
 * was built for. Its native module runs only on that os and arch, under a Node.js of that ABI.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The file's name, at the root of an unpacked release. */
export const BUILD_INFO_FILE = 'BUILD.json';

/** The contents of BUILD.json. */
export interface BuildInfo {
  name: string;
  version: string;
  /** `process.platform` of the build (linux, darwin…). */
  os: string;
  /** `process.arch` of the build (x64, arm64…). */
  arch: string;
  /** The C library on Linux (`glibc 2.36`, `musl`), else null. */
  libc: string | null;
  /** The Node.js that built it (`v20.20.2`). */
  node: string;
  /** NODE_MODULE_VERSION of that Node: the native module loads only under the same. */
  nodeModuleVersion: string;
  /** package.json `engines.node`. */
  engines: string;
  betterSqlite3: string;
  sqlite: string;
  catalogue: { package: string; version: string };
  /** The database schema version it writes. */
  schema: number;
  /** The git commit it was built from (`+dirty` when the tree had changes), or null. */
  commit: string | null;
  /** Runtime packages bundled in node_modules (each in sbom.cdx.json). */
  packages: number;
}

/** BUILD.json of the release rooted at `root`, or undefined in a checkout (or when unreadable). */
export function readBuildInfo(root: string): BuildInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, BUILD_INFO_FILE), 'utf8')) as BuildInfo;
  } catch {
    return undefined;
  }
}
