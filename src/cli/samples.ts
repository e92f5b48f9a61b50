/** The bundled samples and their expected policies (`demo`, `self-test`, the release tools). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SampleSet } from '../selftest/self-test.js';

/**
 * The folder holding dist/ (or src/ under tsx), samples/ and package.json: the checkout, or an
 * unpacked release (which keeps the same layout).
 */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SAMPLES = path.join(PACKAGE_ROOT, 'samples');

/** The expected result of the bundled samples: what `xray-lp policy --json` prints once they are ingested. */
export const EXPECTED_POLICIES = path.join(SAMPLES, 'expected', 'policies.json');

/** The samples shipped with the package: X-Ray exports, and the same workloads traced with OpenTelemetry a week later. */
export function bundledSamples(): SampleSet[] {
  return [
    { title: 'X-Ray (batch-get-traces output, sampled)', inputs: [path.join(SAMPLES, 'traces')] },
    {
      title: 'OpenTelemetry (CloudWatch Transaction Search, aws/spans: every span)',
      inputs: [path.join(SAMPLES, 'otel', 'aws-spans.jsonl')],
    },
  ];
}
