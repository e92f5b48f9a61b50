/**
 * The shape of src/: layering is enforced by lint (each fixture in test/fixtures/layering breaks
 * one rule and must fail it), and no module imports itself back through others.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ESLint } from 'eslint';
import { fixturesDir, repoRoot } from './support/helpers.js';

const layering = path.join(fixturesDir, 'layering');

for (const file of fs.readdirSync(layering).filter((f) => f.endsWith('.ts.txt'))) {
  test(`lint refuses ${file.replace(/\.ts\.txt$/, '')}`, async (t) => {
    const text = fs.readFileSync(path.join(layering, file), 'utf8');
    const as = /^\/\/ as: (\S+)/m.exec(text)?.[1];
    const rule = /^\/\/ rule: (\S+)/m.exec(text)?.[1];
    if (!as || !rule) return t.fail(`${file} names no path or rule`);
    const [result] = await new ESLint({ cwd: repoRoot }).lintText(text, {
      filePath: path.join(repoRoot, as),
    });
    const rules = (result?.messages ?? []).map((m) => m.ruleId);
    t.true(rules.includes(rule), `${as}: expected ${rule}, got ${JSON.stringify(rules)}`);
  });
}

test('the real tree passes the layering rules (every file lints clean of them)', async (t) => {
  const results = await new ESLint({ cwd: repoRoot }).lintFiles(['src/**/*.ts']);
  const broken = results.flatMap((r) =>
    r.messages
      .filter((m) => ['no-restricted-imports', 'no-restricted-syntax', 'no-console'].includes(m.ruleId ?? ''))
      .map((m) => `${path.relative(repoRoot, r.filePath)}:${m.line} ${m.message}`),
  );
  t.deepEqual(broken, []);
});

/** Value imports between modules of a folder (type-only imports vanish at run time and are left out). */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        const text = fs.readFileSync(p, 'utf8');
        const deps: string[] = [];
        for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gm)) {
          if (m[1]) continue;
          deps.push(path.resolve(path.dirname(p), (m[2] as string).replace(/\.js$/, '.ts')));
        }
        graph.set(p, deps);
      }
    }
  };
  walk(dir);
  return graph;
}

/** Every cycle of a graph, as the list of nodes around it (Tarjan's strongly connected components). */
function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.reverse());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

test('the cycle finder finds a cycle, and a self-import', (t) => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['d']],
    ['e', ['a']],
  ]);
  t.deepEqual(
    findCycles(g).map((c) => [...c].sort()),
    [['a', 'b', 'c'], ['d']],
  );
  t.deepEqual(
    findCycles(
      new Map([
        ['a', ['b']],
        ['b', []],
      ]),
    ),
    [],
  );
});

test('no import cycle in src/', (t) => {
  const cycles = findCycles(importGraph(path.join(repoRoot, 'src')));
  t.deepEqual(
    cycles.map((c) => c.map((f) => path.relative(repoRoot, f))),
    [],
  );
});
