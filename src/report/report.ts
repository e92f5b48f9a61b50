/**
 * The offline review report: one self-contained HTML file for a reviewer who did not run the
 * tool. A header (database, recorded period, inputs with their sha256, versions, filters and
 * options), an overview of every workload with its completeness verdict (and, with granted
 * files, the compare verdict), and per workload its policy (exactly the document of
 * `policy --json`), the other formats, the evidence, the warnings, the comparison, and two
 * charts drawn here as SVG: activity, and permission discovery.
 *
 * Written as it is built, one workload at a time (the policies come from the same generator as
 * `policy`), so memory holds one workload whatever the size of the database. The overview,
 * known only at the end, is written last and shown first (CSS `order`), which needs no script.
 * Nothing in it loads anything: a Content-Security-Policy allows only its own inline style and
 * script (by hash), and every value from the data is escaped for its context (escape.ts).
 */
import { createHash } from 'node:crypto';
import { compareGranted, type WorkloadComparison } from '../compare/compare.js';
import type { GrantedInputs } from '../granted/granted.js';
import { originText } from '../granted/bind.js';
import { policies } from '../policy/build.js';
import { VERDICTS } from '../policy/completeness.js';
import { FORMAT_LABEL, POLICY_FORMATS, renderPolicy, type PolicyFormat } from '../policy/formats.js';
import type { PolicyOptions, WorkloadPolicy } from '../policy/types.js';
import { groupWarnings } from '../policy/warnings.js';
import { recordedPeriod } from '../query/calls.js';
import { describeFilter } from '../query/filters.js';
import { listSources } from '../query/stats.js';
import { listWorkloads, type WorkloadRow } from '../query/workloads.js';
import { DAY, HOUR, isoTime } from '../shared/time.js';
import { classWords, maxRisk, permissionRisk, riskClasses, riskRank, type RiskLevel } from '../iam/risk.js';
import type { Store } from '../store/db.js';
import { trailActivity } from '../store/trail.js';
import { readWorkloadActivity } from '../store/usage.js';
import { outcomeOfErrorCode } from '../shared/outcome.js';
import { attr, h, pre } from './escape.js';
import { activityChart, discoveryChart, type ActivityBucket } from './svg.js';
import { SCRIPT, STYLE } from './assets.js';

/** Options of {@link report}: the policy's own, granted files to compare with, and what the header says. */
export interface ReportOptions extends PolicyOptions {
  /** Compare each workload with what these files grant (`--granted`). */
  granted?: GrantedInputs;
  /** Shown in the header. */
  meta: {
    database: string;
    toolVersion: string;
    schemaVersion: number;
    /** The options that shaped the policies, as the user gave them. */
    options: string[];
    /** When the report is made (ISO 8601); tests pass a fixed one. */
    generatedAt: string;
  };
}

/** What a finished report holds (the CLI prints it). */
export interface ReportSummary {
  workloads: number;
  bytes: number;
  verdicts: Record<string, number>;
}

/** The report, as chunks of HTML in order, and a summary once they have all been taken. */
export interface ReportRun extends Iterable<string> {
  readonly summary: ReportSummary;
}

/** Observed resources listed per action before "and N more": the report stays readable and small. */
const OBSERVED_SHOWN = 5;
/** Ranges of at most this many days are drawn per hour. */
const HOURLY_DAYS = 3;

const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${sha(STYLE)}'`,
  `script-src 'sha256-${sha(SCRIPT)}'`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** What one sample of thin evidence is, in the words its sources call for. */
function thinEvidenceOf(rare: readonly { source: 'trace' | 'cloudtrail' }[]): string {
  const records = rare.some((r) => r.source === 'cloudtrail');
  const traces = rare.some((r) => r.source === 'trace');
  return records && traces ? 'trace or CloudTrail record' : records ? 'CloudTrail record' : 'trace';
}

function sha(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

const int = (n: number): string =>
  Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const when = (iso: string | null | undefined): string =>
  iso ? iso.replace(/\.\d+Z$/, 'Z').replace('T', ' ') : '';
const slug = (i: number): string => `w${i}`;

/** Builds the report: see {@link ReportRun}. */
export function report(store: Store, options: ReportOptions): ReportRun {
  const summary: ReportSummary = { workloads: 0, bytes: 0, verdicts: {} };
  return {
    summary,
    *[Symbol.iterator]() {
      const emit = (s: string): string => {
        summary.bytes += Buffer.byteLength(s);
        return s;
      };
      const f = options.filter;
      const period = recordedPeriod(store);
      const from =
        f.since !== undefined && period.first !== null ? Math.max(f.since, period.first) : period.first;
      const to = f.until !== undefined && period.last !== null ? Math.min(f.until, period.last) : period.last;
      const hourly = from !== null && to !== null && to - from <= HOURLY_DAYS * DAY;
      const unit = hourly ? HOUR : DAY;
      const activity = activityByWorkload(store, options, unit);
      const rows = new Map(
        listWorkloads(store, { filter: f, source: options.source }).map((w) => [w.key, w]),
      );
      const compared = options.granted
        ? new Map(
            compareGranted(store, {
              filter: f,
              granted: options.granted,
              source: options.source,
              readThread: options.readThread,
              // As the policies count them: a report granting the outside calls compares them as used.
              includeOutside: options.includeOutside === true,
            }).workloads.map((c) => [c.principal, c]),
          )
        : undefined;

      yield emit(head(store, options, from, to));
      // Riskiest first (the order of work), then in the policies' order: a stable sort.
      const overview: { risk: RiskLevel; row: string }[] = [];
      let i = 0;
      for (const p of policies(store, options)) {
        const id = slug(i++);
        const w = rows.get(p.principal) ?? [...rows.values()].find((r) => r.arn === p.principal);
        const c = compared?.get(p.principal);
        summary.workloads++;
        summary.verdicts[p.completeness.verdict] = (summary.verdicts[p.completeness.verdict] ?? 0) + 1;
        const risk = compared ? (c?.risk ?? 'none') : observedRisk(p);
        overview.push({ risk, row: overviewRow(id, p, w, c, compared !== undefined, risk) });
        // A role's activity is that of the functions that run as it; its chart spans its own
        // active period, not the database's (five days in a database of years is a hairline).
        let own = (p.members ?? [p.principal]).flatMap((k) => activity.get(k) ?? []);
        // A role known only from CloudTrail has no traced calls: its records are its activity.
        if (own.length === 0 && p.cloudtrail) own = trailBuckets(store, p.cloudtrail.role, options, unit);
        const starts = own.map((b) => b.start);
        const ownFrom = starts.length > 0 ? Math.min(...starts) : from;
        const ownTo = starts.length > 0 ? Math.max(...starts) : to;
        yield emit(section(id, p, w, c, buckets(own, ownFrom, ownTo, unit), unit));
      }
      overview.sort((a, b) => riskRank(b.risk) - riskRank(a.risk));
      yield emit(
        overviewSection(
          overview.map((o) => o.row),
          compared !== undefined,
          summary,
        ),
      );
      yield emit(`</main>\n<script>${SCRIPT}</script>\n</body>\n</html>\n`);
    },
  };
}

/** Calls per workload key and bucket, by outcome, from the one usage reader. */
function activityByWorkload(store: Store, o: ReportOptions, unit: number): Map<string, ActivityBucket[]> {
  const out = new Map<string, ActivityBucket[]>();
  for (const r of readWorkloadActivity(store, { filter: o.filter, source: o.source, unit })) {
    const list = out.get(r.workloadKey) ?? [];
    list.push({
      start: r.bucket * unit,
      calls: r.calls,
      denied: r.denied,
      errors: r.errors,
      faults: r.faults,
      throttles: r.throttles,
    });
    out.set(r.workloadKey, list);
  }
  return out;
}

/** A role's CloudTrail records per bucket, by outcome (`errorCode` read as traces read it). */
function trailBuckets(store: Store, role: string, o: ReportOptions, unit: number): ActivityBucket[] {
  const out = new Map<number, ActivityBucket>();
  for (const r of trailActivity(store, role, o.filter, unit)) {
    const b = out.get(r.bucket) ?? {
      start: r.bucket * unit,
      calls: 0,
      denied: 0,
      errors: 0,
      faults: 0,
      throttles: 0,
    };
    b.calls += r.records;
    const outcome = outcomeOfErrorCode(r.errorCode);
    if (outcome === 'denied') b.denied += r.records;
    else if (outcome === 'throttle') b.throttles += r.records;
    else if (outcome === 'error') b.errors += r.records;
    out.set(r.bucket, b);
  }
  return [...out.values()];
}

/** Every bucket of the report's range, empty ones included. */
function buckets(
  list: ActivityBucket[],
  from: number | null,
  to: number | null,
  unit: number,
): ActivityBucket[] {
  if (from === null || to === null) return list;
  const byStart = new Map<number, ActivityBucket>();
  for (const b of list) {
    const into = byStart.get(b.start);
    if (!into) byStart.set(b.start, { ...b });
    else for (const k of ['calls', 'denied', 'errors', 'faults', 'throttles'] as const) into[k] += b[k];
  }
  const out: ActivityBucket[] = [];
  for (let t = Math.floor(from / unit) * unit; t <= to; t += unit)
    out.push(byStart.get(t) ?? { start: t, calls: 0, denied: 0, errors: 0, faults: 0, throttles: 0 });
  return out;
}

function head(store: Store, o: ReportOptions, from: number | null, to: number | null): string {
  const sources = listSources(store);
  const inputs = sources
    .map(
      (s) =>
        `<tr><td class="path">${h(s.path)}</td><td>${h(s.shape ?? '')}</td><td class="num">${int(s.size)}</td><td class="num">${int(s.traces)}</td><td class="num">${int(s.calls)}</td><td>${h(when(s.ingestedAt))}</td><td class="hash">${h(s.sha256)}</td></tr>`,
    )
    .join('\n');
  const filters = describeFilter(o.filter);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${h(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="xray-lp ${h(o.meta.toolVersion)}">
<title>xray-lp review: least-privilege policies</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
<h1>Least-privilege review</h1>
<p class="lede">One IAM policy per workload, granting what its traces show it used, with the evidence and whether the traces are enough to trust it. Made offline by xray-lp from exported traces; this file loads nothing.</p>
<nav><a href="#overview">Overview</a> · <a href="#inputs">Inputs</a> · <a href="#about">How to read this</a></nav>
<dl class="facts">
<dt>Database</dt><dd>${h(o.meta.database)} (schema ${h(o.meta.schemaVersion)})</dd>
<dt>Recorded period</dt><dd>${from !== null && to !== null ? `${h(when(isoTime(from)))} … ${h(when(isoTime(to)))}` : 'no calls recorded'}</dd>
<dt>Filters</dt><dd>${h(filters || 'none: every call')}</dd>
<dt>Options</dt><dd>${h(o.meta.options.length > 0 ? o.meta.options.join(' ') : 'defaults')}</dd>
<dt>Made</dt><dd>${h(when(o.meta.generatedAt))} by xray-lp ${h(o.meta.toolVersion)}</dd>
</dl>
<details id="inputs"><summary>Inputs: ${int(sources.length)} ingest${sources.length === 1 ? '' : 's'}</summary>
<table class="inputs"><thead><tr><th>path</th><th>shape</th><th>bytes</th><th>traces</th><th>calls</th><th>ingested (UTC)</th><th>sha256</th></tr></thead>
<tbody>
${inputs}
</tbody></table></details>
<details id="about"><summary>How to read this</summary>
<p>Each policy grants exactly what was seen: every action on the resources the calls named. Warnings mark what needs a look: <b>resource-unknown</b> (the trace did not record the resource: a wildcard of the right type is granted), <b>denied</b> (the workload lacks it today), <b>unmapped</b> (calls no IAM action could be derived for), <b>incomplete</b> (the traces may not show everything).</p>
<p>The completeness verdict comes from the permission discovery curve: <b>settled</b> means no new permission in the last ${h(pct(o.completeness?.settledShare ?? 0.4))} of the observed period, with at least ${h(o.completeness?.minActiveDays ?? 3)} active days and ${h(o.completeness?.minTraces ?? 20)} traces; <b>still discovering</b> means a new one in the last ${h(pct(o.completeness?.recentShare ?? 0.1))}; <b>settling</b> is in between; <b>too little data</b> is below those minimums. X-Ray samples requests (by default one per second and 5% of the rest): a rarely used permission may be missing from X-Ray data. CloudWatch Transaction Search (<code>aws/spans</code>) keeps every span.</p>
<p>Every value from the traces is shown as text. Times are UTC.</p>
</details>
</header>
<main class="flow">
`;
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

function verdictBadge(v: string): string {
  const rank = (VERDICTS as readonly string[]).indexOf(v);
  return `<span class="verdict v${rank}">${h(v)}</span>`;
}

function overviewRow(
  id: string,
  p: WorkloadPolicy,
  w: WorkloadRow | undefined,
  c: WorkloadComparison | undefined,
  compare: boolean,
  risk: RiskLevel,
): string {
  const cell = (v: string | number, cls = ''): string =>
    `<td${cls ? ` class="${cls}"` : ''}>${typeof v === 'number' ? int(v) : h(v)}</td>`;
  const sortNum = (n: number): string => ` data-sort="${n}"`;
  return `<tr data-principal="${attr(p.principal)}" data-search="${h(`${p.name} ${p.principal} ${p.kind} ${p.account ?? ''} ${p.region ?? ''}`.toLowerCase())}">${cell(p.kind)}<td><a href="#${id}">${h(p.name)}</a></td>${cell(p.account ?? '', 'nowrap')}${cell(p.region ?? '', 'nowrap')}<td class="num"${sortNum(w?.calls ?? 0)}>${int(w?.calls ?? 0)}</td><td class="num"${sortNum(p.completeness.traces ?? 0)}>${p.completeness.traces === null ? 'unknown' : int(p.completeness.traces)}</td><td class="num"${sortNum(w?.distinctActions ?? 0)}>${int(w?.distinctActions ?? 0)}</td><td class="num"${sortNum(w?.denied ?? 0)}>${int(w?.denied ?? 0)}</td><td class="num"${sortNum(p.size)}>${int(p.size)}</td><td class="num"${sortNum(p.warnings.length)}>${int(p.warnings.length)}</td><td data-sort="${(VERDICTS as readonly string[]).indexOf(p.completeness.verdict)}">${verdictBadge(p.completeness.verdict)}</td><td data-sort="${riskRank(risk)}">${riskBadge(risk)}</td>${compare ? `<td class="verdict-cell">${c ? (c.passes ? '<span class="pass">passes</span>' : `<span class="fail" title="${h(c.headline)}">${int(c.used.granted)} of ${int(c.granted.actions)} used${c.missing.length > 0 ? `, ${int(c.missing.length)} missing` : ''}</span>`) : 'not matched'}</td>` : ''}</tr>`;
}

function overviewSection(rows: string[], compare: boolean, s: ReportSummary): string {
  const verdicts = VERDICTS.filter((v) => s.verdicts[v]).map(
    (v) => `${verdictBadge(v)} ${int(s.verdicts[v] ?? 0)}`,
  );
  return `<section id="overview" class="overview">
<h2>Overview: ${int(s.workloads)} workload${s.workloads === 1 ? '' : 's'}</h2>
<p class="verdicts">${verdicts.join(' · ')}</p>
<p class="order">Riskiest first: ${compare ? 'workloads whose unused grants are the most dangerous to keep' : 'workloads that use the most dangerous permissions'} (risk classes and levels: docs/risk.md). Click a column to sort by it.</p>
<p class="js-only"><label>Find a workload <input id="search" type="search" placeholder="name, ARN, account, region" autocomplete="off"></label> <span id="shown"></span>
<label>Show every policy also as <select id="format"><option value="">IAM JSON only</option>${(
    POLICY_FORMATS as readonly PolicyFormat[]
  )
    .filter((fm) => fm !== 'iam')
    .map((fm) => `<option value="${fm}">${h(FORMAT_LABEL[fm])}</option>`)
    .join('')}</select></label></p>
<div class="scroll"><table id="overview-table" class="sortable">
<thead><tr><th>kind</th><th>workload</th><th>account</th><th>region</th><th>calls</th><th>traces</th><th>actions</th><th>denied</th><th>policy size</th><th>warnings</th><th>completeness</th><th title="${compare ? 'the highest risk of its unused grants' : 'the highest risk of the permissions it was seen to use'} (docs/risk.md)">${compare ? 'riskiest unused grant' : 'riskiest permission'}</th>${compare ? '<th>compared with granted</th>' : ''}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>
</section>
`;
}

function section(
  id: string,
  p: WorkloadPolicy,
  w: WorkloadRow | undefined,
  c: WorkloadComparison | undefined,
  activity: ActivityBucket[],
  unit: number,
): string {
  const comp = p.completeness;
  // The warnings are listed once, below; as comment lines in each of the four templates they
  // were 40% of the report at 1,000 workloads (docs/performance.md).
  const bare: WorkloadPolicy = { ...p, warnings: [] };
  const formats = (POLICY_FORMATS as readonly PolicyFormat[])
    .filter((fm) => fm !== 'iam')
    .map(
      (fm) =>
        `<details class="format" data-format="${fm}"><summary>${h(FORMAT_LABEL[fm])}</summary><pre>${pre(renderPolicy(bare, fm))}</pre></details>`,
    )
    .join('\n');
  const parts =
    p.documents.length > 1
      ? `<p>Split into ${p.documents.length} policies (--max-size); the first is above, all are here:</p>${p.documents
          .map(
            (d, k) =>
              `<pre class="policy-part" data-part="${k + 1}">${pre(JSON.stringify(d, null, 2))}</pre>`,
          )
          .join('\n')}`
      : '';
  const warnings =
    p.warnings.length > 0
      ? `<h3>Warnings (${p.warnings.length})</h3><ul class="warnings">${groupWarnings(p.warnings)
          .map(
            (g) =>
              `<li><span class="code">${h(g.code)}</span> ${h(g.text)}${g.permissions.length > 0 ? `<ul>${g.permissions.map((x) => `<li>${h(x)}</li>`).join('')}</ul>` : ''}</li>`,
          )
          .join('')}</ul>`
      : '<h3>Warnings</h3><p>None.</p>';
  // Compact markup (HTML lets a cell and a row end where the next begins): at 1,000 workloads the
  // evidence is a large part of the file. A statement's id spans its actions.
  const observedEvidence = p.evidence
    .map((st) => ({ ...st, actions: st.actions.filter((a) => a.origin === 'observed') }))
    .filter((st) => st.actions.length > 0);
  // Run-time needs apart: no call shows them; each says why and where the fact comes from.
  const needs = p.evidence.flatMap((st) =>
    st.actions
      .filter((a) => a.origin !== 'observed')
      .flatMap((a) =>
        (a.runtime ?? []).map(
          (r) =>
            `<tr><td>${h(st.sid)}<td class=action>${h(a.action)}<td>${h(a.origin)}<td><span class=arn>${h(r.resource)}</span><td>${h(r.why)}<td class=url>${h(r.source)}`,
        ),
      ),
  );
  const runtimeTable =
    needs.length > 0
      ? `<details class="evidence"><summary>Run-time needs: ${int(needs.length)} permissions no trace shows</summary>
<div class="scroll"><table><thead><tr><th>statement</th><th>action</th><th>origin</th><th>resource</th><th>why</th><th>source</th></tr></thead>
<tbody>
${needs.join('\n')}
</tbody></table></div></details>`
      : '';
  const evidence = observedEvidence
    .map((st) =>
      st.actions
        .map((a, k) => {
          const shown = a.observed
            .slice(0, OBSERVED_SHOWN)
            .map((o) => `<span class=arn>${h(o.resource)}</span> <span class=n>${int(o.calls)}</span>`);
          // The evidence keeps a sample of the resources and counts them all.
          if (a.resourcesObserved > shown.length)
            shown.push(
              `<span class=more>and ${int(a.resourcesObserved - shown.length)} more resources</span>`,
            );
          const sid = k === 0 ? `<td rowspan=${st.actions.length}>${h(st.sid)}` : '';
          return `<tr>${sid}<td class=action>${h(a.action)}<td class=num>${int(a.calls)}<td class=num>${int(a.denied)}<td>${h(when(a.firstSeen))}<td>${h(when(a.lastSeen))}<td class=ids>${a.sampleTraceIds.map(h).join('<br>')}<td>${shown.join('<br>')}`;
        })
        .join('\n'),
    )
    .join('\n');
  const rare =
    comp.rare.length > 0
      ? `<p>${int(comp.rareCount)} permission${comp.rareCount === 1 ? '' : 's'} seen in a single ${thinEvidenceOf(comp.rare)} (real but thin evidence):</p><ul class="rare">${comp.rare.map((r) => `<li><span class="action">${h(r.action)}</span> on <span class="arn">${h(r.resource)}</span> (${r.source === 'cloudtrail' ? 'CloudTrail event' : 'trace'} ${h(r.traceId)})</li>`).join('')}${comp.rareCount > comp.rare.length ? `<li class="more">and ${int(comp.rareCount - comp.rare.length)} more</li>` : ''}</ul>`
      : '';
  const trail = trailPart(p);
  const formatsSeen = w?.formats.length
    ? w.formats.map((x) => (x === 'x-ray' ? 'X-Ray (sampled)' : 'OpenTelemetry')).join(' and ')
    : p.cloudtrail
      ? 'CloudTrail only'
      : 'unknown';
  return `<section class="workload" id="${id}" data-principal="${attr(p.principal)}">
<h2><span class="kind">${h(p.kind)}</span> ${h(p.name)} ${verdictBadge(comp.verdict)}</h2>
<p class="key"><span class="arn">${h(p.principal)}</span>${p.account ? ` · account ${h(p.account)}` : ''}${p.region ? ` · ${h(p.region)}` : ''} · traced by ${h(formatsSeen)}${p.members ? ` · functions: ${p.members.map((m) => `<span class="arn">${h(m)}</span>`).join(', ')}` : ''}</p>
<div class="cols">
<div>
<h3>Activity</h3>
${activityChart(activity, unit, `Calls of ${p.name} per ${unit === DAY ? 'day' : 'hour'}`)}
<p class=legend><i class=c-ok></i>succeeded <i class=c-throttle></i>throttled <i class=c-error></i>errors <i class=c-fault></i>faults <i class=c-denied></i>denied</p>
</div>
<div>
<h3>Is the data enough? ${verdictBadge(comp.verdict)}</h3>
<p>${h(comp.reason.charAt(0).toUpperCase() + comp.reason.slice(1))}.</p>
<p>${comp.traces === null ? 'unknown' : int(comp.traces)} traces${comp.cloudtrailRecords !== undefined ? ` and ${int(comp.cloudtrailRecords)} CloudTrail record${comp.cloudtrailRecords === 1 ? '' : 's'}` : ''} on ${comp.activeDays === null ? 'unknown' : int(comp.activeDays)} active day${comp.activeDays === 1 ? '' : 's'}, ${h(when(comp.firstCall))} … ${h(when(comp.lastCall))}; ${int(comp.permissions)} permissions, the last new one ${h(when(comp.lastNewPermission))}.${comp.sampled ? ' All of it is X-Ray data, which is sampled.' : ''}</p>
${discoveryChart(comp.discovery, comp.firstCall, comp.lastCall, `Permissions of ${p.name} discovered over time`)}
${rare}
</div>
</div>
<h3>Policy <button class="copy js-only" type="button" data-copy="${id}">Copy</button></h3>
<pre class="policy" id="${id}-policy">${highlightPolicy(JSON.stringify(p.document, null, 2))}</pre>
${parts}
<div class="formats">${formats}</div>
${trail.outside}
${warnings}
${c ? comparison(c) : ''}
<details class="evidence"><summary>Evidence: ${int(observedEvidence.reduce((n, st) => n + st.actions.length, 0))} actions observed</summary>
<div class="scroll"><table><thead><tr><th>statement</th><th>action</th><th>calls</th><th>denied</th><th>first seen (UTC)</th><th>last seen (UTC)</th><th>sample traces</th><th>resources as observed</th></tr></thead>
<tbody>
${evidence}
</tbody></table></div></details>
${runtimeTable}
${trail.folded}
</section>
`;
}

/**
 * A role's CloudTrail part: the calls made with its credentials from outside the workload in
 * plain view (they may be an intruder's), and, folded, which source saw each permission and the
 * calls AWS services made on the workload's behalf. Empty strings where the policy holds no
 * CloudTrail evidence.
 */
function trailPart(p: WorkloadPolicy): { outside: string; folded: string } {
  const ct = p.cloudtrail;
  if (!ct) return { outside: '', folded: '' };
  const outsideCalls = ct.outside.reduce((n, o) => n + o.calls, 0);
  const outside =
    ct.outside.length > 0
      ? `<div class="outside"><h3>Credentials used outside the workload: ${int(outsideCalls)} call${outsideCalls === 1 ? '' : 's'} from ${int(ct.outside.length)} place${ct.outside.length === 1 ? '' : 's'}</h3>
<p>CloudTrail shows calls made with <span class="arn">${h(ct.role)}</span> that neither the workload's code nor an AWS service on its behalf made: leaked credentials, or a person using them. ${ct.outsideGranted ? '<b>They are granted (--include-outside).</b>' : '<b>They are not granted.</b> Check who holds these credentials; pass --include-outside only if the calls are yours.'}</p>
<div class="scroll"><table><thead><tr><th>source IP</th><th>user agent</th><th>why not the workload</th><th>actions</th><th>calls</th><th>first (UTC)</th><th>last (UTC)</th><th>events</th></tr></thead>
<tbody>
${ct.outside
  .map(
    (o) =>
      `<tr><td class=nowrap>${h(o.sourceIp ?? 'unknown')}<td class=ua>${h(o.userAgent ?? '(none)')}<td>${h(o.reason)}<td class=action>${o.actions.map(h).join('<br>')}<td class=num>${int(o.calls)}<td>${h(when(o.firstSeen))}<td>${h(when(o.lastSeen))}<td class=ids>${o.eventIds.map(h).join('<br>')}`,
  )
  .join('\n')}
</tbody></table></div></div>`
      : '';
  const seen = p.evidence.flatMap((st) =>
    st.actions
      .filter((a) => a.sources !== undefined)
      .map(
        (a) =>
          `<tr><td class=action>${h(a.action)}<td>${h((a.sources ?? []).map((x) => (x === 'cloudtrail' ? 'CloudTrail' : 'traces')).join(' and '))}<td class=num>${int(a.calls)}`,
      ),
  );
  const behalf = ct.onBehalf.map(
    (b) =>
      `<tr><td class=action>${h(b.action)}<td><span class=arn>${h(b.resource)}</span><td class=num>${int(b.calls)}`,
  );
  const folded = `<details class="evidence cloudtrail"><summary>CloudTrail: ${int(ct.events)} record${ct.events === 1 ? '' : 's'} of ${h(ct.role.split('/').pop() ?? ct.role)} (${int(ct.managementEvents)} management, ${int(ct.dataEvents)} data events)${ct.outside.length > 0 ? `, ${int(outsideCalls)} from outside the workload` : ''}</summary>
<p>Role <span class="arn">${h(ct.role)}</span>${ct.sessions.length > 0 ? `; sessions: ${ct.sessions.map(h).join(', ')}` : ''}.</p>
<h4>Which source saw each permission</h4>
<div class="scroll"><table><thead><tr><th>action</th><th>seen by</th><th>calls</th></tr></thead>
<tbody>
${seen.join('\n')}
</tbody></table></div>
<h4>Calls AWS services made on the workload's behalf: ${int(behalf.length)}</h4>
${
  behalf.length > 0
    ? `<div class="scroll"><table><thead><tr><th>action</th><th>resource</th><th>calls</th></tr></thead>
<tbody>
${behalf.join('\n')}
</tbody></table></div>`
    : '<p>None.</p>'
}
</details>`;
  return { outside, folded };
}

function comparison(c: WorkloadComparison): string {
  const list = (title: string, items: string[]): string =>
    items.length > 0
      ? `<h4>${h(title)} (${items.length})</h4><ul>${items.map((x) => `<li>${x}</li>`).join('')}</ul>`
      : '';
  return `<h3>Compared with what it is granted ${c.passes ? '<span class="pass">passes</span>' : '<span class="fail">does not pass</span>'}</h3>
<p>Role ${h(c.role.name)} (${h(c.role.matchedBy)}${c.role.origin ? `, defined at ${h(originText(c.role.origin))}` : ''}): ${h(c.headline)}.</p>
${list(
  'Granted, never used: remove',
  c.unused
    .filter((u) => u.unused.length > 0)
    .map(
      (u) =>
        `${riskBadge(u.risk)} ${h(u.policy)} statement ${h(u.sid ?? u.statement)}${u.origin ? ` at ${h(originText(u.origin))}` : ''}: <span class="action">${h(u.action)}</span> on <span class="arn">${h(u.resource)}</span>: ${h(u.unused.slice(0, 12).join(', '))}${u.unused.length > 12 ? ` and ${int(u.unused.length - 12)} more` : ''}${
          u.risky.length > 0
            ? `<br><span class="risky-why">risky: ${u.risky
                .slice(0, 6)
                .map((r) => `${h(r.action)} (${h(r.classes.map(classWords).join(', '))}, ${h(r.level)})`)
                .join('; ')}${u.riskyCount > 6 ? ` and ${int(u.riskyCount - 6)} more` : ''}</span>`
            : ''
        }`,
    ),
)}
${list(
  'Run-time needs: keep (no call shows them; the services that run the workload use them)',
  c.runtimeNeeds
    .filter((n) => n.granted || !n.possible)
    .map(
      (n) =>
        `<span class="action">${h(n.action)}</span> on <span class="arn">${h(n.resource)}</span>: ${n.granted ? 'granted' : '<span class="fail">not granted</span>'}, ${n.possible ? 'possibly ' : ''}needed because ${h(n.why)} (${h(n.source)})`,
    ),
)}
${list(
  'Used, not granted: add',
  c.missing.map(
    (m) =>
      `<span class="action">${h(m.action)}</span> on <span class="arn">${h(m.resource)}</span> (${int(m.calls)} call${m.calls === 1 ? '' : 's'}, ${int(m.denied)} denied; ${m.reason === 'denied-explicit' ? 'explicitly denied' : 'not granted'}${m.runtimeNeed ? '; a run-time need, above' : ''})`,
  ),
)}
${list(
  'Granted only under a condition',
  c.conditional.map(
    (m) => `<span class="action">${h(m.action)}</span> on <span class="arn">${h(m.resource)}</span>`,
  ),
)}
${list(
  'Resource not recorded: cannot be checked',
  c.unverifiable.map(
    (m) => `<span class="action">${h(m.action)}</span> on <span class="arn">${h(m.resource)}</span>`,
  ),
)}
${list(
  'Granted, yet denied when called',
  c.deniedAtRuntime.map(
    (m) =>
      `<span class="action">${h(m.action)}</span> on <span class="arn">${h(m.resource)}</span> (${int(m.denied)} denied)`,
  ),
)}
${list(
  'Notes',
  c.notes.map((n) => h(n)),
)}`;
}

/** A risk level as a badge (`none` stays quiet). */
function riskBadge(level: RiskLevel): string {
  return `<span class="risk r${riskRank(level)}">${h(level)}</span>`;
}

/**
 * The highest risk among the permissions a policy grants for what its workload was seen to use
 * (its run-time needs are left out: every function has them).
 */
function observedRisk(p: WorkloadPolicy): RiskLevel {
  const observed = new Map(
    p.evidence.map((st) => [
      st.sid,
      new Set(st.actions.filter((a) => a.origin === 'observed').map((a) => a.action)),
    ]),
  );
  let level: RiskLevel = 'none';
  for (const doc of p.documents)
    for (const st of doc.Statement) {
      const actions = observed.get(st.Sid);
      if (!actions) continue;
      for (const a of st.Action) {
        if (!actions.has(a)) continue;
        for (const r of st.Resource) level = maxRisk(level, permissionRisk(a, r).level);
      }
    }
  return level;
}

/** A JSON string literal, escapes included. */
const STRING_LITERAL = /"(?:[^"\\]|\\.)*"/g;
/** An action or action pattern (`iam:PassRole`, `s3:Get*`). */
const ACTION = /^[a-z0-9-]+:[A-Za-z0-9*?]+$/;

/**
 * A policy's JSON text for a `<pre>`, its wildcards and risky actions marked (`<mark>`): only
 * elements are added around string literals, so the text (what Copy copies, `textContent`) is the
 * JSON exactly. A literal with `*` or `?` is a wildcard; an action with a risk class other than
 * infrastructure modification (every write has that one) is risky.
 */
export function highlightPolicy(json: string): string {
  let out = '';
  let last = 0;
  for (const m of json.matchAll(STRING_LITERAL)) {
    const at = m.index ?? 0;
    const literal = m[0];
    out += pre(json.slice(last, at));
    last = at + literal.length;
    const value = literal.slice(1, -1);
    const classes = ACTION.test(value)
      ? riskClasses(value).filter((c) => c !== 'infrastructure-modification')
      : [];
    if (/[*?]/.test(value)) out += `<mark class="wild" title="wildcard">${pre(literal)}</mark>`;
    else if (classes.length > 0)
      out += `<mark class="risky" title="${h(`risky: ${classes.map(classWords).join(', ')}`)}">${pre(literal)}</mark>`;
    else out += pre(literal);
  }
  return out + pre(json.slice(last));
}
