/**
 * A read worker: runs one statement on its own read-only connection and posts its rows in batches
 * of JSON text. Each row is one JSON array, written by SQLite (`json_array(…)`): a batch is their
 * join, and one `JSON.parse` per batch on the main thread costs about a third of what the
 * structured clone of the same arrays does. It waits when it is {@link MAX_AHEAD} batches
 * ahead, so what it holds is bounded, and stops when the main thread cancels.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { MAX_AHEAD, SLOT, type ReadJob, type ReadMessage } from './protocol.js';

const { job, port } = workerData as { job: ReadJob; port: MessagePort };
const counters = new Int32Array(job.counters);
Atomics.store(counters, SLOT.started, 1);

function post(m: ReadMessage): void {
  port.postMessage(m);
  Atomics.add(counters, SLOT.posted, 1);
  Atomics.notify(counters, SLOT.posted);
}

/** Waits until the main thread has taken enough batches; false when it cancelled. */
function roomToPost(posted: number): boolean {
  for (;;) {
    if (Atomics.load(counters, SLOT.cancel) === 1) return false;
    const taken = Atomics.load(counters, SLOT.taken);
    if (posted - taken < MAX_AHEAD) return true;
    Atomics.wait(counters, SLOT.taken, taken, 200);
  }
}

async function run(): Promise<void> {
  // Loaded here, not at the top: a failure to load it is posted like any other.
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(job.path, { readonly: true, fileMustExist: true });
  try {
    // Sorts spill to files as openStore's do. The cache is an eighth of openStore's: the reads
    // are index ranges in key order, and a larger cache only raised peak RSS (two workers).
    db.pragma('busy_timeout = 30000');
    db.pragma('cache_size = -4096');
    db.pragma('temp_store = FILE');
    for (const s of job.setup) {
      db.exec(s.create);
      const insert = db.prepare(s.insert);
      db.transaction(() => {
        for (const r of s.rows) insert.run(...r);
      })();
    }
    const statement = db.prepare(job.sql).raw(true);
    let posted = 0;
    let batch: string[] = [];
    const send = (chunkEnd: boolean): boolean => {
      if (!roomToPost(posted)) return false;
      post({ kind: 'rows', json: `[${batch.join(',')}]`, chunkEnd });
      posted++;
      batch = [];
      return true;
    };
    const runOnce = (params: readonly unknown[]): boolean => {
      for (const row of statement.iterate(...params) as IterableIterator<[string]>) {
        batch.push(row[0]);
        if (batch.length >= job.batchRows && !send(false)) return false;
      }
      return true;
    };
    if (job.chunks.length === 0) {
      if (!runOnce(job.params) || (batch.length > 0 && !send(false))) return;
    } else
      for (const chunk of job.chunks) {
        for (const v of chunk) if (!runOnce([...job.params, v])) return;
        if (!send(true)) return;
      }
    post({ kind: 'done' });
  } finally {
    db.close();
  }
}

run().catch((err: unknown) => {
  const e = err as { name?: string; message?: string; code?: string };
  post({
    kind: 'error',
    name: e.name ?? 'Error',
    message: e.message ?? String(err),
    ...(e.code ? { code: e.code } : {}),
  });
});
