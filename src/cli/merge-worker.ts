/**
 * The merge, run on a worker thread by `xray-lp merge` (commands/merge.ts): the merge is one long
 * synchronous transaction, and the main thread must stay free to take an interrupt. The main
 * thread sets the shared flag; the merge looks at it before every statement, rolls back and
 * stops (src/store/merge/merge.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InterruptedError, XrayLpError } from '../shared/errors.js';
import { openStore } from '../store/db.js';
import { mergeShards, type MergeSummary } from '../store/merge/merge.js';

/** What the main thread gives the worker. */
export interface MergeJob {
  target: string;
  shards: string[];
  busyTimeoutMs: number;
  /** One Int32: 1 once interrupted. */
  flag: SharedArrayBuffer;
}

/** What the worker answers, once. */
export type MergeReply =
  | { type: 'done'; summary: MergeSummary }
  | { type: 'interrupted' }
  | { type: 'error'; name: string; message: string; exitCode?: number; code?: string; stack?: string };

const job = workerData as MergeJob;
const stop = new Int32Array(job.flag);
let reply: MergeReply;
try {
  const store = openStore({ path: job.target, busyTimeoutMs: job.busyTimeoutMs });
  try {
    const summary = mergeShards(store, {
      shards: job.shards,
      interrupted: () => Atomics.load(stop, 0) === 1,
    });
    reply = { type: 'done', summary };
  } finally {
    store.close();
  }
} catch (err) {
  const e = err as Error & { code?: unknown };
  reply =
    err instanceof InterruptedError
      ? { type: 'interrupted' }
      : {
          type: 'error',
          name: e.name,
          message: e.message,
          ...(err instanceof XrayLpError ? { exitCode: err.exitCode } : {}),
          ...(typeof e.code === 'string' ? { code: e.code } : {}),
          stack: e.stack,
        };
}
parentPort?.postMessage(reply);
