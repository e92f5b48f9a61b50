/** The release's licence gate and its package walk (tools/packages.ts). */
import test from 'ava';
import { permissive, runtimePackages } from '../../tools/packages.js';
import { repoRoot } from '../support/helpers.js';

const licences: [string | undefined, boolean][] = [
  ['MIT', true],
  ['ISC', true],
  ['BSD-3-Clause', true],
  ['Apache-2.0', true],
  ['(MIT OR WTFPL)', true],
  ['(BSD-2-Clause OR MIT OR Apache-2.0)', true],
  ['MIT AND BSD-3-Clause', true],
  ['MIT AND GPL-3.0-only', false],
  ['MPL-2.0', true],
  ['AGPL-3.0-only', false],
  ['GPL-2.0 OR LGPL-3.0', false],
  ['UNLICENSED', false],
  ['SEE LICENSE IN LICENSE.md', false],
  [undefined, false],
];
for (const [expression, ok] of licences)
  test(`permissive(${JSON.stringify(expression)}) is ${ok}`, (t) => t.is(permissive(expression), ok));

test('the runtime closure: package.json dependencies and theirs, without devDependencies or install-only packages', (t) => {
  const pkgs = runtimePackages(repoRoot, ['better-sqlite3', 'cli-table3']);
  const names = pkgs.map((p) => p.name);
  for (const n of [
    'better-sqlite3',
    'bindings',
    'file-uri-to-path',
    'cli-table3',
    'string-width',
    'strip-ansi',
  ])
    t.true(names.includes(n), n);
  t.false(names.includes('prebuild-install'), 'install-only: not bundled');
  t.false(names.includes('simple-get'), 'needed by prebuild-install only');
  t.false(names.includes('ava'));
  t.deepEqual(pkgs.find((p) => p.name === 'better-sqlite3')?.dependsOn, ['node_modules/bindings']);
});
