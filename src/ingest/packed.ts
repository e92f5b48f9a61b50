/**
 * The parse worker's batches in a packed binary form, handed to the writer as transferred
 * buffers instead of JSON text: the documents' and calls' numbers in one Float64Array, their
 * strings in one UTF-8 text with each one's UTF-16 length beside it, and the rest of the batch
 * (targets and workloads described, trace fields, problems, other items: a small part) as JSON.
 * {@link unpackBatch} gives exactly what `JSON.parse(JSON.stringify(batch))` gives: non-finite
 * numbers become null, as JSON writes them.
 */
import type { WireCall, WireDoc } from '../store/write/index.js';
import type { CallVia, Outcome } from '../shared/outcome.js';
import { OUTCOMES } from '../shared/outcome.js';
import type { ParsedBatch } from './pipeline.js';

/** A batch packed by {@link packBatch}; `json` when a string could not travel as UTF-8. */
export type PackedBatch =
  | {
      /** The batch with each `docs` item's documents replaced by their number, as JSON. */
      rest: string;
      nums: Float64Array;
      /** The UTF-16 length of each string in `text`, in order; -1 for null. */
      lens: Int32Array;
      /** The strings, one after another, as UTF-8. */
      text: Uint8Array;
    }
  | { json: string };

const DOC_TYPES: readonly WireDoc[2][] = ['segment', 'subsegment', 'inferred'];
const VIAS: readonly CallVia[] = ['sdk', 'inferred', 'remote'];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A number as JSON would carry it: NaN stands for null (and ±Infinity, which JSON writes as null). */
function num(v: number | null): number {
  return v === null || !Number.isFinite(v) ? NaN : v === 0 ? 0 : v;
}

function code<T>(list: readonly T[], v: T): number {
  const i = list.indexOf(v);
  // A bug, not bad input: the preparer builds these from the same unions.
  if (i < 0) throw new Error(`packBatch: unknown value ${String(v)}`);
  return i;
}

/** Packs a batch; the buffers to transfer with it come from {@link transferList}. */
export function packBatch(batch: ParsedBatch): PackedBatch {
  const nums: number[] = [];
  const lens: number[] = [];
  const strs: string[] = [];
  const str = (s: string | null): void => {
    if (s === null || s === undefined) lens.push(-1);
    else {
      lens.push(s.length);
      strs.push(s);
    }
  };
  const items = batch.items.map((item) => {
    if (item.kind !== 'docs') return item;
    for (const d of item.docs) {
      str(d[0]);
      str(d[1]);
      str(d[3]);
      str(d[5]);
      str(d[6]);
      nums.push(
        code(DOC_TYPES, d[2]),
        d[4],
        num(d[7]),
        num(d[8]),
        d[9],
        d[10].length,
        d[11].length,
        d[12],
        d[13],
      );
      for (const n of d[10]) str(n);
      for (const c of d[11]) {
        str(c[0]);
        str(c[6]);
        nums.push(num(c[1]), num(c[2]), c[3], num(c[4]), code(OUTCOMES, c[5]), code(VIAS, c[7]));
      }
    }
    return { ...item, docs: item.docs.length };
  });
  const rest = JSON.stringify({ items, lastOffset: batch.lastOffset });
  const joined = strs.join('');
  // A lone surrogate has no UTF-8 form: JSON text carries it escaped.
  if (!(joined as unknown as { isWellFormed(): boolean }).isWellFormed())
    return { json: JSON.stringify(batch) };
  return { rest, nums: Float64Array.from(nums), lens: Int32Array.from(lens), text: encoder.encode(joined) };
}

/** The buffers of a packed batch, to transfer (not copy) with `postMessage`. */
export function transferList(p: PackedBatch): ArrayBuffer[] {
  return 'json' in p
    ? []
    : [p.nums.buffer as ArrayBuffer, p.lens.buffer as ArrayBuffer, p.text.buffer as ArrayBuffer];
}

/** The batch {@link packBatch} packed, as `JSON.parse(JSON.stringify(batch))` would give it. */
export function unpackBatch(p: PackedBatch): ParsedBatch {
  if ('json' in p) return JSON.parse(p.json) as ParsedBatch;
  const batch = JSON.parse(p.rest) as {
    items: (ParsedBatch['items'][number] | { kind: 'docs'; docs: number })[];
  };
  const { nums, lens } = p;
  const text = decoder.decode(p.text);
  let n = 0;
  let s = 0;
  let at = 0;
  const str = (): string | null => {
    const len = lens[s++] as number;
    if (len < 0) return null;
    const v = text.slice(at, at + len);
    at += len;
    return v;
  };
  const number = (): number | null => {
    const v = nums[n++] as number;
    return v === v ? v : null;
  };
  for (const item of batch.items) {
    if (item.kind !== 'docs' || typeof item.docs !== 'number') continue;
    const docs: WireDoc[] = new Array(item.docs);
    for (let i = 0; i < docs.length; i++) {
      const traceId = str() as string;
      const id = str() as string;
      const parentId = str();
      const name = str() as string;
      const origin = str();
      const type = DOC_TYPES[nums[n++] as number] as WireDoc[2];
      const workload = nums[n++] as number;
      const startTime = number();
      const endTime = number();
      const inProgress = nums[n++] as 0 | 1;
      const nodeCount = nums[n++] as number;
      const callCount = nums[n++] as number;
      const fallback = nums[n++] as number;
      const keep = nums[n++] as 0 | 1;
      const nodeIds: string[] = new Array(nodeCount);
      for (let k = 0; k < nodeCount; k++) nodeIds[k] = str() as string;
      const calls: WireCall[] = new Array(callCount);
      for (let k = 0; k < callCount; k++) {
        const subId = str() as string;
        const errorType = str();
        calls[k] = [
          subId,
          number() as number,
          number(),
          nums[n++] as number,
          number(),
          OUTCOMES[nums[n++] as number] as Outcome,
          errorType,
          VIAS[nums[n++] as number] as CallVia,
        ];
      }
      docs[i] = [
        traceId,
        id,
        type,
        parentId,
        workload,
        name,
        origin,
        startTime,
        endTime,
        inProgress,
        nodeIds,
        calls,
        fallback,
        keep,
      ];
    }
    (item as { docs: WireDoc[] }).docs = docs;
  }
  return batch as ParsedBatch;
}
