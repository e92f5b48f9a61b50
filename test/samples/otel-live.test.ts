/**
 * The independent live check: real OpenTelemetry instrumentation output that is not in the repo
 * must give policies that allow every recorded call and deny every other action, resource,
 * account and region, in every export layout.
 *
 * The OpenTelemetry sample generator (samples/generate/otel, its own npm package) is run with
 * another account and region (OTS_ACCOUNT, OTS_REGION) into a temp folder: the real
 * @opentelemetry/instrumentation-aws-sdk and AWS SDK v3 clients against its local stub, on
 * 127.0.0.1 only. Each of the five layouts is ingested alone into a fresh database. The calls
 * xray-lp recorded must be the plan's, with the permissions written by hand in otel-live-plan.ts
 * (not xray-lp's mapping), the policies must be byte-identical across layouts, and the AGPL oracle
 * (@cloud-copilot/iam-simulate, test/support/oracle.ts) must find every planned call allowed and
 * every probe denied.
 *
 * As root, with `unshare` and ADOT installed (samples/generate/otel/adot/node_modules), the ADOT
 * variant (`npm run adot`, in a network namespace with only loopback) is checked the same way.
 *
 * Without samples/generate/otel/node_modules the check is skipped (logged): `npm ci --prefix
 * samples/generate/otel` enables it. CI installs it.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies, type WorkloadPolicy } from '../../src/policy/build.js';
import { listCalls } from '../../src/query/calls.js';
import { openStore } from '../../src/store/db.js';
import { readUsage } from '../../src/store/usage.js';
import { repoRoot, tempDir } from '../support/helpers.js';
import { oracleAllows } from '../support/oracle.js';
import {
  deniedProbes,
  plannedCalls,
  resources,
  withAccount,
  withRegion,
  type Instrumentation,
  type PlannedCall,
  type WorkloadName,
} from './otel-live-plan.js';

const ACCOUNT = '444455556666';
const REGION = 'ap-southeast-2';
/** Other accounts and regions every account- or region-bearing ARN is probed in. */
const OTHER_ACCOUNTS = ['123456789012', '999988887777'];
const OTHER_REGIONS = ['eu-west-1', 'us-east-1'];

const generatorDir = path.join(repoRoot, 'samples/generate/otel');
const hasGenerator = fs.existsSync(path.join(generatorDir, 'node_modules'));
const hasAdot = fs.existsSync(path.join(generatorDir, 'adot/node_modules'));

/** The five layouts generate.ts writes (paths inside its --out folder). */
const LAYOUTS = [
  'aws-spans.jsonl',
  'filter-log-events-aws-spans.json',
  's3-export',
  'list-retrieved-traces-otel.json',
  'otlp-traces.jsonl',
];
/** The two layouts adot.ts writes. */
const ADOT_LAYOUTS = ['aws-spans.jsonl', 'otlp-traces.jsonl'];

/** The principal xray-lp should give each workload (Lambda: the unqualified function ARN). */
const PRINCIPALS: Record<WorkloadName, string> = {
  'orders-api': `arn:aws:lambda:${REGION}:${ACCOUNT}:function:orders-api`,
  thumbnailer: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:thumbnailer`,
  'billing-worker': `ecs:${ACCOUNT}:${REGION}:payments/billing-worker`,
};

/** Runs a command to completion; rejects with its output's tail when it fails. */
function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, OTS_ACCOUNT: ACCOUNT, OTS_REGION: REGION },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}:\n${out.slice(-4000)}`)),
    );
  });
}

/** `*` as IAM reads it in a resource (every other character literal); independent of src/iam/glob.ts. */
const globMatches = (pattern: string, value: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);

/** `items` counted: `n× item` lines, sorted (a readable diff when two multisets differ). */
function counted(items: string[]): string[] {
  const m = new Map<string, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return [...m].map(([k, n]) => `${n}× ${k}`).sort();
}

/**
 * Premises of the wildcards the plan expects (PlannedCall.recorded), checked on the generated
 * spans themselves: no S3 span names an object key, and (plain OpenTelemetry JS) the Kinesis span
 * of the StreamARN-only PutRecord names no stream.
 */
function checkPremises(t: ExecutionContext, file: string, inst: Instrumentation): void {
  const spans = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { attributes: Record<string, unknown> });
  const s3 = spans.filter((s) => s.attributes['rpc.service'] === 'S3');
  t.is(s3.length, 20, 'S3 spans');
  t.false(
    s3.some((s) => /incoming\/|thumbs\//.test(JSON.stringify(s.attributes))),
    'an S3 span records an object key: the plan expects bucket/* grants only while none does',
  );
  const kinesis = spans.filter((s) => s.attributes['rpc.service'] === 'Kinesis');
  const nameless = kinesis.filter((s) => !JSON.stringify(s.attributes).includes('invoice-events'));
  t.is(kinesis.length, 8, 'Kinesis spans');
  t.is(nameless.length, inst === 'otel-js' ? 1 : 0, 'Kinesis spans that name no stream');
}

/** What one layout gave. */
interface LayoutResult {
  layout: string;
  policies: WorkloadPolicy[];
  /** JSON of the policy documents per principal. */
  documents: string;
}

/** Ingests one layout alone, checks the recorded calls and permissions, builds the policies. */
async function checkLayout(
  t: ExecutionContext,
  input: string,
  layout: string,
  inst: Instrumentation,
): Promise<LayoutResult> {
  const planned = plannedCalls(ACCOUNT, REGION, inst);
  const store = openStore({ path: path.join(tempDir(), 'live.db') });
  try {
    const summary = await ingest(store, { inputs: [input] });
    t.is(summary.rejected, 0, `${layout}: rejected ${JSON.stringify(summary.results.map((r) => r.error))}`);
    t.is(summary.ingested, 1, `${layout}: inputs ingested`);

    // Every recorded call: its workload, operation, outcome, and the one permission it needed,
    // against the plan (a multiset: 92 calls).
    const calls = listCalls(store, { filter: {}, limit: 10_000 });
    const workloadOf = new Map(Object.entries(PRINCIPALS).map(([name, key]) => [key, name]));
    const recordedCalls = calls.map((c) => {
      const who = workloadOf.get(c.workloadKey ?? '') ?? `${c.workload} (${c.workloadKey})`;
      return `${who} ${c.operation} ${c.outcome} ${c.mapping} ${c.actions.join(',')} on ${c.resources.join(',')} (${c.account} ${c.region})`;
    });
    const expectedCalls = planned.map(
      (p) =>
        `${p.workload} ${p.operation} ${p.outcome} mapped ${p.action} on ${p.recorded ?? p.resource} (${ACCOUNT} ${REGION})`,
    );
    t.deepEqual(counted(recordedCalls), counted(expectedCalls), `${layout}: recorded calls`);

    // The permissions per workload as the usage reader (policy, explain) gives them.
    const usage = readUsage(store, { filter: {}, groupBy: ['workload', 'action', 'resource'] });
    const recordedPermissions = [
      ...new Set(usage.map((u) => `${u.workloadKey} ${u.action} ${u.resource} denied=${u.denied > 0}`)),
    ].sort();
    const expectedPermissions = [
      ...new Set(
        planned.map(
          (p) =>
            `${PRINCIPALS[p.workload]} ${p.action} ${p.recorded ?? p.resource} denied=${planned.some(
              (q) =>
                q.workload === p.workload &&
                q.action === p.action &&
                (q.recorded ?? q.resource) === (p.recorded ?? p.resource) &&
                q.outcome === 'denied',
            )}`,
        ),
      ),
    ].sort();
    t.deepEqual(recordedPermissions, expectedPermissions, `${layout}: recorded permissions`);

    // --include-denied: every recorded call, denied ones too, is checked against the oracle below.
    const { policies } = buildPolicies(store, { filter: {}, includeDenied: true });
    t.deepEqual(
      policies.map((p) => [p.principal, p.name, p.account, p.region]),
      Object.entries(PRINCIPALS)
        .sort(([, a], [, b]) => (a < b ? -1 : 1))
        .map(([name, key]) => [key, name, ACCOUNT, REGION]),
      `${layout}: one policy per workload`,
    );
    // Denied calls are in the policy, flagged; wildcards for unrecorded resources are flagged too.
    const flagged = (code: string): string[] =>
      policies.flatMap((p) =>
        p.warnings.filter((w) => w.code === code).map((w) => `${p.name} ${w.action} ${w.resource}`),
      );
    t.deepEqual(
      flagged('denied').sort(),
      [
        ...new Set(
          planned
            .filter((p) => p.outcome === 'denied')
            .map((p) => `${p.workload} ${p.action} ${p.recorded ?? p.resource}`),
        ),
      ].sort(),
      `${layout}: denied warnings`,
    );
    t.deepEqual(
      flagged('resource-unknown').sort(),
      [
        ...new Set(planned.filter((p) => p.recorded).map((p) => `${p.workload} ${p.action} ${p.recorded}`)),
      ].sort(),
      `${layout}: resource-unknown warnings`,
    );
    const documents = JSON.stringify(Object.fromEntries(policies.map((p) => [p.principal, p.documents])));
    return { layout, policies, documents };
  } finally {
    store.close();
  }
}

/** The oracle's verdicts on one layout's policies: every planned call allowed, every probe denied. */
async function checkOracle(t: ExecutionContext, r: LayoutResult, inst: Instrumentation): Promise<number> {
  const planned = plannedCalls(ACCOUNT, REGION, inst);
  const policyOf = (w: WorkloadName): unknown => {
    const p = r.policies.find((x) => x.principal === PRINCIPALS[w]);
    t.truthy(p, `${r.layout}: no policy for ${w}`);
    t.is(p?.documents.length, 1, `${r.layout}: ${w}: one document`);
    return p?.document ?? { Version: '2012-10-17', Statement: [] };
  };
  const accountOf = (arn: string): string => arn.split(':')[4] || ACCOUNT;
  let asked = 0;
  const verdict = async (
    w: WorkloadName,
    action: string,
    resource: string,
    allowed: boolean,
    why: string,
  ) => {
    asked++;
    const got = await oracleAllows(policyOf(w), action, resource, accountOf(resource));
    t.is(
      got,
      allowed,
      `${r.layout}: ${w}: ${action} on ${resource} should be ${allowed ? 'allowed' : 'denied'} (${why})`,
    );
  };
  const distinct = [...new Map(planned.map((p) => [`${p.workload} ${p.action} ${p.resource}`, p])).values()];

  // Every recorded call, on its concrete resource (denied calls included: with --include-denied the policy grants them, flagged).
  for (const p of distinct) await verdict(p.workload, p.action, p.resource, true, `planned ${p.operation}`);

  // (c), (d): each call's resource in another account, and in another region.
  for (const p of distinct) {
    for (const a of OTHER_ACCOUNTS) {
      const other = withAccount(p.resource, a);
      if (other) await verdict(p.workload, p.action, other, false, `account ${a}`);
    }
    for (const g of OTHER_REGIONS) {
      const other = withRegion(p.resource, g);
      if (other) await verdict(p.workload, p.action, other, false, `region ${g}`);
    }
  }

  // (a), (b): other actions of the same services, the same actions on sibling resources. A probe
  // inside a wildcard that the plan expects for an unrecorded resource (PlannedCall.recorded) is
  // allowed: the instrumentation gave nothing narrower, and the policy flags it (resource-unknown).
  for (const probe of deniedProbes(ACCOUNT, REGION)) {
    const coveredBy = planned.find(
      (p: PlannedCall) =>
        p.workload === probe.workload &&
        p.action === probe.action &&
        p.recorded !== undefined &&
        globMatches(p.recorded, probe.resource),
    );
    await verdict(
      probe.workload,
      probe.action,
      probe.resource,
      coveredBy !== undefined,
      coveredBy ? `inside ${coveredBy.recorded}: the resource of one call was not recorded` : probe.why,
    );
  }
  return asked;
}

/** Checks every layout in `dir`: alone, then byte-identical policies across them, then the oracle. */
async function checkRun(
  t: ExecutionContext,
  dir: string,
  layouts: string[],
  inst: Instrumentation,
): Promise<void> {
  checkPremises(t, path.join(dir, 'aws-spans.jsonl'), inst);
  const results: LayoutResult[] = [];
  for (const layout of layouts) results.push(await checkLayout(t, path.join(dir, layout), layout, inst));
  const [first, ...rest] = results;
  if (!first) throw new Error(`no layouts in ${dir}`);
  for (const r of rest)
    t.is(r.documents, first.documents, `${r.layout}: policies differ from ${first.layout}'s`);
  let asked = 0;
  for (const r of results) asked += await checkOracle(t, r, inst);
  t.log(
    `${inst}: ${layouts.length} layouts, ${plannedCalls(ACCOUNT, REGION, inst).length} calls each, ${asked} oracle verdicts`,
  );
  // Sanity for the reader of the log: the variant really is another account and region.
  t.true(first.documents.includes(resources(ACCOUNT, REGION).queue), 'policies name the variant queue');
}

if (!hasGenerator) {
  test('OpenTelemetry live check (skipped: the sample generator is not installed)', (t) => {
    t.log(
      `skipped: ${path.relative(repoRoot, generatorDir)}/node_modules is missing. ` +
        'Enable the live check with `npm ci --prefix samples/generate/otel` (no network use at test time: 127.0.0.1 only).',
    );
    t.pass();
  });
} else {
  test('OpenTelemetry JS output for another account and region: every layout, every call allowed, all else denied', async (t) => {
    t.timeout(300_000);
    const out = tempDir();
    const started = Date.now();
    const log = await run(
      process.execPath,
      ['--import', 'tsx', 'generate/generate.ts', '--out', out],
      generatorDir,
    );
    t.log(`generated in ${((Date.now() - started) / 1000).toFixed(1)} s: ${log.trim().split('\n').pop()}`);
    for (const layout of LAYOUTS) t.true(fs.existsSync(path.join(out, layout)), `${layout} written`);
    await checkRun(t, out, LAYOUTS, 'otel-js');
  });

  test('ADOT JS (Application Signals) output for another account and region, when it can run here', async (t) => {
    t.timeout(300_000);
    const why = adotUnavailable();
    if (why) {
      t.log(`ADOT part skipped: ${why}`);
      t.pass();
      return;
    }
    const out = tempDir();
    const started = Date.now();
    // As `npm run adot`: a network namespace with only loopback (ADOT's EC2 detector would call
    // 169.254.169.254). $0 is this Node.
    const script = 'ip link set lo up && exec "$0" --import tsx generate/adot.ts --out "$1" --raw "$2"';
    const log = await run(
      'unshare',
      ['--net', 'sh', '-c', script, process.execPath, path.join(out, 'adot'), path.join(out, 'raw')],
      generatorDir,
    );
    t.log(
      `ADOT generated in ${((Date.now() - started) / 1000).toFixed(1)} s: ${log.trim().split('\n').pop()}`,
    );
    await checkRun(t, path.join(out, 'adot'), ADOT_LAYOUTS, 'adot');
  });
}

/** Why the ADOT variant cannot run here, or null when it can. */
function adotUnavailable(): string | null {
  if (!hasAdot)
    return 'samples/generate/otel/adot/node_modules is missing (`npm run adot:install` in samples/generate/otel)';
  if (process.getuid?.() !== 0) return 'it needs root for `unshare --net`';
  const probe = spawnSync('unshare', ['--net', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (probe.error) return `\`unshare\` is not available (${probe.error.message})`;
  if (probe.status !== 0)
    return `\`unshare --net\` with \`ip link set lo up\` fails here: ${(probe.stderr || '').trim() || `exit ${probe.status}`}`;
  return null;
}
