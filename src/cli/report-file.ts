/** The report file, written whole or not at all (`report`, `demo`). */
import { type ReportSummary } from '../report/report.js';
import { AtomicFile, checkInterrupted, interruptionPoints } from '../shared/files.js';

/**
 * Writes the report to `file` whole or not at all (src/shared/files.ts: a new temporary in the
 * same folder, renamed over `file` once complete; a reviewer never opens half a report), and
 * returns its summary. The event loop runs between chunks, so that an interrupt (`signal`) is
 * seen: then the temporary is removed and `file` is left as it was.
 */
export async function writeReport(
  file: string,
  run: Iterable<string> & { summary: ReportSummary },
  o: { signal?: AbortSignal; removed?: (name: string) => void } = {},
): Promise<ReportSummary> {
  const out = new AtomicFile(file);
  for (const name of out.removed) o.removed?.(name);
  try {
    const step = interruptionPoints(o.signal);
    // Chunks are small (a table row, a chart): written in blocks of 64 KiB.
    let block: string[] = [];
    let size = 0;
    for (const chunk of run) {
      block.push(chunk);
      size += chunk.length;
      if (size >= 1 << 16) {
        out.write(block.join(''));
        block = [];
        size = 0;
      }
      await step();
    }
    out.write(block.join(''));
    checkInterrupted(o.signal);
    out.commit();
  } catch (err) {
    out.discard();
    throw err;
  }
  return run.summary;
}
