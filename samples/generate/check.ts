/**
 * Sanity check for the generated samples: every concatenated CLI document parses, every
 * `Document` string parses, ids and trace ids are well formed, every `parent_id` resolves inside
 * its trace, and all times fall in the sample week and match the trace id's epoch.
 *
 *   node --import tsx samples/generate/check.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { parseAll } from '../../src/json/split.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../traces');
const WEEK = [Date.UTC(2026, 10, 16) / 1000, Date.UTC(2026, 10, 23) / 1000];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

let failures = 0;
const fail = (msg: string): void => {
  failures++;
  console.error(`FAIL ${msg}`);
};

for (const file of fs
  .readdirSync(dir)
  .filter((f) => /\.json(\.gz)?$/.test(f))
  .sort()) {
  const raw = fs.readFileSync(path.join(dir, file));
  const text = file.endsWith('.gz') ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  // The project's one JSON splitter reads the concatenated CLI documents.
  const docs = parseAll(text, file) as Doc[];
  let traces = 0;
  let segments = 0;
  const stats = { inferred: 0, aws: 0, errors: 0, throttles: 0, denied: 0, remote: 0, maxDepth: 0 };
  for (const d of docs) {
    if (!Array.isArray(d.Traces) || !Array.isArray(d.UnprocessedTraceIds))
      fail(`${file}: not a BatchGetTraces document`);
    if (d.Traces.length + d.UnprocessedTraceIds.length > 5) fail(`${file}: more than 5 ids in one call`);
    for (const t of d.Traces as Doc[]) {
      traces++;
      if (!/^1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(t.Id)) fail(`${file}: bad trace id ${t.Id}`);
      const epoch = parseInt(String(t.Id).slice(2, 10), 16);
      const ids = new Set<string>();
      const parents: [string, string][] = [];
      let minStart = Infinity;
      const visit = (n: Doc, depth: number, top: boolean): void => {
        if (!/^[0-9a-f]{16}$/.test(n.id)) fail(`${file} ${t.Id}: bad id ${n.id}`);
        ids.add(n.id);
        if (!(n.start_time >= WEEK[0]! && n.end_time <= WEEK[1]! && n.end_time >= n.start_time))
          fail(`${file} ${t.Id}: bad times on ${n.name}`);
        minStart = Math.min(minStart, n.start_time);
        if (!top && (n.type || n.trace_id || n.parent_id))
          fail(`${file} ${t.Id}: unmerged subsegment ${n.name}`);
        if (n.namespace === 'aws') stats.aws++;
        if (n.namespace === 'remote') stats.remote++;
        if (n.error || n.fault) stats.errors++;
        if (n.throttle) stats.throttles++;
        if (/not authorized to perform/.test(JSON.stringify(n.cause ?? ''))) stats.denied++;
        stats.maxDepth = Math.max(stats.maxDepth, depth);
        for (const c of (n.subsegments ?? []) as Doc[]) visit(c, depth + 1, false);
      };
      for (const s of t.Segments as Doc[]) {
        segments++;
        let seg: Doc;
        try {
          seg = JSON.parse(s.Document) as Doc;
        } catch (e) {
          fail(`${file} ${t.Id}: Document does not parse: ${String(e)}`);
          continue;
        }
        if (seg.id !== s.Id) fail(`${file} ${t.Id}: Segment Id ${s.Id} != document id ${seg.id}`);
        if (seg.trace_id !== t.Id) fail(`${file} ${t.Id}: document trace_id ${seg.trace_id}`);
        if (seg.inferred) stats.inferred++;
        if (seg.parent_id) parents.push([seg.id, seg.parent_id]);
        visit(seg, 0, true);
      }
      for (const [id, p] of parents) if (!ids.has(p)) fail(`${file} ${t.Id}: ${id} has unknown parent ${p}`);
      if (Math.floor(minStart) !== epoch) fail(`${file} ${t.Id}: epoch ${epoch} but first start ${minStart}`);
    }
  }
  console.log(
    `${file}: ${docs.length} documents, ${traces} traces, ${segments} segment documents, ` +
      `${stats.aws} aws calls, ${stats.remote} remote, ${stats.inferred} inferred, ${stats.errors} error/fault nodes, ` +
      `${stats.throttles} throttled, ${stats.denied} access-denied, max depth ${stats.maxDepth}`,
  );
}
if (failures) {
  console.error(`${failures} problem(s)`);
  process.exitCode = 1;
} else console.log('all samples OK');
