/**
 * The benchmark's OpenTelemetry rewrite of a generated X-Ray dump (otel-dump.ts): every layout
 * ingests whole, with the counts its meta announces, and the three layouts store the same calls.
 */
import path from 'node:path';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { tempDir, tempStore } from './helpers.js';
import { writeDump } from './generator.js';
import { writeOtelDump, type OtelLayout } from './otel-dump.js';

test('each OpenTelemetry layout of a generated dump ingests with its announced counts, and all store the same calls', async (t) => {
  const dir = tempDir();
  const xray = path.join(dir, 'x.json');
  const meta = await writeDump({ sizeBytes: 300 * 1024, seed: 7 }, xray);
  const stored: unknown[] = [];
  for (const layout of ['otel-spans', 'otlp', 'otlp-one-resource'] as OtelLayout[]) {
    const file = path.join(dir, `${layout}.json`);
    const otel = await writeOtelDump(xray, meta.sha256, layout, file);
    t.is(otel.traces, meta.traces, layout);
    // X-Ray also counts plain-HTTP captures of AWS endpoints; the rewrite makes them HTTP spans.
    t.is(otel.calls, meta.calls, layout);
    const { store } = tempStore();
    // Small limits: the single-resource document goes through the streaming reader.
    const s = await ingest(store, { inputs: [file], wholeLimit: 64 * 1024, streamLimit: 128 * 1024 });
    t.is(s.rejected, 0, s.results[0]?.error?.message);
    t.is(s.newCalls, otel.calls, layout);
    t.is(s.segments, otel.spans, layout);
    stored.push(
      store
        .prepare(
          `SELECT tr.xray_id, c.sub_id, c.outcome, t.service, t.operation FROM calls c JOIN targets t ON t.id = c.target_id
           JOIN traces tr ON tr.id = c.trace_id ORDER BY 1, 2`,
        )
        .all(),
    );
    store.close();
  }
  t.deepEqual(stored[1], stored[0]);
  t.deepEqual(stored[2], stored[0]);
});
