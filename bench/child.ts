/**
 * Child processes of the benchmarks: wall time, peak RSS and CPU time (via /usr/bin/time -v;
 * without it peak RSS by polling VmHWM), and a warm page cache before each timed run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TIME_BIN = '/usr/bin/time';

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  peakRssKB?: number;
  /** User + system CPU seconds of the child, every thread (from /usr/bin/time -v only). */
  cpuSeconds?: number;
}

export const hasTimeBin = ((): boolean => {
  if (!existsSync(TIME_BIN)) return false;
  const r = spawnSync(TIME_BIN, ['-v', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /Maximum resident set size/.test(r.stderr);
})();

function readVmHWM(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command, measuring wall time and peak RSS (via /usr/bin/time -v, else by polling VmHWM). */
export function runChild(cmd: string, args: string[]): Promise<ChildRun> {
  const rssFile = join(tmpdir(), `xray-lp-bench-rss-${process.pid}-${Date.now()}.txt`);
  const [bin, argv] = hasTimeBin ? [TIME_BIN, ['-v', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const started = process.hrtime.bigint();
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let polled: number | undefined;
  const poll = hasTimeBin
    ? undefined
    : setInterval(() => {
        const v = child.pid === undefined ? undefined : readVmHWM(child.pid);
        if (v !== undefined) polled = Math.max(polled ?? 0, v);
      }, 20);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (poll) clearInterval(poll);
      let peakRssKB = polled;
      let cpuSeconds: number | undefined;
      if (hasTimeBin) {
        try {
          const text = readFileSync(rssFile, 'utf8');
          const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
          if (m) peakRssKB = Number(m[1]);
          const user = /User time \(seconds\): ([\d.]+)/.exec(text);
          const sys = /System time \(seconds\): ([\d.]+)/.exec(text);
          if (user && sys) cpuSeconds = Number(user[1]) + Number(sys[1]);
          rmSync(rssFile, { force: true });
        } catch {
          // no rss
        }
      }
      resolvePromise({
        code,
        stdout,
        stderr,
        wallSeconds,
        ...(peakRssKB === undefined ? {} : { peakRssKB }),
        ...(cpuSeconds === undefined ? {} : { cpuSeconds }),
      });
    });
  });
}

/** Reads the file once so every method starts from a warm page cache. */
export function warm(file: string): void {
  const files = statSync(file).isDirectory() ? readdirSync(file).map((f) => join(file, f)) : [file];
  spawnSync('cat', files, { stdio: ['ignore', 'ignore', 'ignore'] });
}

/** One timed step: wall seconds and, where measured, peak RSS. */
export interface Timing {
  seconds: number;
  peakRssMB?: number;
}

/** The timing of a finished child; throws with the end of its stderr when it failed. */
export function timing(r: ChildRun, what: string): Timing {
  if (r.code !== 0)
    throw new Error(`${what}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { seconds: r.wallSeconds, ...(r.peakRssKB === undefined ? {} : { peakRssMB: r.peakRssKB / 1024 }) };
}

/** Bytes of a database file and its write-ahead log. */
export const dbSize = (file: string): number =>
  [file, `${file}-wal`].reduce((a, f) => a + (existsSync(f) ? statSync(f).size : 0), 0);
