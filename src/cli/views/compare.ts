/** What `compare` prints (also `demo`): the table, and the Markdown of a pull request. */
import type { StatementRef } from '../../iam/evaluate.js';
import { classWords, riskRank, type RiskLevel } from '../../iam/risk.js';
import { type CompareResult, type UnusedGrant, type WorkloadComparison } from '../../compare/compare.js';
import { originText } from '../../granted/bind.js';
import { int, safeText, shorten, table } from '../render.js';

/** How many concrete actions a line shows before "+N more". */
const SHOW = 8;

/** Nothing was selected: no workload compared, none left unmatched. */
export const isEmpty = (r: CompareResult): boolean =>
  r.workloads.length === 0 && r.unmatchedWorkloads.length === 0;

const refText = (r: StatementRef): string => `${r.policy} #${r.index + 1}${r.sid ? ` (${r.sid})` : ''}`;

function list(actions: string[]): string {
  return actions.length <= SHOW
    ? actions.join(', ')
    : `${actions.slice(0, SHOW).join(', ')} (+${actions.length - SHOW} more)`;
}

/**
 * `[risk high: privilege escalation iam:PassRole]`: the risk of an unused grant and what makes it
 * so (its riskiest actions, at most 3); empty for `none`.
 */
function riskLabel(u: UnusedGrant): string {
  if (u.risk === 'none') return '';
  const top = u.risky.filter((r) => r.level === u.risk);
  const classes = [...new Set(top.flatMap((r) => r.classes.slice(0, 1)))].map(classWords).join(', ');
  const names = top.slice(0, 3).map((r) => r.action);
  const more = u.riskyCount - names.length;
  return `[risk ${u.risk}: ${classes}: ${names.join(', ')}${more > 0 ? ` +${more} risky` : ''}] `;
}

/** One line per unused grant: the pattern pair, where it is, and what it grants unused. */
function unusedLine(u: UnusedGrant): string {
  const where = `${u.policy} #${u.statement}${u.sid ? ` (${u.sid})` : ''}${u.conditional ? ', conditional' : ''}${u.origin ? ` at ${originText(u.origin)}` : ''}`;
  const head =
    riskLabel(u) +
    (u.used.length === 0 && u.runtime.length === 0
      ? `${u.action} on ${u.resource} [${where}]: never used: remove the statement pair (${u.granted} action${u.granted === 1 ? '' : 's'})`
      : `${u.action} on ${u.resource} [${where}]: ${u.unused.length + u.allowedUnused.length} of ${u.granted} actions unused: ${list(u.unused)}`);
  const used = u.used.length > 0 ? `\n      used: ${list(u.used)} on ${u.usedResources.join(', ')}` : '';
  const allowed = u.allowedUnused.length > 0 ? `\n      allowed unused: ${list(u.allowedUnused)}` : '';
  const runtime = u.runtime.length > 0 ? `\n      run-time needs (keep): ${list(u.runtime)}` : '';
  return head + used + allowed + runtime;
}

/**
 * Pairs of one statement and resource that were never used at all read as one line
 * ("dynamodb:Query, dynamodb:Scan on table/orders"); partly used pairs keep their own line.
 */
function groupIdle(unused: UnusedGrant[]): (string | UnusedGrant)[] {
  // Riskiest first (a group ranks as its riskiest pair); equal risks keep the policies' order.
  const out: { risk: RiskLevel; line: string | UnusedGrant }[] = [];
  const idle = new Map<string, UnusedGrant[]>();
  for (const u of unused) {
    if (u.used.length > 0 || u.allowedUnused.length > 0 || u.runtime.length > 0) {
      out.push({ risk: u.risk, line: u });
      continue;
    }
    const key = `${u.policy}\u0000${u.statement}\u0000${u.resource}`;
    idle.set(key, [...(idle.get(key) ?? []), u]);
  }
  for (const group of idle.values()) {
    const u = group[0] as UnusedGrant;
    const actions = group.flatMap((g) =>
      /[*?]/.test(g.action) || g.action.startsWith('NotAction')
        ? [`${g.action} (${g.granted} actions)`]
        : [g.action],
    );
    // The group's riskiest pair speaks for it (the list is sorted by risk: it is the first).
    out.push({
      risk: u.risk,
      line: `${riskLabel(u)}${actions.join(', ')} on ${u.resource} [${u.policy} #${u.statement}${u.sid ? ` (${u.sid})` : ''}${u.conditional ? ', conditional' : ''}${u.origin ? ` at ${originText(u.origin)}` : ''}]: never used`,
    });
  }
  return out.sort((a, b) => riskRank(b.risk) - riskRank(a.risk)).map((x) => x.line);
}

/** The summary table (fitted to `width` when given), then a section per workload. */
export function renderTable(r: CompareResult, width: number | undefined): string {
  let out = '';
  if (r.workloads.length > 0) {
    out += `${table(
      // To fit the terminal: workload and role are shortened, then conditional, granted, used,
      // role, unused grants and missing are hidden in that order; workload and check stay.
      [
        { header: 'workload', minWidth: 20 },
        { header: 'role', minWidth: 20, drop: 4 },
        { header: 'granted', align: 'right', drop: 2 },
        { header: 'used', align: 'right', drop: 3 },
        { header: 'unused grants', align: 'right', drop: 5 },
        { header: 'risk', drop: 7 },
        { header: 'missing', align: 'right', drop: 6 },
        { header: 'conditional', align: 'right', drop: 1 },
        { header: 'check' },
      ],
      r.workloads.map((w) => [
        width === undefined ? w.name : shorten(w.name, 30),
        width === undefined ? w.role.name : shorten(w.role.name, 30),
        int(w.granted.actions),
        int(w.used.actions),
        int(w.unused.reduce((n, u) => n + u.unused.length, 0)),
        w.risk,
        int(w.missing.length),
        int(w.conditional.length),
        w.passes ? 'ok' : 'FAIL',
      ]),
      width,
    )}\n`;
  }
  for (const w of r.workloads) out += safeText(section(w));
  out += safeText(trailer(r));
  return out;
}

function section(w: WorkloadComparison): string {
  const lines = [
    '',
    `${w.name} (${w.kind}) as ${w.role.arn ?? w.role.name}: ${w.headline}${w.missing.length > 0 ? `, ${w.missing.length} missing` : ''}`,
  ];
  if (w.role.origin) lines.push(`  Role defined at ${originText(w.role.origin)}`);
  const remove = w.unused.filter((u) => u.unused.length > 0);
  if (remove.length > 0) {
    lines.push('  Remove (granted, never used):');
    for (const g of groupIdle(remove)) lines.push(`    ${typeof g === 'string' ? g : unusedLine(g)}`);
  }
  const allowedOnly = w.unused.filter((u) => u.unused.length === 0 && u.allowedUnused.length > 0);
  const runtime = runtimeLines(w);
  if (runtime.length > 0) {
    lines.push('  Run-time needs (no call shows them; the services that run the workload use them):');
    for (const l of runtime) lines.push(`    ${l}`);
  }
  if (allowedOnly.length > 0)
    lines.push(
      `  Unused but allowed by --allow-unused: ${allowedOnly.map((u) => `${u.action} on ${u.resource}`).join('; ')}`,
    );
  if (w.missing.length > 0) {
    lines.push(
      `  Missing (used, not granted${w.role.origin ? `; add to ${originText(w.role.origin)}` : ''}):`,
    );
    for (const m of w.missing)
      lines.push(
        `    ${m.action} on ${m.resource}: ${m.reason === 'denied-explicit' ? `explicitly denied by ${m.deniedBy.map(refText).join(', ')}` : 'not granted'} (${int(m.calls)} call${m.calls === 1 ? '' : 's'}${m.denied > 0 ? `, ${int(m.denied)} denied` : ''}${m.runtimeNeed ? '; the run-time need above' : ''})`,
      );
  }
  if (w.conditional.length > 0) {
    lines.push('  Conditional (allowed only if a condition holds; not evaluated):');
    for (const c of w.conditional)
      lines.push(`    ${c.action} on ${c.resource}: ${c.statements.map(refText).join(', ')}`);
  }
  if (w.unverifiable.length > 0) {
    lines.push('  Unverifiable (resource not recorded; granted on some resources only):');
    for (const c of w.unverifiable)
      lines.push(`    ${c.action} on ${c.resource}: ${c.statements.map(refText).join(', ')}`);
  }
  if (w.deniedAtRuntime.length > 0) {
    lines.push('  Denied when called, though granted here:');
    for (const d of w.deniedAtRuntime)
      lines.push(`    ${d.action} on ${d.resource} (${int(d.denied)} denied)`);
  }
  if (remove.length === 0 && w.missing.length === 0) lines.push('  Nothing to remove or add.');
  for (const n of w.notes) lines.push(`  Note: ${n}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The workload's run-time needs, one line per rule and resource: granted by which pairs, or
 * missing; the possible ones (not knowable from the inputs) only where granted.
 */
function runtimeLines(w: WorkloadComparison): string[] {
  const groups = new Map<
    string,
    { actions: string[]; granted: boolean; n: WorkloadComparison['runtimeNeeds'][number] }
  >();
  for (const n of w.runtimeNeeds) {
    if (n.possible && !n.granted) continue;
    // The reason is part of the line: needs of one action and resource for different reasons (a
    // key used through S3 and through SNS) are lines of their own, each naming the action once.
    const key = `${n.rule}\u0000${n.resource}\u0000${n.granted}\u0000${n.why}`;
    const g = groups.get(key) ?? { actions: [], granted: n.granted, n };
    if (!g.actions.includes(n.action)) g.actions.push(n.action);
    groups.set(key, g);
  }
  return [...groups.values()].map(
    (g) =>
      `${g.actions.join(', ')} on ${g.n.resource}: ${g.granted ? 'granted' : 'NOT GRANTED'}, ${g.n.possible ? 'possibly ' : ''}needed because ${g.n.why} (${g.n.source})`,
  );
}

function trailer(r: CompareResult): string {
  const lines: string[] = [];
  if (r.unmatchedWorkloads.length > 0) {
    lines.push('', 'Not compared (no role matched):');
    for (const u of r.unmatchedWorkloads) lines.push(`  ${u.name} (${u.kind}): ${u.reason}`);
  }
  if (r.unmatchedRoles.length > 0) {
    lines.push(
      '',
      `Roles in the files that no selected workload runs as: ${r.unmatchedRoles
        .slice(0, 10)
        .map((x) => x.name)
        .join(
          ', ',
        )}${r.unmatchedRoles.length > 10 ? `, … ${r.unmatchedRoles.length - 10} more (see --json)` : ''}`,
    );
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** Markdown for review tickets: pipes and backticks in data are escaped. */
export function renderMarkdown(r: CompareResult): string {
  const md = (s: string): string => s.replace(/[|`\\*_<>]/g, (c) => `\\${c}`);
  const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;
  const out: string[] = ['# Granted vs used permissions', ''];
  if (r.workloads.length > 0) {
    out.push('| workload | role | granted | used | unused grants | risk | missing | conditional | check |');
    out.push('|---|---|--:|--:|--:|---|--:|--:|---|');
    for (const w of r.workloads)
      out.push(
        `| ${md(w.name)} | ${md(w.role.name)} | ${w.granted.actions} | ${w.used.actions} | ${w.unused.reduce((n, u) => n + u.unused.length, 0)} | ${w.risk} | ${w.missing.length} | ${w.conditional.length} | ${w.passes ? 'ok' : '**FAIL**'} |`,
      );
  }
  for (const w of r.workloads) {
    out.push(
      '',
      `## ${md(w.name)} (${md(w.kind)})`,
      '',
      `Role ${code(w.role.arn ?? w.role.name)} ${md(w.headline)}.${w.role.origin ? ` Defined at ${code(originText(w.role.origin))}.` : ''}`,
    );
    const remove = w.unused.filter((u) => u.unused.length > 0);
    if (remove.length > 0) {
      out.push(
        '',
        '### Remove (granted, never used)',
        '',
        '| risk | action | resource | statement | unused | used on |',
        '|---|---|---|---|---|---|',
      );
      for (const u of remove)
        out.push(
          `| ${u.risk === 'none' ? 'none' : md(riskLabel(u).slice(1, -2))} | ${code(u.action)} | ${code(u.resource)} | ${md(`${u.policy} #${u.statement}${u.sid ? ` (${u.sid})` : ''}${u.origin ? ` at ${originText(u.origin)}` : ''}`)} | ${u.unused.length} of ${u.granted}: ${md(list(u.unused))} | ${u.used.length > 0 ? md(`${list(u.used)} on ${u.usedResources.join(', ')}`) : 'never used'} |`,
        );
    }
    const runtime = runtimeLines(w);
    if (runtime.length > 0) {
      out.push('', '### Run-time needs (no call shows them; never remove)', '');
      for (const l of runtime) out.push(`- ${md(l)}`);
    }
    if (w.missing.length > 0) {
      out.push(
        '',
        '### Missing (used, not granted)',
        '',
        '| action | resource | calls | denied | why |',
        '|---|---|--:|--:|---|',
      );
      for (const m of w.missing)
        out.push(
          `| ${code(m.action)} | ${code(m.resource)} | ${m.calls} | ${m.denied} | ${m.reason === 'denied-explicit' ? md(`denied by ${m.deniedBy.map(refText).join(', ')}`) : 'not granted'}${m.runtimeNeed ? '; a run-time need (above)' : ''} |`,
        );
    }
    if (w.conditional.length > 0) {
      out.push('', '### Conditional (condition not evaluated)', '');
      for (const c of w.conditional)
        out.push(`- ${code(c.action)} on ${code(c.resource)}: ${md(c.statements.map(refText).join(', '))}`);
    }
    if (w.unverifiable.length > 0) {
      out.push('', '### Unverifiable (resource not recorded)', '');
      for (const c of w.unverifiable)
        out.push(`- ${code(c.action)} on ${code(c.resource)}: ${md(c.statements.map(refText).join(', '))}`);
    }
    for (const n of w.notes) out.push('', `> ${md(n)}`);
  }
  if (r.unmatchedWorkloads.length > 0) {
    out.push('', '## Not compared', '');
    for (const u of r.unmatchedWorkloads) out.push(`- ${md(u.name)} (${md(u.kind)}): ${md(u.reason)}`);
  }
  if (r.unmatchedRoles.length > 0) {
    out.push('', '## Roles no selected workload runs as', '');
    for (const x of r.unmatchedRoles) out.push(`- ${code(x.arn)}`);
  }
  return `${out.join('\n')}\n`;
}
