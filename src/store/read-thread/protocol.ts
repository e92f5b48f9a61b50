/**
 * What the main thread and a read worker share: the job, the messages, and the slots of the
 * shared counters both sides wait on (`Atomics.wait`), so that the main thread can read the rows
 * synchronously (a generator) while the worker runs the statement on the other core.
 */

/** A temporary table the worker fills before the statement runs (its connection's own). */
export interface ReadSetup {
  /** `CREATE TEMP TABLE …` text (statements separated by `;`). */
  create: string;
  /** `INSERT INTO temp.… VALUES (?, …)` text. */
  insert: string;
  rows: readonly (readonly unknown[])[];
}

/** One statement for the worker to run on its own read-only connection. */
export interface ReadJob {
  /** The database file. */
  path: string;
  /** A statement whose one column is the row as a JSON array (`SELECT json_array(…) …`). */
  sql: string;
  params: readonly unknown[];
  /**
   * When not empty: the statement runs once per value of each chunk, the value given as its last
   * parameter, in order; each chunk's last batch is marked (`chunkEnd`).
   */
  chunks: readonly (readonly unknown[])[];
  setup: readonly ReadSetup[];
  /** Rows per batch posted. */
  batchRows: number;
  /** Counters (Int32Array over a SharedArrayBuffer): see the slots below. */
  counters: SharedArrayBuffer;
}

/** Slots of the shared counters. */
export const SLOT = {
  /** Batches posted by the worker (the main thread waits on it). */
  posted: 0,
  /** Batches taken by the main thread (the worker waits on it when it is ahead). */
  taken: 1,
  /** Set to 1 by the main thread when it stops reading early. */
  cancel: 2,
  /** Set to 1 by the worker once its code is loaded (a worker that cannot load posts nothing). */
  started: 3,
} as const;

/** Seconds the main thread waits for a worker to start before it reports it could not. */
export const START_TIMEOUT_S = 60;

/** A message from the worker: rows as JSON text (one array of raw rows), the end, or a failure. */
export type ReadMessage =
  | { kind: 'rows'; json: string; chunkEnd: boolean }
  | { kind: 'done' }
  | { kind: 'error'; name: string; message: string; code?: string };

/** Batches the worker may post ahead of the main thread: the memory held is bounded by it. */
export const MAX_AHEAD = 4;
