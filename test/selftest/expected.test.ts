/**
 * samples/expected/policies.json, the self-test's expected result, is what `xray-lp policy --json`
 * prints for the bundled samples today, byte for byte (`npm run expected` rewrites it).
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { EXPECTED_POLICIES } from '../../src/cli/samples.js';
import { tempDir } from '../support/helpers.js';
import { expectedPolicies } from '../../tools/expected-policies.js';

test('samples/expected/policies.json is in step with the code and the samples', async (t) => {
  const now = await expectedPolicies(path.join(tempDir(), 'samples.db'));
  t.true(
    fs.readFileSync(EXPECTED_POLICIES, 'utf8') === now,
    'samples/expected/policies.json differs from what the samples give now: if the change is intended, run `npm run expected` and review the diff',
  );
  t.true(JSON.parse(now).length > 0);
});
