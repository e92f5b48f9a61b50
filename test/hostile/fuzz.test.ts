/**
 * Property-based fuzzing of ingest (see fuzz.ts). `npm test` runs a bounded number of cases with
 * a fixed seed; `npm run fuzz` sets XRAY_LP_FUZZ_RUNS (and optionally XRAY_LP_FUZZ_SEED).
 */
import test from 'ava';
import { runFuzz } from './fuzz.js';

const runs = Number(process.env.XRAY_LP_FUZZ_RUNS ?? 100);
const seed = Number(
  process.env.XRAY_LP_FUZZ_SEED ?? (process.env.XRAY_LP_FUZZ_RUNS ? Date.now() % 2 ** 31 : 424_242),
);

test(`mutated dumps: no crash, no hang, documented exit codes, consistent database (${runs} cases, seed ${seed})`, async (t) => {
  // Generous: about 0.1 s per case, plus slack; a hang fails the case after 10 s.
  t.timeout(Math.max(60_000, runs * 2_000));
  await runFuzz({ runs, seed, timeoutMs: 10_000 });
  t.pass();
});
