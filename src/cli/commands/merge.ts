import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Command } from 'commander';
import { InterruptedError, XrayLpError, type ExitCode } from '../../shared/errors.js';
import { removeStaleTemporaries } from '../../shared/files.js';
import { checkShards, type MergeSummary } from '../../store/merge/merge.js';
import { onInterrupt } from '../interrupt.js';
import type { MergeJob, MergeReply } from '../merge-worker.js';
import type { CommandContext } from '../command.js';
import { safeJson } from '../output.js';
import { dbPath } from '../options.js';
import { int, safe } from '../render.js';

interface MergeOptions {
  quiet?: boolean;
  json?: boolean;
  busyTimeout?: string;
}

/** Registers `xray-lp merge`. */
export function registerMerge(program: Command, { io }: CommandContext): void {
  program
    .command('merge')
    .description(
      'merge databases written by ingest (shards) into the database (--db), each trace, segment and call once',
    )
    .argument('<shard...>', 'xray-lp database files (an older schema is migrated in a temporary copy)')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--busy-timeout <seconds>', 'wait this long for another process writing the database', '60')
    .addHelpText(
      'after',
      `
Exit codes: 0 merged; 2 a shard is missing, not an xray-lp database, of a newer schema, or the
            target itself (nothing is written); 1 the target database cannot be used.
The merge is one transaction: all of it, or nothing. The shards are only read.
Ctrl-C rolls the merge back (at its next statement) and exits 130: the target is as it was.`,
    )
    .action(async (shards: string[], opts: MergeOptions, cmd: Command) => {
      const target = dbPath(cmd, io);
      // Before the target is opened (created, or migrated): a bad shard leaves it as it was.
      checkShards(shards, target);
      const timeout = Number(opts.busyTimeout ?? '60');
      // Migrated copies of shards a killed merge left in the temporary folder.
      for (const name of removeStaleTemporaries(os.tmpdir()))
        io.err(`xray-lp: removed ${safe(path.join(os.tmpdir(), name))}, left by an interrupted run\n`);
      onInterrupt({
        graceful: true,
        message: `merge interrupted: rolled back; ${safe(target)} is as it was. Run the same command again to merge.`,
        atOnce: `merge stopped at once: its transaction was never committed, so ${safe(target)} is as it was.`,
      });
      const summary = await runMerge(
        {
          target,
          shards,
          busyTimeoutMs: Number.isFinite(timeout) ? timeout * 1000 : 60_000,
          flag: new SharedArrayBuffer(4),
        },
        io.signal,
      );
      if (opts.json) io.out(`${safeJson(summary)}\n`);
      else if (!opts.quiet) io.out(renderMergeSummary(summary));
    });
}

/** The merge worker (merge-worker.ts); under tsx (the tests) with tsx's loader as well. */
function startMergeWorker(job: MergeJob): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('../merge-worker.js', here), { workerData: job });
  const url = new URL('../merge-worker.ts', here).href;
  return new Worker(
    `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url)}); });`,
    { eval: true, workerData: job },
  );
}

/**
 * Runs the merge on a worker thread; `signal` (an interrupt) sets the flag the merge looks at
 * before every statement: it rolls back and this throws InterruptedError.
 */
async function runMerge(job: MergeJob, signal: AbortSignal | undefined): Promise<MergeSummary> {
  const worker = startMergeWorker(job);
  const stop = (): void => {
    Atomics.store(new Int32Array(job.flag), 0, 1);
  };
  signal?.addEventListener('abort', stop);
  if (signal?.aborted) stop();
  try {
    const reply = await new Promise<MergeReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`the merge worker stopped (exit ${code}) without an answer`)),
      );
    });
    if (reply.type === 'done') return reply.summary;
    if (reply.type === 'interrupted') throw new InterruptedError();
    if (reply.exitCode !== undefined) {
      const err = new XrayLpError(reply.message, reply.exitCode as ExitCode);
      err.name = reply.name;
      throw err;
    }
    throw Object.assign(new Error(reply.message), { name: reply.name, code: reply.code, stack: reply.stack });
  } finally {
    signal?.removeEventListener('abort', stop);
    await worker.terminate();
  }
}

const plural = (n: number, word: string): string => `${int(n)} ${word}${n === 1 ? '' : 's'}`;

/** The human summary printed after a merge. */
export function renderMergeSummary(s: MergeSummary): string {
  const lines: string[] = [];
  lines.push(
    `Merged ${plural(s.shards.length, 'shard')} into ${safe(s.target)} (${(s.elapsedMs / 1000).toFixed(2)} s)`,
  );
  for (const sh of s.shards) {
    const schema = sh.migrated
      ? `schema ${sh.schemaVersion}, read from a migrated temporary copy`
      : `schema ${sh.schemaVersion}`;
    lines.push(
      `  ${safe(sh.shard)} (${schema}): ${plural(sh.inputs, 'input')} (${int(sh.newInputs)} new), traces ${int(sh.traces)} (${int(sh.newTraces)} new), AWS calls ${int(sh.calls)} (${int(sh.newCalls)} new)`,
    );
  }
  lines.push(
    `  traces ${int(s.traces)} (${int(s.newTraces)} new, ${int(s.traces - s.newTraces)} already stored), segments ${int(s.segments)} (${int(s.newSegments)} new, ${int(s.duplicateSegments)} already stored${s.replacedSegments > 0 ? `, ${int(s.replacedSegments)} complete replacing in-progress` : ''}), AWS calls ${int(s.calls)} (${int(s.newCalls)} new, ${int(s.duplicateCalls)} already stored${s.replacedCalls > 0 ? `, ${int(s.replacedCalls)} replacing inferred-only` : ''}${s.filledCalls > 0 ? `, ${int(s.filledCalls)} filled in by an inferred segment` : ''})`,
  );
  if (s.attributedCalls > 0)
    lines.push(
      `  ${plural(s.attributedCalls, 'call')} found ${s.attributedCalls === 1 ? 'its' : 'their'} workload in another database (independent subsegments, spans, inferred-only calls)`,
    );
  if (s.overlap.length > 0) {
    lines.push(
      `  ${plural(s.overlap.length, 'input')} ${s.overlap.length === 1 ? 'was' : 'were'} in more than one database (same sha256); ${s.overlap.length === 1 ? 'its' : 'their'} content was stored once:`,
    );
    for (const o of s.overlap.slice(0, 10)) {
      const where = [o.stored, ...o.alsoIn].map((w) => safe(w.database));
      lines.push(
        `    ${safe(o.stored.path)} (sha256 ${o.sha256.slice(0, 12)}): ${[...new Set(where)].join(', ')}`,
      );
    }
    if (s.overlap.length > 10)
      lines.push(`    … and ${int(s.overlap.length - 10)} more (--json lists them all)`);
  }
  lines.push(`  workloads in the database: ${int(s.workloads)} (${int(s.newWorkloads)} new)`);
  if (s.fallbacks.calls > 0) {
    const w = s.fallbacks.workloads;
    lines.push(
      `  ${plural(s.fallbacks.calls, 'call')} of ${w.length === 1 ? 'a Lambda function' : `${int(w.length)} Lambda functions`} stored without the function's account (${w.slice(0, 3).map(safe).join(', ')}${w.length > 3 ? ', …' : ''}):`,
      "    their traces held no span naming it (the function's SERVER span). Ingest or merge the rest of those traces and they move to the function's ARN.",
    );
  }
  return `${lines.join('\n')}\n`;
}
