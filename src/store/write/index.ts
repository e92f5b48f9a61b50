/**
 * The store's write side, as ingest sees it: the one module `src/ingest` imports from the store
 * (lint keeps it so). A run opens with {@link openWriter}; each input is written with
 * `openInput(name)`, `write(item)` for each prepared item, and `finish(meta)` (or `abandon`);
 * the run ends with `finish()`. The item types and the target identity functions are the pure
 * half, which ingest's preparer also runs on its worker thread.
 */
export {
  openWriter,
  type InputMeta,
  type InputWriter,
  type StoreWriter,
  type WriteCounts,
} from './writer.js';
export type { SettledFallbacks } from './attribute.js';
export {
  wireCall,
  wireDoc,
  type ConfigFields,
  type DocFields,
  type ItemProblem,
  type PreparedItem,
  type TargetDef,
  type TraceFields,
  type TrailEventFields,
  type TrailProblemFields,
  type WireCall,
  type WireDoc,
  type WorkloadDef,
  type WorkloadFields,
} from './items.js';
export { canonicalParams, fillIn, signature, type TargetFields } from './targets.js';
export type { Store } from '../db.js';
export type { TraceFormat } from '../workloads.js';
