/** The version the CLI prints is package.json's. */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { VERSION } from '../../src/cli/program.js';
import { cli, repoRoot } from '../support/helpers.js';

test('--version prints the package version', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  t.is(VERSION, pkg.version);
  const r = await cli(['--version']);
  t.is(r.code, 0);
  t.is(r.out.trim(), pkg.version);
});
