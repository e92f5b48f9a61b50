/**
 * Reads one statement's rows on a second thread, as a synchronous generator: the worker runs
 * SQLite (the scan, the join, the sort, and building each row's values) on the other core while
 * the caller builds what it makes of the rows. A policy read of every workload spends about half
 * its time there (docs/performance.md, "Every policy on two cores").
 *
 * The main thread waits with `Atomics.wait` and takes each batch with `receiveMessageOnPort`, so
 * callers keep their synchronous loops. The worker opens its own read-only connection: the rows
 * are what a statement on the caller's connection would read outside a transaction.
 */
import fs from 'node:fs';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { StoreError } from '../../shared/errors.js';
import type { Store } from '../db.js';
import { SLOT, START_TIMEOUT_S, type ReadJob, type ReadMessage, type ReadSetup } from './protocol.js';

export type { ReadSetup } from './protocol.js';

/** Whether a large read runs on a second thread: by size (`auto`), always, or never. */
export type ReadThreadMode = 'auto' | 'always' | 'never';

/**
 * In `auto`, databases from this size up read on a second thread. Below it a whole read takes
 * less than starting the worker and opening the file again (about 40 ms).
 */
export const READ_THREAD_MIN_BYTES = 64 * 1024 * 1024;

/** Rows per batch: large enough that posting costs nothing, small enough to bound what is held. */
const BATCH_ROWS = 2048;

/**
 * Workers a read of many values (`each`) is dealt to, in chunks of {@link CHUNK_VALUES}. Two:
 * SQLite's part of a policy read of every workload is about 1.4 times what the main thread
 * builds from its rows, so one worker left the main thread waiting for it.
 */
const READ_WORKERS = 2;
const CHUNK_VALUES = 8;

/**
 * True when a read of `store` should run on a second thread: a file database (another connection
 * can open it) with no transaction open on this connection (the worker could not see its writes),
 * and `mode` asks for it.
 */
export function readOnThread(store: Store, mode: ReadThreadMode = 'auto'): boolean {
  if (mode === 'never' || store.memory || store.inTransaction) return false;
  if (mode === 'always') return true;
  try {
    return fs.statSync(store.name).size >= READ_THREAD_MIN_BYTES;
  } catch {
    return false;
  }
}

function startWorker(job: ReadJob, port: MessagePort): Worker {
  const here = import.meta.url;
  const data = {
    workerData: { job, port },
    transferList: [port],
    // Its rows die young: a small new space keeps the process's peak RSS near a read on one
    // thread (report at 10 M calls: 230 against 283 MiB with V8's default).
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  };
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), data);
  // Running from source under tsx (the tests): the worker needs tsx's loader as well.
  const url = new URL('./worker.ts', here).href;
  return new Worker(
    `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url)}); });`,
    { eval: true, ...data },
  );
}

/** One read for {@link readRowsOnThread}. */
export interface ThreadRead {
  /** A statement whose one column is the row as a JSON array (`SELECT json_array(…) …`). */
  sql: string;
  params: readonly unknown[];
  /** When given and not empty: the statement runs once per value, given as its last parameter, in order. */
  each?: readonly unknown[];
  /** Temporary tables the worker's connection fills first (the caller's are its own). */
  setup?: readonly ReadSetup[];
}

/**
 * The raw rows (arrays) of a statement, read on a worker from `store`'s file after `setup`
 * fills the worker's own temporary tables. Stopping early (`return`, a throw in the loop) cancels
 * the worker. A failure in the worker is thrown here as a {@link StoreError}.
 */
export function* readRowsOnThread(store: Store, read: ThreadRead): Generator<unknown[]> {
  const each = read.each ?? [];
  // Values in chunks, dealt to the workers in turn: worker w runs chunks w, w + n, w + 2n…
  const chunks: unknown[][] = [];
  for (let i = 0; i < each.length; i += CHUNK_VALUES) chunks.push(each.slice(i, i + CHUNK_VALUES));
  const n = Math.min(READ_WORKERS, Math.max(1, chunks.length));
  const readers = Array.from({ length: n }, (_x, w) => {
    const counters = new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT);
    const { port1, port2 } = new MessageChannel();
    const job: ReadJob = {
      path: store.name,
      sql: read.sql,
      params: read.params,
      chunks: chunks.filter((_c, i) => i % n === w),
      setup: read.setup ?? [],
      batchRows: BATCH_ROWS,
      counters,
    };
    const worker = startWorker(job, port2);
    // The process may end while a cancelled worker finishes its statement.
    worker.unref();
    return { worker, port: port1, shared: new Int32Array(counters) };
  });
  const next = (w: number): ReadMessage => {
    const r = readers[w] as (typeof readers)[number];
    const m = take(r.port, r.shared, store.name);
    if (m.kind === 'error')
      throw new StoreError(
        `Cannot read ${store.name} on a second thread: ${m.message}${m.code ? ` (${m.code})` : ''}. Check that the file is readable and is an xray-lp database.`,
      );
    return m;
  };
  let ended = false;
  try {
    if (chunks.length === 0) {
      for (let m = next(0); m.kind === 'rows'; m = next(0)) yield* JSON.parse(m.json) as unknown[][];
    } else {
      for (let c = 0; c < chunks.length; c++)
        for (let m = next(c % n); m.kind === 'rows'; m = next(c % n)) {
          yield* JSON.parse(m.json) as unknown[][];
          if (m.chunkEnd) break;
        }
    }
    ended = true;
  } finally {
    for (const r of readers) {
      if (!ended) {
        Atomics.store(r.shared, SLOT.cancel, 1);
        Atomics.notify(r.shared, SLOT.taken);
      }
      r.port.close();
      void r.worker.terminate();
    }
  }
}

/** The next message, waiting for the worker to post it. */
function take(port: MessagePort, shared: Int32Array, file: string): ReadMessage {
  const since = Date.now();
  for (;;) {
    const posted = Atomics.load(shared, SLOT.posted);
    const m = receiveMessageOnPort(port);
    if (m) {
      Atomics.add(shared, SLOT.taken, 1);
      Atomics.notify(shared, SLOT.taken);
      return m.message as ReadMessage;
    }
    // A worker that could not load its code posts nothing: say so instead of waiting forever.
    if (Atomics.load(shared, SLOT.started) === 0 && Date.now() - since > START_TIMEOUT_S * 1000)
      throw new StoreError(
        `Cannot read ${file}: the read thread did not start in ${START_TIMEOUT_S} s. Check that xray-lp is installed whole (dist/store/read-thread/worker.js).`,
      );
    // Posted is counted after the message is sent: wake when it moves past what was seen.
    Atomics.wait(shared, SLOT.posted, posted, 1000);
  }
}
