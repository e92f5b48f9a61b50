/**
 * Sums a `--cpu-prof` profile of ingest by stage (self time of each sampled function, grouped by
 * its file and name), for the tables of docs/performance.md. Each thread writes its own profile:
 *
 *   node --cpu-prof --cpu-prof-dir=DIR dist/cli/main.js ingest --db x.db --quiet dump.json
 *   node --import tsx bench/profile-stages.ts DIR/*.cpuprofile
 *
 * Samples are wall-clock: on a loaded machine a thread preempted inside a function is counted
 * there, so compare shares within one profile, or against the thread's CPU time, which
 * `--threads` measures (one ingest into a fresh database; Linux only):
 *
 *   node --import tsx bench/profile-stages.ts --threads dist/cli/main.js x.db dump.json
 *
 * prints one JSON line: wall and process CPU (user + system), peak RSS, and the CPU of the
 * writer (the main thread), of the parse worker (the busiest other thread) and of the rest
 * (V8's helper threads, libuv), read from /proc/<pid>/task/<tid>/stat every 20 ms.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';

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

/** CPU seconds of each thread of `pid` now (utime + stime, in clock ticks of 1/100 s). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(tid, (Number(fields[11]) + Number(fields[12])) / 100);
  }
  return out;
}

/** One ingest of `input` into a fresh `db` by the CLI at `main`, with the CPU of each thread. */
export async function threads(main: string, db: string, input: string): Promise<Record<string, number>> {
  for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
  const child = spawn(
    '/usr/bin/time',
    ['-f', '%e %U %S %M', process.execPath, main, 'ingest', '--db', db, '--quiet', input],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const last = new Map<string, number>();
  let pid: number | undefined;
  const poll = setInterval(() => {
    try {
      pid ??=
        Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) ||
        undefined;
      if (pid !== undefined) for (const [tid, cpu] of threadCpu(pid)) last.set(tid, cpu);
    } catch {
      // The process ended between two polls: its last reading stands.
    }
  }, 20);
  await new Promise((resolve) => child.on('exit', resolve));
  clearInterval(poll);
  const [wall = 0, user = 0, sys = 0, rssKb = 0] = (err.trim().split('\n').pop() ?? '')
    .split(' ')
    .map(Number);
  const writer = last.get(String(pid)) ?? 0;
  const others = [...last]
    .filter(([tid]) => tid !== String(pid))
    .map(([, cpu]) => cpu)
    .sort((a, b) => b - a);
  const worker = others[0] ?? 0;
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    wall,
    cpu: round(user + sys),
    rssMB: Math.round(rssKb / 1024),
    writer,
    worker,
    rest: round(others.slice(1).reduce((a, b) => a + b, 0)),
  };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === '--threads') {
  const [main, db, input] = process.argv.slice(3);
  if (!main || !db || !input) throw new Error('--threads CLI_MAIN_JS DB INPUT');
  console.log(JSON.stringify(await threads(main, db, input)));
} else if (import.meta.url === `file://${process.argv[1]}`) {
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
