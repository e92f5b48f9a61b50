/**
 * Sums a `--cpu-prof` profile of ingest by stage (self time of each sampled function, grouped by
 * its file and name), for the tables of docs/performance.md. Each thread writes its own profile:
 *
 *   node --cpu-prof --cpu-prof-dir=DIR dist/cli/main.js ingest --db x.db --quiet dump.json
 *   node --import tsx bench/profile-stages.ts DIR/*.cpuprofile
 *
 * Samples are wall-clock: on a loaded machine a thread preempted inside a function is counted
 * there, so compare shares within one profile, or against the thread's CPU time.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
}
interface Profile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

/** Stage of a sampled function: the first rule that matches wins. */
const STAGES: [stage: string, test: (f: CallFrame) => boolean][] = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['JSON.parse (batches, Documents)', (f) => f.functionName === 'parseJson' || f.functionName === 'parse'],
  [
    'hand-off: stringify, post, receive',
    (f) => ['postMessage', 'readFile', 'batchesOf'].includes(f.functionName) && !f.url.includes('node:'),
  ],
  [
    'read, sha256',
    (f) =>
      ['read', 'openFileHandle', 'update', 'fstat', 'close'].includes(f.functionName) ||
      /ingest\/read\.js/.test(f.url),
  ],
  [
    'split',
    (f) => /json\/split\.js|node:buffer|internal\/buffer/.test(f.url) || f.functionName === 'indexOfBuffer',
  ],
  ['shapes (dump layout)', (f) => /ingest\/(shapes|spans|large-value|otlp-stream)\.js/.test(f.url)],
  [
    'extraction (writer: IAM mapping)',
    (f) =>
      /ingest\/(extract|extract-span|workloads|attributes|outcome)\.js|\/iam\/|shared\/values\.js/.test(
        f.url,
      ) || f.functionName.startsWith('RegExp:'),
  ],
  [
    'prepare (targets, workloads, tuples)',
    (f) => /ingest\/(wire|pipeline)\.js|shared\/bounded\.js|store\/write\/(targets|items)\.js/.test(f.url),
  ],
  ['rollup additions', (f) => f.functionName === 'flushNewCalls'],
  ['call rows', (f) => f.functionName === 'storeCall'],
  ['segment rows', (f) => f.functionName === 'writeSegmentRow' || f.functionName === 'writeDoc'],
  ['trace rows', (f) => f.functionName === 'trace' && /store\/write/.test(f.url)],
  [
    'targets, workloads (store)',
    (f) =>
      /store\/write\/attribute\.js/.test(f.url) ||
      f.functionName === 'workload' ||
      f.functionName === 'lookup',
  ],
  ['statements, commit, end', (f) => /better-sqlite3|store\/write\/(session|sql)\.js/.test(f.url)],
  ['other writer', (f) => /store\//.test(f.url)],
  [
    'start-up (modules)',
    (f) =>
      /node:internal\/(modules|bootstrap)|^node:/.test(f.url) || f.functionName === 'compileSourceTextModule',
  ],
];

/** Milliseconds per stage, and the total. */
export function stages(profile: Profile): { total: number; byStage: Map<string, number> } {
  const frame = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byStage = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const f = frame.get(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!f) return;
    const stage = STAGES.find(([, test]) => test(f))?.[0] ?? 'other';
    byStage.set(stage, (byStage.get(stage) ?? 0) + ms);
    total += ms;
  });
  return { total, byStage };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of process.argv.slice(2)) {
    const { total, byStage } = stages(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    const busy = total - (byStage.get('idle') ?? 0);
    console.log(`${file}: ${(total / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s busy`);
    for (const [stage, ms] of [...byStage].sort((a, b) => b[1] - a[1]))
      console.log(
        `  ${stage.padEnd(38)} ${(ms / 1000).toFixed(2).padStart(6)} s ${stage === 'idle' ? '' : `${((100 * ms) / busy).toFixed(1).padStart(5)}% of busy`}`,
      );
  }
}
