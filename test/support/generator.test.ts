import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyStats, generateDump, writeDump, type GenOptions } from './generator.js';

const SMALL: Partial<GenOptions> = { sizeBytes: 200 * 1024, seed: 1 };

async function collect(opts: Partial<GenOptions>): Promise<string> {
  let s = '';
  for await (const chunk of generateDump(opts)) s += chunk;
  return s;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Splits concatenated top-level JSON documents the slow, obvious way (brace depth outside strings). */
function splitDocuments(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
  }
  return docs;
}

interface Node {
  id: string;
  namespace?: string;
  inferred?: boolean;
  origin?: string;
  name: string;
  aws?: { function_arn?: string };
  subsegments?: Node[];
}

function count(text: string) {
  const c = { documents: 0, traces: 0, segments: 0, inferred: 0, calls: 0, subsegments: 0, unprocessed: 0 };
  const workloads = new Set<string>();
  const ids = new Set<string>();
  const traceIds = new Set<string>();
  const walk = (n: Node): void => {
    for (const s of n.subsegments ?? []) {
      c.subsegments++;
      ids.add(s.id);
      if (s.namespace === 'aws') c.calls++;
      walk(s);
    }
  };
  for (const d of splitDocuments(text) as {
    Traces: { Id: string; Segments: { Id: string; Document: string }[] }[];
    UnprocessedTraceIds: string[];
  }[]) {
    // prettier-ignore
    c.documents++;
    c.unprocessed += d.UnprocessedTraceIds.length;
    for (const t of d.Traces) {
      c.traces++;
      traceIds.add(t.Id);
      for (const s of t.Segments) {
        c.segments++;
        const doc = JSON.parse(s.Document) as Node;
        if (doc.id !== s.Id) throw new Error('Id mismatch');
        ids.add(doc.id);
        if (doc.inferred) c.inferred++;
        if (doc.origin === 'AWS::Lambda::Function' && doc.aws?.function_arn)
          workloads.add(doc.aws.function_arn);
        else if (doc.origin === 'AWS::ECS::Container' || doc.origin === 'AWS::EC2::Instance')
          workloads.add(doc.name);
        walk(doc);
      }
    }
  }
  return { ...c, workloads: workloads.size, ids, traceIds };
}

test('same seed gives the same bytes; another seed does not', async (t) => {
  const a = await collect(SMALL);
  const b = await collect(SMALL);
  const c = await collect({ ...SMALL, seed: 2 });
  t.true(a.length >= 200 * 1024);
  t.is(sha256(a), sha256(b));
  t.not(sha256(a), sha256(c));
});

for (const layout of ['concatenated', 'single'] as const) {
  test(`meta counts match a straightforward count (${layout})`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'xray-lp-gen-'));
    try {
      const out = join(dir, 'dump.json');
      const meta = await writeDump({ ...SMALL, layout }, out);
      const text = readFileSync(out, 'utf8');
      t.deepEqual(JSON.parse(readFileSync(`${out}.meta.json`, 'utf8')), meta);
      t.is(meta.sha256, sha256(text));
      t.is(meta.bytes, Buffer.byteLength(text));
      t.is(meta.fileBytes, meta.bytes);
      const c = count(text);
      t.is(c.documents, meta.documents);
      t.is(c.traces, meta.traces);
      t.is(c.segments, meta.segments);
      t.is(c.inferred, meta.inferredSegments);
      t.is(c.calls, meta.calls);
      t.is(c.subsegments, meta.subsegments);
      t.is(c.unprocessed, meta.unprocessedTraceIds);
      t.is(c.workloads, meta.workloads);
      t.is(c.traceIds.size, c.traces, 'trace ids are unique');
      t.is(c.ids.size, c.segments + c.subsegments, 'segment/subsegment ids are unique');
      for (const id of c.traceIds) t.regex(id, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
      for (const id of c.ids) t.regex(id, /^[0-9a-f]{16}$/);
      if (layout === 'concatenated') t.true(meta.documents > 1);
      else t.is(meta.documents, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('stats are filled in by the async generator too', async (t) => {
  const stats = emptyStats();
  let bytes = 0;
  for await (const chunk of generateDump(SMALL, stats)) bytes += Buffer.byteLength(chunk);
  t.is(stats.bytes, bytes);
  t.true(stats.traces > 0 && stats.calls > 0 && stats.inferredSegments > 0);
});
