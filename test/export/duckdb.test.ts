/**
 * DuckDB, as the engine of docs/scale.md, reads the exported Parquet and answers what `usage`,
 * `workloads` and `stats` answer on the database, exactly: per workload × action × resource
 * (calls, errors, faults, throttles, denied, first and last seen), the grand totals, and each
 * workload's counts. For the samples (X-Ray and OpenTelemetry) and a generated dataset.
 */
import path from 'node:path';
import test from 'ava';
import { isoTime } from '../../src/shared/time.js';
import { cli, repoRoot, tempDir } from '../support/helpers.js';
import { writeDump } from '../support/generator.js';
import { Duck, exportViews, type Row } from '../support/duckdb.js';

const json = async (args: string[]): Promise<unknown> => {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out);
};

/** A database and its export. */
async function exported(inputs: string[]): Promise<{ db: string; dir: string }> {
  const dir = tempDir();
  const db = path.join(dir, 'x.db');
  const ingested = await cli(['--db', db, 'ingest', '-q', ...inputs]);
  if (ingested.code !== 0) throw new Error(ingested.err);
  const out = path.join(dir, 'export');
  const r = await cli(['--db', db, 'export', '--out', out]);
  if (r.code !== 0) throw new Error(r.err);
  return { db, dir: out };
}

const DATASETS: Record<string, () => Promise<string[]>> = {
  samples: async () => [
    path.join(repoRoot, 'samples/traces'),
    path.join(repoRoot, 'samples/otel/aws-spans.jsonl'),
  ],
  generated: async () => {
    const dump = path.join(tempDir(), 'dump.json');
    await writeDump({ sizeBytes: 1_000_000, workloads: 30, accounts: 2, days: 4, seed: 3 }, dump);
    return [dump];
  },
};

/** Epoch microseconds → the ISO time the tool prints for the same stored seconds. */
function iso(us: number): string | null {
  const s = Math.floor(us / 1e6);
  return isoTime(parseFloat(`${s}.${String(us - s * 1e6).padStart(6, '0')}`));
}

/** `usage --json`'s rows, computed by DuckDB from the exported usage and workloads tables. */
const USAGE_SQL = `
SELECT coalesce(w.name, '(unattributed)') AS workload, w.key AS workloadKey, w.kind AS workloadKind,
       CASE WHEN u.action IS NOT NULL THEN u.action
            WHEN u.mapping = 'no-permission' THEN '(no permission needed)'
            ELSE '(unmapped ' || u.service || ':' || coalesce(u.operation, '?') || ')' END AS action,
       u.resource,
       sum(u.calls) AS calls,
       sum(CASE WHEN u.outcome = 'error' THEN u.calls ELSE 0 END) AS errors,
       sum(CASE WHEN u.outcome = 'fault' THEN u.calls ELSE 0 END) AS faults,
       sum(CASE WHEN u.outcome = 'throttle' THEN u.calls ELSE 0 END) AS throttles,
       sum(CASE WHEN u.denied THEN u.calls ELSE 0 END) AS denied,
       epoch_us(min(u.first_seen)) AS first_us, epoch_us(max(u.last_seen)) AS last_us
FROM xray_usage u LEFT JOIN xray_workloads w ON w.principal = u.principal
GROUP BY ALL`;

const key = (r: Row): string => JSON.stringify([r.workloadKey ?? null, r.action, r.resource ?? null]);

for (const [name, inputs] of Object.entries(DATASETS)) {
  test(`${name}: DuckDB reproduces usage --json from the exported Parquet, row for row and in total`, async (t) => {
    const { db, dir } = await exported(await inputs());
    const want = (await json(['--db', db, 'usage', '--json'])) as Row[];
    const duck = await Duck.open();
    try {
      await duck.run(exportViews(dir));
      const got = (await duck.rows(USAGE_SQL)).map((r) => {
        const { first_us, last_us, ...rest } = r;
        return { ...rest, firstSeen: iso(first_us as number), lastSeen: iso(last_us as number) };
      });
      const fields = [
        'workload',
        'workloadKey',
        'workloadKind',
        'action',
        'resource',
        'calls',
        'errors',
        'faults',
        'throttles',
        'denied',
        'firstSeen',
        'lastSeen',
      ];
      const pick = (r: Row): Row => Object.fromEntries(fields.map((f) => [f, r[f] ?? null]));
      const byKey = (rows: Row[]): Record<string, Row> =>
        Object.fromEntries(rows.map((r) => [key(r), pick(r)]));
      t.is(got.length, want.length);
      t.deepEqual(byKey(got), byKey(want));
      // Grand totals, and the calls table against `stats`.
      const total = (rows: Row[], f: string): number => rows.reduce((n, r) => n + (r[f] as number), 0);
      for (const f of ['calls', 'errors', 'faults', 'throttles', 'denied'])
        t.is(total(got, f), total(want, f), f);
      const stats = (await json(['--db', db, 'stats', '--json'])) as {
        calls: number;
        byOutcome: Record<string, number>;
      };
      const calls = await duck.rows('SELECT outcome, count(*) AS n FROM xray_calls GROUP BY outcome');
      t.deepEqual(Object.fromEntries(calls.map((r) => [r.outcome, r.n])), stats.byOutcome);
      t.is(total(calls, 'n'), stats.calls);
      // The check can fail: a day left out changes the totals.
      const [partial] = await duck.rows(
        'SELECT sum(calls) AS calls FROM xray_usage WHERE day <> (SELECT min(day) FROM xray_usage)',
      );
      t.true((partial?.calls as number) < total(want, 'calls'));
    } finally {
      duck.close();
    }
  });

  test(`${name}: the workloads table holds workloads --json's counts, and the calls table agrees`, async (t) => {
    const { db, dir } = await exported(await inputs());
    type W = Record<string, unknown> & { key: string };
    const want = (await json(['--db', db, 'workloads', '--json'])) as W[];
    const duck = await Duck.open();
    try {
      await duck.run(exportViews(dir));
      const rows = await duck.rows(
        `SELECT w.*, epoch_us(w.first_seen) AS first_us, epoch_us(w.last_seen) AS last_us,
                (SELECT count(*) FROM xray_calls c WHERE c.principal = w.principal) AS call_rows,
                (SELECT count(DISTINCT c.day) FROM xray_calls c WHERE c.principal = w.principal) AS call_days
         FROM xray_workloads w ORDER BY w.key`,
      );
      t.is(rows.length, want.length);
      const got = Object.fromEntries(
        rows.map((r) => [
          r.key,
          {
            kind: r.kind,
            name: r.name,
            arn: r.arn,
            account: r.account,
            region: r.region,
            calls: r.calls,
            traces: r.traces,
            denied: r.denied,
            errors: r.errors,
            faults: r.faults,
            throttles: r.throttles,
            activeDays: r.active_days,
            distinctActions: r.actions,
            firstSeen: iso(r.first_us as number),
            lastSeen: iso(r.last_us as number),
            attrs: JSON.parse(r.attrs as string) as unknown,
          },
        ]),
      );
      const expected = Object.fromEntries(
        want.map((w) => [
          w.key,
          Object.fromEntries(Object.keys(got[w.key] ?? {}).map((f) => [f, w[f] ?? null])),
        ]),
      );
      t.deepEqual(got, expected);
      for (const r of rows) {
        t.is(r.call_rows, r.calls, `${r.key as string}: one calls row per call`);
        t.is(r.call_days, r.active_days, `${r.key as string}: one day partition per active day`);
      }
    } finally {
      duck.close();
    }
  });
}
