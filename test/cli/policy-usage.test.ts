/**
 * `policy --usage`: policies from usage rows instead of a database. DuckDB plays the engine of
 * docs/scale.md: it runs the aggregation SQL of the guide (read from docs/scale.md) over what
 * `export` wrote, and writes the result as Parquet, CSV and JSON lines. Fed any of them, or the
 * exported `usage` table itself, `policy --usage` must print documents byte-identical to
 * `policy --json` on the database, for the samples and a generated multi-workload dataset, with
 * every policy-shaping option and the filters that apply to rows. A wrong aggregation must
 * break that equality, so the comparison can fail.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { cli, repoRoot, tempDir } from '../support/helpers.js';
import { writeDump } from '../support/generator.js';
import { Duck, docSql, exportViews, lit } from '../support/duckdb.js';

const run = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code}: ${r.err}`);
  return r;
};

/** The usage inputs of one dataset: the exported table, and the aggregate in three formats. */
interface Dataset {
  db: string;
  /** `--roles` file mapping some of its functions to shared roles. */
  roles: string;
  inputs: Record<string, string>;
  /** The aggregation SQL's output with one row dropped, as Parquet. */
  dropped: string;
  /** The aggregation with `denied` not grouped (every row counted as allowed), as Parquet. */
  undenied: string;
}

/** Exports `db`, aggregates its usage with DuckDB as docs/scale.md says, writes every format. */
async function prepare(db: string, roles: string): Promise<Dataset> {
  const dir = tempDir();
  const exp = path.join(dir, 'export');
  await run(['--db', db, 'export', '--out', exp, '--tables', 'usage']);
  const agg = docSql('xray-lp:aggregate');
  const out = (f: string): string => path.join(dir, f);
  const duck = await Duck.open();
  try {
    await duck.run(exportViews(exp, ['usage']));
    await duck.run(`COPY (${agg}) TO ${lit(out('agg.parquet'))} (FORMAT parquet)`);
    await duck.run(`COPY (${agg}) TO ${lit(out('agg.csv'))} (HEADER)`);
    await duck.run(`COPY (${agg}) TO ${lit(out('agg.jsonl'))} (FORMAT json)`);
    // The row of a permission that only one row grants (so dropping it must show).
    await duck.run(
      `COPY (SELECT * FROM (${agg}) a WHERE NOT (principal, action, resource) IN (
         SELECT (principal, action, resource) FROM (${agg}) b WHERE action IS NOT NULL AND NOT denied
         ORDER BY principal, action, resource LIMIT 1)) TO ${lit(out('dropped.parquet'))} (FORMAT parquet)`,
    );
    await duck.run(
      `COPY (SELECT * REPLACE (false AS denied) FROM (${agg})) TO ${lit(out('undenied.parquet'))} (FORMAT parquet)`,
    );
  } finally {
    duck.close();
  }
  return {
    db,
    roles,
    inputs: {
      'exported usage folder': path.join(exp, 'usage'),
      'aggregate as Parquet': out('agg.parquet'),
      'aggregate as CSV': out('agg.csv'),
      'aggregate as JSON lines': out('agg.jsonl'),
    },
    dropped: out('dropped.parquet'),
    undenied: out('undenied.parquet'),
  };
}

const datasets: Record<string, () => Promise<Dataset>> = {};
const memo = <T>(f: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
};

datasets.samples = memo(async () => {
  const db = path.join(tempDir(), 'samples.db');
  await run([
    '--db',
    db,
    'ingest',
    '-q',
    path.join(repoRoot, 'samples/traces'),
    path.join(repoRoot, 'samples/otel/aws-spans.jsonl'),
  ]);
  return prepare(db, path.join(repoRoot, 'samples/granted/functions-eu-west-1.json'));
});

datasets.generated = memo(async () => {
  const dir = tempDir();
  const dump = path.join(dir, 'dump.json');
  await writeDump({ sizeBytes: 1_500_000, workloads: 40, accounts: 2, days: 5, seed: 16 }, dump);
  const db = path.join(dir, 'gen.db');
  await run(['--db', db, 'ingest', '-q', dump]);
  // Every third Lambda function shares one of two roles; the others have their own.
  const workloads = JSON.parse((await run(['--db', db, 'workloads', '--json'])).out) as {
    kind: string;
    name: string;
  }[];
  const lambdas = workloads.filter((w) => w.kind === 'lambda').map((w) => w.name);
  const roles = path.join(dir, 'roles.json');
  fs.writeFileSync(
    roles,
    JSON.stringify(
      Object.fromEntries(
        lambdas.map((n, i) => [
          n,
          `arn:aws:iam::123456789012:role/${i % 3 === 0 ? `shared-${i % 2}` : `${n}-role`}`,
        ]),
      ),
    ),
  );
  return prepare(db, roles);
});

/** What must be identical: who each policy is for, and its documents. */
type Docs = {
  principal: string;
  kind: string;
  name: string;
  account: string | null;
  region: string | null;
  document: string;
  documents: string;
}[];

function docsOf(stdout: string): Docs {
  return (JSON.parse(stdout || '[]') as Record<string, unknown>[]).map((p) => ({
    principal: p.principal as string,
    kind: p.kind as string,
    name: p.name as string,
    account: p.account as string | null,
    region: p.region as string | null,
    document: JSON.stringify(p.document),
    documents: JSON.stringify(p.documents),
  }));
}

// The observed grants are compared: rows do not say how the data was recorded, so their
// run-time needs are those of the kind alone (the test below), where the database's also follow
// the trace format.
async function fromDb(ds: Dataset, args: string[]): Promise<Docs> {
  return docsOf((await run(['--db', ds.db, 'policy', '--json', '--runtime', 'none', ...args])).out);
}

async function fromUsage(input: string, args: string[]): Promise<Docs> {
  return docsOf((await run(['policy', '--usage', input, '--json', '--runtime', 'none', ...args])).out);
}

/** Policy-shaping options and row filters; `{roles}` is the dataset's roles file. */
const OPTIONS: { name: string; args: string[]; only?: string }[] = [
  { name: 'default', args: [] },
  { name: '--by role --roles', args: ['--by', 'role', '--roles', '{roles}'] },
  { name: '--s3-objects exact', args: ['--s3-objects', 'exact'] },
  { name: '--s3-objects bucket', args: ['--s3-objects', 'bucket'] },
  { name: '--exclude-denied', args: ['--exclude-denied'] },
  { name: '--account-wildcard --region-wildcard', args: ['--account-wildcard', '--region-wildcard'] },
  { name: '--placeholders', args: ['--placeholders'] },
  { name: '--unknown-resources omit', args: ['--unknown-resources', 'omit'] },
  { name: '--max-size 400', args: ['--max-size', '400'] },
  { name: '--workload', args: ['--workload', 'orders-api', '--workload', 'thumb*'], only: 'samples' },
  { name: '--exclude-workload', args: ['--exclude-workload', '*orders*'], only: 'samples' },
  { name: '--service', args: ['--service', 'dynamodb'] },
  { name: '--service by an SDK name', args: ['--service', 'DynamoDB', '--service', 'SFN'], only: 'samples' },
  { name: '--action', args: ['--action', 's3:Get*', '--action', 'SQS:*'] },
  { name: '--resource', args: ['--resource', 'arn:aws:s3:::*'] },
];

for (const [dsName, dataset] of Object.entries(datasets))
  for (const { name, args: raw, only } of OPTIONS) {
    if (only && only !== dsName) continue;
    test(`${dsName}, ${name}: every usage input gives the documents of the database`, async (t) => {
      const ds = await dataset();
      const args = raw.map((a) => (a === '{roles}' ? ds.roles : a));
      const want = await fromDb(ds, args);
      t.true(want.length > 0, 'the database has policies for these options');
      for (const [label, input] of Object.entries(ds.inputs))
        t.deepEqual(await fromUsage(input, args), want, label);
    });
  }

for (const dsName of Object.keys(datasets))
  test(`${dsName}: a wrong aggregation breaks the equality (the comparison can fail)`, async (t) => {
    const ds = await (datasets[dsName] as () => Promise<Dataset>)();
    t.notDeepEqual(await fromUsage(ds.dropped, []), await fromDb(ds, []), 'one row dropped');
    // Counting denied rows as allowed brings back what --exclude-denied leaves out.
    t.notDeepEqual(
      await fromUsage(ds.undenied, ['--exclude-denied']),
      await fromDb(ds, ['--exclude-denied']),
      'denied lost',
    );
  });

/** A policy file without its warning comments: the evidence (and so the warnings) of rows differs. */
const withoutWarnings = (text: string): string => text.replace(/^# {3}warning .*\n/gm, '');

test('--out writes the same policy files from usage rows as from the database (evidence.json and warning comments aside)', async (t) => {
  const ds = await datasets.samples!();
  for (const format of ['iam', 'terraform']) {
    const a = path.join(tempDir(), 'db');
    const b = path.join(tempDir(), 'usage');
    await run(['--db', ds.db, 'policy', '--format', format, '--runtime', 'none', '--out', a]);
    await run([
      'policy',
      '--usage',
      ds.inputs['aggregate as CSV'] as string,
      '--format',
      format,
      '--runtime',
      'none',
      '--out',
      b,
    ]);
    const names = fs
      .readdirSync(a)
      .filter((f) => f !== 'evidence.json')
      .sort();
    t.true(names.length >= 5);
    t.deepEqual(
      fs
        .readdirSync(b)
        .filter((f) => f !== 'evidence.json')
        .sort(),
      names,
    );
    for (const f of names)
      t.is(
        withoutWarnings(fs.readFileSync(path.join(b, f), 'utf8')),
        withoutWarnings(fs.readFileSync(path.join(a, f), 'utf8')),
        `${format} ${f}`,
      );
  }
});

test('evidence is what the rows carry: calls and denials equal, traces unknown to completeness', async (t) => {
  const ds = await datasets.samples!();
  type P = {
    principal: string;
    evidence: {
      actions: { action: string; calls: number; denied: number; firstSeen: string; lastSeen: string }[];
    }[];
    completeness: { traces: number | null; activeDays: number | null; reason: string; firstCall: string };
  };
  const db = JSON.parse((await run(['--db', ds.db, 'policy', '--json', '--runtime', 'none'])).out) as P[];
  const agg = JSON.parse(
    (
      await run([
        'policy',
        '--usage',
        ds.inputs['aggregate as Parquet'] as string,
        '--json',
        '--runtime',
        'none',
      ])
    ).out,
  ) as P[];
  const exported = JSON.parse(
    (await run(['policy', '--usage', ds.inputs['exported usage folder'] as string, '--json'])).out,
  ) as P[];
  const actions = (p: P): unknown =>
    p.evidence.flatMap((e) => e.actions.map((a) => [a.action, a.calls, a.denied, a.firstSeen, a.lastSeen]));
  t.deepEqual(agg.map(actions), db.map(actions));
  for (const [i, p] of agg.entries()) {
    t.is(p.completeness.traces, null);
    t.regex(p.completeness.reason, /traces unknown/);
    t.deepEqual(p.completeness.firstCall, db[i]?.completeness.firstCall);
    // The aggregate has no `day`: active days are unknown; the exported table's day folders give them.
    t.is(p.completeness.activeDays, null);
    t.is(exported[i]?.completeness.activeDays, db[i]?.completeness.activeDays);
  }
});

for (const [args, named] of [
  [['--since', '7d'], '--since'],
  [['--until', '2026-11-20'], '--until'],
  [['--region', 'eu-west-1', '--outcome', 'denied'], '--region, --outcome'],
  [['--account', '123456789012'], '--account'],
] as const)
  test(`--usage refuses filters rows cannot answer: ${named}`, async (t) => {
    const ds = await datasets.samples!();
    const out = path.join(tempDir(), 'never');
    const r = await cli([
      'policy',
      '--usage',
      ds.inputs['aggregate as CSV'] as string,
      '--out',
      out,
      ...args,
    ]);
    t.is(r.code, 2);
    // The example WHERE clause is the guide's business; the rest is the contract.
    t.true(
      r.err.startsWith(
        `xray-lp: ${named} cannot be applied to usage rows: filter them in the query that aggregates the rows (WHERE day >= `,
      ),
    );
    t.true(
      r.err.endsWith(
        `docs/scale.md). --workload, --exclude-workload, --service, --action and --resource apply.\n`,
      ),
    );
    t.is(r.out, '');
    t.false(fs.existsSync(out));
  });

test('--usage with a filter that matches no row prints why, exit 0', async (t) => {
  const ds = await datasets.samples!();
  const r = await cli([
    'policy',
    '--usage',
    ds.inputs['aggregate as Parquet'] as string,
    '--service',
    'nosuchservice',
  ]);
  t.is(r.code, 0, r.err);
  t.is(r.out, '{}\n');
  t.is(r.err, 'No policy: no usage row with a principal and a permission matches.\n');
});

test('--usage refuses --check-complete: rows carry no trace counts, so the gate cannot be checked', async (t) => {
  const ds = await datasets.samples!();
  const out = path.join(tempDir(), 'never');
  const r = await cli([
    'policy',
    '--usage',
    ds.inputs['aggregate as Parquet'] as string,
    '--check-complete',
    '--out',
    out,
  ]);
  t.is(r.code, 2);
  t.regex(r.err, /^xray-lp: --check-complete cannot be used with --usage: .*xray-lp merge/);
  t.is(r.out, '');
  t.false(fs.existsSync(out));
});
