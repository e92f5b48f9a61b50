/**
 * The self-test: a reviewer's first command on a machine the tool was carried to. It loads the
 * native module, ingests the bundled samples into a temporary database, builds the policies and
 * compares them with the ones shipped next to the samples (`samples/expected/policies.json`, what
 * `xray-lp policy --json` prints for them). Nothing is written outside the temporary folder, so
 * it runs from a read-only installation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { catalogueVersion, type CatalogueVersion } from '../iam/catalogue.js';
import { ingest } from '../ingest/ingest.js';
import { policies } from '../policy/build.js';
import { openStore } from '../store/db.js';
import { loadNativeModule } from '../store/native.js';
import { SCHEMA_VERSION } from '../store/schema.js';

/** A set of sample inputs ingested together (the demo's sets). */
export interface SampleSet {
  title: string;
  /** Files or folders. */
  inputs: readonly string[];
}

/** Options for {@link selfTest}. */
export interface SelfTestOptions {
  /** The samples to ingest, in order, into one database. */
  samples: readonly SampleSet[];
  /** The expected policies: a JSON array as `policy --json` prints it. */
  expectedFile: string;
  /** Where the temporary folder holding the database is made (and removed after): the OS temp dir. */
  tempDir: string;
  /** At most this many differences are listed (default 20); the count is always whole. */
  maxDifferences?: number;
}

/** The checks, in the order they run; a check whose prerequisite failed is `skipped`. */
export type SelfTestCheckName = 'native-module' | 'ingest' | 'policies';

/** One check's verdict. */
export interface SelfTestCheck {
  name: SelfTestCheckName;
  status: 'pass' | 'fail' | 'skipped';
  /** What was found, in one line. */
  detail: string;
}

/** Versions of what the results depend on. */
export interface SelfTestVersions {
  node: string;
  /** NODE_MODULE_VERSION: the ABI native modules are built for. */
  nodeModuleVersion: string;
  platform: string;
  arch: string;
  schema: number;
  catalogue: CatalogueVersion;
  /** Absent when the native module does not load. */
  betterSqlite3?: string;
  sqlite?: string;
}

/** What {@link selfTest} found. */
export interface SelfTestResult {
  passed: boolean;
  versions: SelfTestVersions;
  checks: SelfTestCheck[];
  /** Each difference between the expected and the generated policies, named (at most maxDifferences). */
  differences: string[];
  /** How many differences there were in all. */
  differenceCount: number;
}

/** Runs the self-test. Never throws for a failed check: the failure is in the result. */
export async function selfTest(options: SelfTestOptions): Promise<SelfTestResult> {
  const versions: SelfTestVersions = {
    node: process.version,
    nodeModuleVersion: process.versions.modules,
    platform: process.platform,
    arch: process.arch,
    schema: SCHEMA_VERSION,
    catalogue: catalogueVersion(),
  };
  const checks: SelfTestCheck[] = [];
  const result = (differences: string[] = [], differenceCount = 0): SelfTestResult => {
    for (const name of ['native-module', 'ingest', 'policies'] as const)
      if (!checks.some((c) => c.name === name))
        checks.push({ name, status: 'skipped', detail: 'not run: an earlier check failed' });
    return {
      passed: checks.every((c) => c.status === 'pass'),
      versions,
      checks,
      differences,
      differenceCount,
    };
  };
  /** Records a failed check; the ones after it are skipped. */
  const fail = (name: SelfTestCheckName, detail: string): SelfTestResult => {
    checks.push({ name, status: 'fail', detail });
    return result();
  };

  try {
    const native = loadNativeModule();
    versions.betterSqlite3 = native.betterSqlite3;
    versions.sqlite = native.sqlite;
    checks.push({
      name: 'native-module',
      status: 'pass',
      detail: `better-sqlite3 ${native.betterSqlite3} loads (SQLite ${native.sqlite})`,
    });
  } catch (err) {
    return fail('native-module', messageOf(err));
  }

  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(options.tempDir, 'xray-lp-self-test-'));
  } catch (err) {
    return fail(
      'ingest',
      `cannot create a temporary folder in ${options.tempDir} for the database: ${messageOf(err)}; set TMPDIR to a writable folder`,
    );
  }
  try {
    const store = openStore({ path: path.join(dir, 'self-test.db') });
    let generated: unknown;
    try {
      let inputs = 0;
      let rejected: string[] = [];
      let calls = 0;
      for (const set of options.samples) {
        const summary = await ingest(store, { inputs: set.inputs });
        inputs += summary.inputs;
        calls += summary.newCalls;
        rejected = [
          ...rejected,
          ...summary.results.filter((r) => r.error).map((r) => `${r.input}: ${r.error?.message}`),
        ];
      }
      if (inputs === 0 || rejected.length > 0) {
        return fail(
          'ingest',
          inputs === 0
            ? `no sample inputs found in ${options.samples.flatMap((s) => s.inputs).join(', ')}`
            : `${rejected.length} of ${inputs} sample inputs rejected: ${rejected.join('; ')}`,
        );
      }
      checks.push({
        name: 'ingest',
        status: 'pass',
        detail: `${inputs} sample input${inputs === 1 ? '' : 's'} ingested, ${calls} calls, into a temporary database`,
      });
      // As `policy --json` prints them: a JSON round trip drops what JSON has no room for.
      generated = JSON.parse(JSON.stringify([...policies(store, { filter: {} })]));
    } finally {
      store.close();
    }

    let expected: unknown;
    try {
      expected = JSON.parse(fs.readFileSync(options.expectedFile, 'utf8'));
    } catch (err) {
      return fail('policies', `cannot read the expected policies ${options.expectedFile}: ${messageOf(err)}`);
    }
    const all = policyDifferences(expected, generated);
    const count = Array.isArray(generated) ? generated.length : 0;
    checks.push(
      all.length === 0
        ? {
            name: 'policies',
            status: 'pass',
            detail: `${count} policies, identical to ${options.expectedFile}`,
          }
        : {
            name: 'policies',
            status: 'fail',
            detail: `${all.length} difference${all.length === 1 ? '' : 's'} from ${options.expectedFile}`,
          },
    );
    return result(all.slice(0, options.maxDifferences ?? 20), all.length);
  } catch (err) {
    return fail(checks.some((c) => c.name === 'ingest') ? 'policies' : 'ingest', messageOf(err));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The differences between two `policy --json` arrays, one line each, named by workload (its name
 * and principal) and the JSON path inside its policy: a workload missing or unexpected, or a value
 * that differs.
 */
export function policyDifferences(expected: unknown, actual: unknown): string[] {
  if (!Array.isArray(expected)) return ['the expected policies are not a JSON array'];
  if (!Array.isArray(actual)) return ['the generated policies are not a JSON array'];
  const byPrincipal = (list: unknown[]): Map<string, unknown> =>
    new Map(list.map((p, i) => [String((p as { principal?: unknown })?.principal ?? `#${i}`), p]));
  const want = byPrincipal(expected);
  const got = byPrincipal(actual);
  const out: string[] = [];
  const label = (principal: string, p: unknown): string => {
    const name = (p as { name?: unknown })?.name;
    return typeof name === 'string' && name !== principal ? `${name} (${principal})` : principal;
  };
  for (const [principal, p] of want) {
    if (!got.has(principal)) out.push(`${label(principal, p)}: expected a policy, none was generated`);
    else valueDifferences(p, got.get(principal), '', (d) => out.push(`${label(principal, p)}: ${d}`));
  }
  for (const [principal, p] of got)
    if (!want.has(principal)) out.push(`${label(principal, p)}: a policy was generated, none was expected`);
  return out;
}

/** Reports each leaf where two JSON values differ, as `path: expected X, got Y`. */
function valueDifferences(want: unknown, got: unknown, at: string, report: (d: string) => void): void {
  const where = at || '(whole policy)';
  if (Array.isArray(want) && Array.isArray(got)) {
    const n = Math.max(want.length, got.length);
    for (let i = 0; i < n; i++) {
      if (i >= got.length) report(`${at}[${i}]: expected ${show(want[i])}, missing`);
      else if (i >= want.length) report(`${at}[${i}]: unexpected ${show(got[i])}`);
      else valueDifferences(want[i], got[i], `${at}[${i}]`, report);
    }
    return;
  }
  if (isObject(want) && isObject(got)) {
    for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
      const p = at ? `${at}.${k}` : k;
      if (!Object.hasOwn(got, k)) report(`${p}: expected ${show(want[k])}, missing`);
      else if (!Object.hasOwn(want, k)) report(`${p}: unexpected ${show(got[k])}`);
      else valueDifferences(want[k], got[k], p, report);
    }
    return;
  }
  if (JSON.stringify(want) !== JSON.stringify(got))
    report(`${where}: expected ${show(want)}, got ${show(got)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value in a difference line: its JSON, cut to 80 characters. */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
