/**
 * One measured method, run in its own child process by bench/run.ts so that peak RSS is per method:
 *
 *   node --import tsx bench/methods.ts <parse|stream|stream-packed|noop> <dump.json> <concatenated|single>
 *
 * Prints one JSON line: { method, seconds, cpuSeconds, readSeconds?, traces, segments, bytes } or { method, error }.
 * `seconds` and `cpuSeconds` cover reading + parsing (module loading and process start are excluded).
 */
import { readFileSync, readdirSync, createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from 'stream-json';
import { pick } from 'stream-json/filters/pick.js';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import chain from 'stream-chain';

export type MethodName = 'parse' | 'stream' | 'stream-packed' | 'noop';

export interface MethodResult {
  method: MethodName;
  seconds: number;
  /** CPU seconds (user + system, every thread) over the same span as `seconds`. */
  cpuSeconds?: number;
  readSeconds?: number;
  traces: number;
  segments: number;
  bytes: number;
  error?: string;
}

interface TraceLike {
  Segments?: { Document?: unknown }[];
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/** Parses every `Document` of a trace; returns the number of segment documents. */
function parseTrace(trace: TraceLike): number {
  let n = 0;
  for (const seg of trace.Segments ?? []) {
    const doc = JSON.parse(seg.Document as string) as { id?: unknown };
    if (typeof doc.id === 'string') n++;
  }
  return n;
}

/** The files of a `files` dataset (a directory), or the file itself. */
function filesOf(file: string): string[] {
  return statSync(file).isDirectory()
    ? readdirSync(file)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(file, f))
    : [file];
}

/** (a) for a directory: each file read whole and parsed as in {@link parseWhole}. */
function parseFiles(dir: string): Omit<MethodResult, 'method'> {
  const t0 = now();
  let traces = 0;
  let segments = 0;
  let bytes = 0;
  for (const f of filesOf(dir)) {
    const r = parseWhole(f);
    traces += r.traces;
    segments += r.segments;
    bytes += r.bytes;
  }
  return { seconds: now() - t0, traces, segments, bytes };
}

/** (a) baseline: whole file in memory, split the concatenated documents, JSON.parse everything. */
function parseWhole(file: string): Omit<MethodResult, 'method'> {
  const t0 = now();
  const buf = readFileSync(file);
  const t1 = now();
  // Documents printed by the AWS CLI end with "}\n" at column 0 and the next starts with "{": "}\n{"
  // never occurs inside a pretty-printed document (nested lines are indented, strings escape \n).
  const boundary = Buffer.from('}\n{');
  let traces = 0;
  let segments = 0;
  let start = 0;
  for (;;) {
    const idx = buf.indexOf(boundary, start);
    const end = idx === -1 ? buf.length : idx + 1;
    const doc = JSON.parse(buf.toString('utf8', start, end)) as { Traces?: TraceLike[] };
    for (const t of doc.Traces ?? []) {
      traces++;
      segments += parseTrace(t);
    }
    if (idx === -1) break;
    start = idx + 2;
  }
  return { seconds: now() - t0, readSeconds: t1 - t0, traces, segments, bytes: buf.length };
}

/** (b) the naive stream-json pipeline: parser → pick Traces → streamArray, then JSON.parse each Document. */
async function streamJson(
  file: string,
  layout: string,
  packedOnly: boolean,
): Promise<Omit<MethodResult, 'method'>> {
  const t0 = now();
  let traces = 0;
  let segments = 0;
  const pipeline = chain([
    createReadStream(file),
    parser({ jsonStreaming: layout === 'concatenated', ...(packedOnly ? { streamValues: false } : {}) }),
    pick({ filter: 'Traces' }),
    streamArray(),
  ]);
  pipeline.on('data', (item: { value: TraceLike }) => {
    traces++;
    segments += parseTrace(item.value);
  });
  await new Promise<void>((resolve, reject) => {
    pipeline.on('end', resolve);
    pipeline.on('error', reject);
  });
  return { seconds: now() - t0, traces, segments, bytes: statSync(file).size };
}

/** (b) over every file of a directory, one after another (or over the one file). */
async function streamFiles(
  file: string,
  layout: string,
  packedOnly: boolean,
): Promise<Omit<MethodResult, 'method'>> {
  const t0 = now();
  const total = { traces: 0, segments: 0, bytes: 0 };
  for (const f of filesOf(file)) {
    const r = await streamJson(f, layout === 'files' ? 'concatenated' : layout, packedOnly);
    total.traces += r.traces;
    total.segments += r.segments;
    total.bytes += r.bytes;
  }
  return { seconds: now() - t0, ...total };
}

async function main(): Promise<void> {
  const [method, file, layout = 'concatenated'] = process.argv.slice(2) as [MethodName, string, string];
  let r: Omit<MethodResult, 'method'>;
  const cpu0 = process.cpuUsage();
  try {
    switch (method) {
      case 'parse':
        r = statSync(file).isDirectory() ? parseFiles(file) : parseWhole(file);
        break;
      case 'stream':
      case 'stream-packed':
        r = await streamFiles(file, layout, method === 'stream-packed');
        break;
      case 'noop':
        r = { seconds: 0, traces: 0, segments: 0, bytes: 0 };
        break;
      default:
        throw new Error(`unknown method ${String(method)}`);
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    console.log(JSON.stringify({ method, error: e.code ? `${e.code}: ${e.message}` : e.message }));
    return;
  }
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ method, ...r, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
}

await main();
