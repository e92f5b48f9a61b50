/**
 * The release's software bill of materials, CycloneDX 1.5 JSON, in the shape `npm sbom
 * --sbom-format cyclonedx` writes: one component per bundled package (name, version, licence,
 * purl, its path in node_modules, the registry tarball's SHA-512 from package-lock.json), the
 * dependency graph, and SQLite, compiled into better-sqlite3's native module.
 *
 * Written here rather than by `npm sbom`: npm lists the install-only packages a release leaves
 * out (tools/packages.ts, INSTALL_ONLY), names the root component after the checkout's folder,
 * and needs a node_modules its tree reader accepts. This one lists what the archive holds.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BuildInfo } from '../src/selftest/build-info.js';
import type { RuntimePackage } from './packages.js';

interface Inputs {
  /** The checkout (its package-lock.json gives the registry hashes). */
  root: string;
  pkg: { name: string; version: string; description?: string; license?: string };
  build: BuildInfo;
  packages: RuntimePackage[];
}

/** The CycloneDX document (deterministic: no timestamp, a serial number derived from the content). */
export function cycloneDx({ root, pkg, build, packages }: Inputs): Record<string, unknown> {
  const lock = lockIntegrity(root, packages);
  const refOf = new Map<string, string>();
  const taken = new Set<string>();
  for (const p of packages) {
    let ref = `${p.name}@${p.version}`;
    if (taken.has(ref)) ref = `${ref}#${p.path}`;
    taken.add(ref);
    refOf.set(p.path, ref);
  }
  const appRef = `${pkg.name}@${pkg.version}`;
  const sqliteRef = `sqlite@${build.sqlite}`;
  const components: Record<string, unknown>[] = packages.map((p) => ({
    'bom-ref': refOf.get(p.path),
    type: 'library',
    name: p.name,
    version: p.version,
    scope: 'required',
    ...(p.description ? { description: p.description } : {}),
    purl: purl(p.name, p.version),
    properties: [{ name: 'cdx:npm:package:path', value: p.path }],
    externalReferences: p.repository ? [{ type: 'vcs', url: p.repository }] : [],
    ...(lock.get(p.path) ? { hashes: [{ alg: 'SHA-512', content: lock.get(p.path) }] } : {}),
    licenses: licences(p.license),
  }));
  components.push({
    'bom-ref': sqliteRef,
    type: 'library',
    name: 'sqlite',
    version: build.sqlite,
    scope: 'required',
    description: 'SQLite, compiled into better-sqlite3’s native module',
    purl: `pkg:generic/sqlite@${build.sqlite}`,
    properties: [
      {
        name: 'xray-lp:compiled-into',
        value: 'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      },
    ],
    externalReferences: [{ type: 'website', url: 'https://sqlite.org' }],
    licenses: [{ license: { id: 'blessing' } }],
  });
  const dependencies = [
    {
      ref: appRef,
      dependsOn: packages
        .filter((p) => !packages.some((q) => q.dependsOn.includes(p.path)))
        .map((p) => refOf.get(p.path)),
    },
    ...packages.map((p) => ({
      ref: refOf.get(p.path),
      dependsOn: [
        ...p.dependsOn.map((d) => refOf.get(d)),
        ...(p.name === 'better-sqlite3' ? [sqliteRef] : []),
      ],
    })),
    { ref: sqliteRef, dependsOn: [] },
  ];
  const body = {
    metadata: {
      lifecycles: [{ phase: 'build' }],
      tools: [{ vendor: 'xray-lp', name: 'tools/release.ts', version: pkg.version }],
      component: {
        'bom-ref': appRef,
        type: 'application',
        name: pkg.name,
        version: pkg.version,
        ...(pkg.description ? { description: pkg.description } : {}),
        purl: purl(pkg.name, pkg.version),
        licenses: licences(pkg.license),
        properties: [
          { name: 'xray-lp:build:os', value: build.os },
          { name: 'xray-lp:build:arch', value: build.arch },
          { name: 'xray-lp:build:node', value: build.node },
          { name: 'xray-lp:build:node-module-version', value: build.nodeModuleVersion },
          ...(build.commit ? [{ name: 'xray-lp:build:commit', value: build.commit }] : []),
        ],
      },
    },
    components,
    dependencies,
  };
  const digest = crypto.createHash('sha256').update(JSON.stringify(body)).digest('hex');
  const uuid = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-${((parseInt(digest[16]!, 16) & 3) | 8).toString(16)}${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.5.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${uuid}`,
    version: 1,
    ...body,
  };
}

/** An npm package URL (`pkg:npm/%40scope/name@1.0.0`). */
function purl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, '%40')}@${version}`;
}

/** CycloneDX licences: one SPDX id, or an expression (`(MIT OR WTFPL)`). */
function licences(spdx: string | undefined): Record<string, unknown>[] {
  if (!spdx) return [];
  return /\s(OR|AND|WITH)\s/.test(spdx) ? [{ expression: spdx }] : [{ license: { id: spdx } }];
}

/** package-lock.json's integrity of each bundled path, as hex SHA-512 (what npm sbom gives). */
function lockIntegrity(root: string, packages: RuntimePackage[]): Map<string, string> {
  const out = new Map<string, string>();
  let lock: { packages?: Record<string, { integrity?: string }> };
  try {
    lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as typeof lock;
  } catch {
    return out;
  }
  for (const p of packages) {
    const integrity = lock.packages?.[p.path]?.integrity;
    if (integrity?.startsWith('sha512-'))
      out.set(p.path, Buffer.from(integrity.slice(7), 'base64').toString('hex'));
  }
  return out;
}
