/** What `ingest` prints (also `demo`): its progress line and its summary. */
import { type IngestProgress, type IngestSummary } from '../../ingest/ingest.js';
import { bytes, int, safe } from '../render.js';

/** The progress line drawn on a terminal: how far, how fast, and how long to go. */
export function progressLine(p: IngestProgress): string {
  const secs = p.elapsedMs / 1000;
  const rate = secs > 0 ? p.totalBytes / secs : 0;
  const of =
    p.size !== undefined
      ? ` of ${bytes(p.size)} (${Math.min(100, Math.floor((p.bytes / Math.max(1, p.size)) * 100))}%)`
      : '';
  let eta = '';
  if (p.totalSize !== undefined && rate > 0 && secs >= 1) {
    const left = Math.max(0, Math.round((p.totalSize - p.totalBytes) / rate));
    eta = `, ETA ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  }
  return `ingest [${p.index + 1}/${p.inputs}] ${safe(p.input)}: ${bytes(p.bytes)}${of}, ${int(p.traces)} traces, ${(rate / 1e6).toFixed(1)} MB/s${eta}`;
}

/** The human summary printed after an ingest. */
export function renderSummary(s: IngestSummary): string {
  const lines: string[] = [];
  lines.push(
    `Ingested ${int(s.ingested)} of ${int(s.inputs)} input${s.inputs === 1 ? '' : 's'} (${bytes(s.bytes)} in ${(s.elapsedMs / 1000).toFixed(2)} s, ${s.mbPerSecond.toFixed(1)} MB/s)`,
  );
  lines.push(
    `  traces ${int(s.traces)} (${int(s.newTraces)} new), segments ${int(s.segments)} (${int(s.newSegments)} new, ${int(s.duplicateSegments)} already stored${s.replacedSegments > 0 ? `, ${int(s.replacedSegments)} complete replacing in-progress` : ''}${s.callOnlySpans > 0 ? `, ${int(s.callOnlySpans)} spans kept only as their calls` : ''}), AWS calls ${int(s.calls)} (${int(s.newCalls)} new)`,
  );
  if (s.trailEvents > 0)
    lines.push(
      `  CloudTrail records ${int(s.trailEvents)} (${int(s.newTrailEvents)} new, ${int(s.trailEvents - s.newTrailEvents)} already stored)`,
    );
  lines.push(`  workloads in the database: ${int(s.workloads)}`);
  if (s.problems > 0) {
    lines.push(
      `  ${int(s.problems)} problem${s.problems === 1 ? '' : 's'} in the data (kept going; see \`xray-lp sources\`):`,
    );
    const all = s.results.flatMap((r) => r.problems);
    for (const p of all.slice(0, 5)) lines.push(`    ${safe(p.path)}: ${safe(p.message)}`);
    if (all.length > 5) lines.push(`    … and ${int(all.length - 5)} more`);
  }
  if (s.fallbacks.calls > 0) {
    const w = s.fallbacks.workloads;
    lines.push(
      `  ${int(s.fallbacks.calls)} call${s.fallbacks.calls === 1 ? '' : 's'} of ${w.length === 1 ? 'a Lambda function' : `${int(w.length)} Lambda functions`} stored without the function's account (${w.slice(0, 3).map(safe).join(', ')}${w.length > 3 ? ', …' : ''}):`,
      "    their traces held no span naming it (the function's SERVER span). Ingest the rest of those traces and they move to the function's ARN.",
    );
  }
  if (s.rejected > 0)
    lines.push(`  ${int(s.rejected)} input${s.rejected === 1 ? '' : 's'} rejected (details on stderr)`);
  return `${lines.join('\n')}\n`;
}
