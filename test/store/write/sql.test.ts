/**
 * Query plans of the ingest statements: each must touch only the rows it is about. A plan that
 * walks a whole table still gives right answers, so only its plan shows it: on a database of
 * millions of calls it turns every input, or every chunk of calls, into a full scan.
 */
import test from 'ava';
import path from 'node:path';
import { ingest } from '../../../src/ingest/ingest.js';
import { prepareIngest } from '../../../src/store/write/sql.js';
import { repoRoot, tempStore } from '../../support/helpers.js';

for (const analyzed of [false, true]) {
  test(`no ingest statement scans calls, segments or a rollup table (${analyzed ? 'with' : 'without'} ANALYZE statistics)`, async (t) => {
    const { store } = tempStore();
    await ingest(store, { inputs: [path.join(repoRoot, 'samples/traces')] });
    // xray-lp never runs ANALYZE, but a user may have: plans must hold either way.
    if (analyzed) store.exec('ANALYZE');
    const statements = prepareIngest(store);
    const plans: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(statements)) {
      (Array.isArray(value) ? value : [value]).forEach((st, i) => {
        const params = st.source.includes('@')
          ? [Object.fromEntries([...st.source.matchAll(/@(\w+)/g)].map((m) => [m[1], 1]))]
          : Array<number>((st.source.match(/\?/g) ?? []).length).fill(1);
        const plan = store
          .prepare(`EXPLAIN QUERY PLAN ${st.source}`)
          .all(...params)
          .map((r) => (r as { detail: string }).detail);
        plans[`${name}[${i}]`] = plan;
      });
    }
    for (const [name, plan] of Object.entries(plans)) {
      for (const line of plan) {
        const scan = /^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?/.exec(line);
        if (!scan) continue;
        // Allowed: the scratch list of touched days, the unprocessed-id probe (LIMIT 1), and the
        // partial indexes of subsegments still waiting for their parent, of spans settled for a
        // fallback workload (LIMIT 1), and of the fallback workloads themselves.
        // Deleting a fallback workload that every span found better scans segments for the
        // foreign-key check: only when one is deleted, which happens once in its life.
        const ok =
          (name === 'dropUnusedFallback[0]' && scan[1] === 'segments') ||
          scan[1] === 't' ||
          scan[1] === 'unprocessed_traces' ||
          ['segments_unattributed', 'segments_settled', 'workloads_fallback'].includes(scan[2] ?? '');
        t.true(ok, `${name}: ${line}`);
      }
    }
    for (let i = 0; i < statements.addNewCalls.length; i++)
      t.true(
        plans[`addNewCalls[${i}]`]!.some((l) => /USING INTEGER PRIMARY KEY \(rowid>\?\)/.test(l)),
        `addNewCalls[${i}] reads only the new calls: ${plans[`addNewCalls[${i}]`]!.join(' | ')}`,
      );
  });
}
