/**
 * Writes samples/expected/policies.json: what `xray-lp policy --json` prints once the bundled
 * samples are ingested, the result `xray-lp self-test` compares with (`npm run expected`).
 * Regenerate it when a change to the mapping, the policy builder or the IAM catalogue changes the
 * policies on purpose, and review the diff; test/selftest/expected.test.ts fails until then.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectedPolicies } from './expected-policies.js';
import { EXPECTED_POLICIES } from '../src/cli/samples.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-lp-expected-'));
try {
  const text = await expectedPolicies(path.join(dir, 'samples.db'));
  fs.mkdirSync(path.dirname(EXPECTED_POLICIES), { recursive: true });
  fs.writeFileSync(EXPECTED_POLICIES, text);
  console.log(
    `Wrote ${path.relative(process.cwd(), EXPECTED_POLICIES)} (${JSON.parse(text).length} policies)`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
