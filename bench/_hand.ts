import { readFileSync } from 'node:fs';
import { ParseState, type ParsedBatch } from '../src/ingest/pipeline.ts';
import { packBatch, unpackBatch, transferList } from '../src/ingest/packed.ts';
const file = process.argv[2]!;
const buf = readFileSync(file);
const st = new ParseState({ name: 'x' });
const batches: ParsedBatch[] = [];
for (let i = 0; i < buf.length; i += 256 * 1024) batches.push(st.push(buf.subarray(i, i + 256 * 1024)));
batches.push(st.finish());
const cpu = (f: () => void) => { const t = process.cpuUsage(); f(); const d = process.cpuUsage(t); return (d.user + d.system) / 1000; };
for (let r = 0; r < 5; r++) {
  let js: string[] = [], pk: any[] = [];
  const a = cpu(() => { js = batches.map((b) => JSON.stringify(b)); });
  const b = cpu(() => { for (const s of js) JSON.parse(s); });
  const c = cpu(() => { pk = batches.map((x) => packBatch(x)); });
  const d = cpu(() => { for (const p of pk) unpackBatch(p); });
  const jsonBytes = js.reduce((n, s) => n + s.length, 0);
  const packBytes = pk.reduce((n, p) => n + ('json' in p ? p.json.length : p.rest.length + p.nums.byteLength + p.lens.byteLength + p.text.byteLength), 0);
  console.log(`${batches.length} batches: JSON ${(jsonBytes / 2 ** 20).toFixed(1)} MiB stringify ${a.toFixed(0)} ms parse ${b.toFixed(0)} ms | packed ${(packBytes / 2 ** 20).toFixed(1)} MiB pack ${c.toFixed(0)} ms unpack ${d.toFixed(0)} ms`);
}
// equality check
let same = 0;
for (const b of batches) if (JSON.stringify(unpackBatch(packBatch(b))) === JSON.stringify(JSON.parse(JSON.stringify(b)))) same++;
console.log('round trip identical', same, '/', batches.length);
