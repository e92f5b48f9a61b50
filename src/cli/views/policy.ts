/** What `policy` prints (also `demo`): a policy's IAM document, the summary table, warning counts. */
import { type PolicyRun } from '../../policy/build.js';
import { FORMAT_LABEL, POLICY_FORMATS, type PolicyFormat } from '../../policy/formats.js';
import type { PolicyWarning, WorkloadPolicy } from '../../policy/types.js';
import { warningLines } from '../../policy/warnings.js';
import { safeJson } from '../output.js';
import { int, safe, safeText, shorten, table } from '../render.js';

/** The summary row of one policy, kept after the policy itself is gone. */
export interface SummaryRow {
  kind: string;
  name: string;
  statements: number;
  actions: number;
  size: number;
  warnings: number;
  completeness: string;
  /** Permissions replayed through the evaluator against the final documents (all allowed). */
  replayed: number;
}

/** The summary row of one policy. */
export function summaryOf(p: WorkloadPolicy): SummaryRow {
  return {
    kind: p.kind,
    name: p.name,
    statements: p.documents.reduce((a, d) => a + d.Statement.length, 0),
    actions: p.documents.reduce((a, d) => a + d.Statement.reduce((b, s) => b + s.Action.length, 0), 0),
    size: p.size,
    warnings: p.warnings.length,
    completeness: p.completeness.verdict,
    replayed: p.replay.allowed,
  };
}

/** What the `iam` format writes for a policy: its document, or the array of its parts. */
export function documentOf(p: WorkloadPolicy): unknown {
  return p.documents.length === 1 ? p.document : p.documents;
}

/** One member of the `iam` object of several policies: `"principal": document`. */
export function keyedDocument(p: WorkloadPolicy): string {
  return `  ${safeJson(p.principal)}: ${safeJson(documentOf(p)).replace(/\n/g, '\n  ')}`;
}

/** One policy as `demo` shows it: a header, the document(s), the warnings (one line per kind). */
export function renderIamPolicy(p: WorkloadPolicy): string {
  let out = `\n# ${safe(p.kind)} ${safe(p.principal)}\n`;
  out += safeText(p.documents.map((d) => JSON.stringify(d, null, 2)).join('\n')) + '\n';
  for (const l of warningLines(p.warnings)) out += `#   ${safe(l)}\n`;
  return out;
}

/**
 * The table of every policy printed (fitted to `width` when given: the workload is shortened,
 * then size, kind, statements, actions and warnings are hidden in that order), and the role notes.
 */
export function renderSummary(
  rows: SummaryRow[],
  run: Pick<PolicyRun, 'sharedRoles' | 'unmatched'>,
  width?: number,
  formats: readonly PolicyFormat[] = POLICY_FORMATS,
): string {
  let out = `${table(
    [
      { header: 'kind', drop: 2 },
      { header: 'workload', minWidth: 20 },
      { header: 'statements', align: 'right', drop: 3 },
      { header: 'actions', align: 'right', drop: 4 },
      { header: 'size', align: 'right', drop: 1 },
      { header: 'warnings', align: 'right', drop: 5 },
      { header: 'completeness', drop: 6 },
    ],
    rows.map((r) => [
      r.kind,
      width === undefined ? r.name : shorten(r.name, 40),
      int(r.statements),
      int(r.actions),
      int(r.size),
      int(r.warnings),
      r.completeness,
    ]),
    width,
  )}\n`;
  const replayed = rows.reduce((n, r) => n + r.replayed, 0);
  out += `Replayed through the evaluator against the final documents and ${formats.length === 1 ? 'its' : 'each'} format read back (${formats.map((f) => FORMAT_LABEL[f]).join(', ')}): all ${int(replayed)} permission${replayed === 1 ? '' : 's'} allowed\n`;
  for (const s of run.sharedRoles)
    out += `\nRole ${safe(s.role)} is shared by: ${s.functions.map(safe).join(', ')}\n`;
  if (run.unmatched.length > 0)
    out += `\nNot in the roles file (own policy each): ${run.unmatched.map(safe).join(', ')}\n`;
  return out;
}

/** `3 warnings (denied 1, resource-unknown 2)`: a policy's warnings counted by kind. */
export function warningCount(warnings: readonly PolicyWarning[]): string {
  const byCode = new Map<string, number>();
  for (const w of warnings) byCode.set(w.code, (byCode.get(w.code) ?? 0) + 1);
  const kinds = [...byCode.entries()].map(([c, k]) => `${c} ${k}`).join(', ');
  return `${warnings.length} warning${warnings.length === 1 ? '' : 's'} (${kinds})`;
}
