/**
 * The report's own style and script, inlined (the page loads nothing; its Content-Security-Policy
 * allows exactly these two, by hash). The page is complete without the script, which only adds
 * search, sortable columns, copy buttons and one switch for the policy format of every workload.
 * The script reads and writes text only (`textContent`), never markup.
 */

export const STYLE = `
:root { --fg:#1b1f24; --muted:#57606a; --line:#d0d7de; --bg:#fff; --soft:#f6f8fa; --accent:#0b5cad;
  --ok:#8fb8de; --throttle:#f2b705; --error:#e07b00; --fault:#8e44ad; --denied:#c62828;
  --v0:#1a7f37; --v1:#7d6608; --v2:#b35900; --v3:#a40e26; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif; color: var(--fg); background: var(--bg); }
header.top, main.flow { max-width: 1200px; margin: 0 auto; padding: 0 20px; }
header.top { padding-top: 20px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 0 0 6px; overflow-wrap: anywhere; }
h3 { font-size: 1.05rem; margin: 18px 0 6px; }
h4 { font-size: .95rem; margin: 12px 0 4px; }
.lede { color: var(--muted); margin: 0 0 8px; }
nav a, a { color: var(--accent); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 12px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
details > summary { cursor: pointer; color: var(--accent); margin: 6px 0; }
main.flow { display: flex; flex-direction: column; padding-bottom: 40px; }
section { border-top: 1px solid var(--line); padding: 18px 0 8px; }
section.overview { order: -1; }
/* A thousand workloads: the browser lays out only the sections on screen. */
section.workload { content-visibility: auto; contain-intrinsic-size: auto 1400px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); position: sticky; top: 0; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.path, td.hash, .arn, .key, td.ids { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .82rem; overflow-wrap: anywhere; word-break: break-all; }
td.hash { color: var(--muted); }
/* Long statement ids, actions and URLs wrap rather than widen the evidence tables past 1280 px. */
details.evidence td { overflow-wrap: anywhere; }
td.url { overflow-wrap: anywhere; word-break: break-all; min-width: 12rem; font-size: .82rem; }
/* The overview fits 1280 px: headers and the compare verdict wrap instead of widening the table. */
#overview-table { font-size: .85rem; }
#overview-table th, #overview-table td { padding: 4px 5px; }
#overview-table th { white-space: normal; }
#overview-table td.nowrap { white-space: nowrap; }
#overview-table td:nth-child(2) { overflow-wrap: anywhere; min-width: 8rem; }
.order { color: var(--muted); font-size: .85rem; margin: 0 0 8px; }
.risk { display: inline-block; border-radius: 10px; padding: 0 7px; font-size: .78rem; font-weight: 600; white-space: nowrap; border: 1px solid var(--line); }
.risk.r0 { color: var(--muted); font-weight: normal; } .risk.r1 { background: #fff8c5; } .risk.r2 { background: #ffd8a8; }
.risk.r3 { background: #c62828; color: #fff; border-color: #c62828; } .risk.r4 { background: #6e0b14; color: #fff; border-color: #6e0b14; }
.risky-why { color: var(--muted); font-size: .85rem; }
pre.policy mark { color: inherit; border-radius: 3px; padding: 0 1px; }
pre.policy mark.wild { background: #fff1b8; outline: 1px solid #d4a72c; }
pre.policy mark.risky { background: #ffd7d5; outline: 1px solid #c62828; }
.action, .code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .85rem; }
.code { background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; margin-right: 4px; }
.key { color: var(--muted); margin: 0 0 8px; }
.kind { color: var(--muted); font-weight: normal; font-size: .95rem; text-transform: uppercase; letter-spacing: .03em; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow: auto; max-height: 32rem; font-size: .82rem; line-height: 1.4; white-space: pre-wrap; overflow-wrap: anywhere; }
.verdict { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: .78rem; font-weight: 600; color: #fff; vertical-align: middle; white-space: nowrap; }
.verdict.v0 { background: var(--v0); } .verdict.v1 { background: var(--v1); } .verdict.v2 { background: var(--v2); } .verdict.v3 { background: var(--v3); }
.pass { color: var(--v0); font-weight: 600; } .fail { color: var(--v3); font-weight: 600; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
@media (max-width: 900px) { .cols { grid-template-columns: 1fr; } }
svg.chart { width: 100%; height: auto; max-width: 640px; display: block; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .tick, svg.chart .axis { font-size: 11px; fill: var(--muted); font-family: system-ui, sans-serif; }
svg.chart .axis { font-size: 12px; }
.c-ok { fill: var(--ok); } .c-throttle { fill: var(--throttle); } .c-error { fill: var(--error); } .c-fault { fill: var(--fault); } .c-denied { fill: var(--denied); }
.c-step { fill: none; stroke: var(--accent); stroke-width: 2; } .c-line { fill: var(--accent); }
svg.chart .hit { fill: transparent; } svg.chart .hit:hover { fill: rgba(0,0,0,.06); }
.legend { font-size: .8rem; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; margin: 0 3px 0 10px; border-radius: 2px; }
.legend i.c-ok { background: var(--ok); } .legend i.c-throttle { background: var(--throttle); } .legend i.c-error { background: var(--error); } .legend i.c-fault { background: var(--fault); } .legend i.c-denied { background: var(--denied); }
ul { margin: 4px 0; padding-left: 20px; }
ul.ids, ul.observed { list-style: none; padding: 0; margin: 0; }
ul.observed .n { color: var(--muted); }
ul.warnings li { margin: 4px 0; }
.outside { border: 2px solid var(--v3); border-radius: 6px; padding: 4px 12px 8px; margin: 12px 0; }
.outside h3 { color: var(--v3); margin-top: 6px; }
td.ua { word-break: break-all; min-width: 12rem; }
h4 { font-size: .95rem; margin: 12px 0 4px; }
.more { color: var(--muted); font-style: italic; }
.verdicts { margin: 0 0 8px; }
.js-only { display: none; }
.js .js-only { display: revert; }
button.copy { font-size: .8rem; margin-left: 8px; }
input[type=search] { font: inherit; padding: 3px 8px; min-width: 18rem; }
.hidden { display: none; }
th.sortable-col { cursor: pointer; }
th.sortable-col::after { content: " \\2195"; color: var(--muted); font-size: .8em; }
@media print { .js-only, button { display: none !important; } pre { max-height: none; } details > * { display: block; } }
`;

export const SCRIPT = `
(function () {
  'use strict';
  var doc = document;
  doc.documentElement.classList.add('js');
  var search = doc.getElementById('search');
  var shown = doc.getElementById('shown');
  var rows = Array.prototype.slice.call(doc.querySelectorAll('#overview-table tbody tr'));
  function filter() {
    var q = search ? search.value.trim().toLowerCase() : '';
    var n = 0;
    rows.forEach(function (row) {
      var hit = !q || (row.getAttribute('data-search') || '').indexOf(q) !== -1;
      row.classList.toggle('hidden', !hit);
      var id = row.querySelector('a') ? row.querySelector('a').getAttribute('href').slice(1) : null;
      var sec = id ? doc.getElementById(id) : null;
      if (sec) sec.classList.toggle('hidden', !hit);
      if (hit) n++;
    });
    if (shown) shown.textContent = q ? n + ' of ' + rows.length + ' shown' : '';
  }
  if (search) search.addEventListener('input', filter);
  var table = doc.getElementById('overview-table');
  if (table) {
    var heads = table.querySelectorAll('thead th');
    Array.prototype.forEach.call(heads, function (th, col) {
      th.classList.add('sortable-col');
      th.setAttribute('tabindex', '0');
      th.setAttribute('aria-sort', 'none');
      var dir = 1;
      function sort() {
        var body = table.tBodies[0];
        var list = Array.prototype.slice.call(body.rows);
        list.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          var xs = x.getAttribute('data-sort'), ys = y.getAttribute('data-sort');
          var c = xs !== null && ys !== null ? Number(xs) - Number(ys) : x.textContent.localeCompare(y.textContent);
          return c * dir;
        });
        list.forEach(function (r) { body.appendChild(r); });
        Array.prototype.forEach.call(heads, function (h) { h.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        dir = -dir;
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    });
  }
  Array.prototype.forEach.call(doc.querySelectorAll('button.copy'), function (b) {
    b.addEventListener('click', function () {
      var pre = doc.getElementById(b.getAttribute('data-copy') + '-policy');
      if (!pre || !navigator.clipboard) return;
      navigator.clipboard.writeText(pre.textContent).then(function () {
        b.textContent = 'Copied';
        setTimeout(function () { b.textContent = 'Copy'; }, 1500);
      }, function () { b.textContent = 'Copy failed'; });
    });
  });
  var pick = doc.getElementById('format');
  if (pick) pick.addEventListener('change', function () {
    Array.prototype.forEach.call(doc.querySelectorAll('details.format'), function (d) {
      d.open = d.getAttribute('data-format') === pick.value;
    });
  });
  filter();
})();
`;
