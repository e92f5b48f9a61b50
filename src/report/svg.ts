/**
 * The report's charts, drawn here as inline SVG (no chart library at run time): calls per day or
 * hour with the denied, error, fault and throttled calls stacked in their own colours, and the
 * permission discovery curve. Each has axis labels in UTC, a `<title>` and a `<desc>` that say
 * in words what it shows, and colours that also differ in lightness. Only numbers and dates
 * (made here) reach the SVG; every text passes through {@link h}. With `role="img"`, the
 * `<title>` names a chart and the `<desc>` describes it for assistive technology.
 */
import { h } from './escape.js';

/** Calls in one bucket, by outcome. */
export interface ActivityBucket {
  /** Epoch seconds of the bucket's start. */
  start: number;
  calls: number;
  denied: number;
  errors: number;
  faults: number;
  throttles: number;
}

const W = 640;
const H = 170;
const PAD = { left: 48, right: 12, top: 12, bottom: 34 };
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;

/** Outcome layers, bottom up; `ok` is what is left of the calls. */
const LAYERS = [
  { key: 'denied', label: 'denied', cls: 'c-denied' },
  { key: 'faults', label: 'faults (5xx)', cls: 'c-fault' },
  { key: 'errors', label: 'errors (4xx)', cls: 'c-error' },
  { key: 'throttles', label: 'throttled', cls: 'c-throttle' },
] as const;

/** A coordinate: one decimal at most, none when it is whole (the markup is most of the file). */
const num = (v: number): string => String(Math.round(v * 10) / 10);

const day = (t: number): string => new Date(t * 1000).toISOString().slice(0, 10);
const hour = (t: number): string => `${new Date(t * 1000).toISOString().slice(0, 13)}:00`;

/** Round, readable maximum for a y axis. */
function niceMax(n: number): number {
  if (n <= 5) return Math.max(1, n);
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

function yAxis(max: number, label: string): string {
  // Counts are whole numbers: no half-way tick that would not be one.
  const ticks = Number.isInteger(max / 2) ? [0, max / 2, max] : [0, max];
  return [
    ...ticks.map((v) => {
      const y = PAD.top + PLOT_H - (v / max) * PLOT_H;
      return `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${num(y)}" y2="${num(y)}"/><text class="tick" x="${PAD.left - 6}" y="${num(y + 4)}" text-anchor="end">${h(Number.isInteger(v) ? v : v.toFixed(1))}</text>`;
    }),
    `<text class="axis" x="12" y="${PAD.top + PLOT_H / 2}" transform="rotate(-90 12 ${PAD.top + PLOT_H / 2})" text-anchor="middle">${h(label)}</text>`,
  ].join('');
}

/**
 * Calls per bucket (`unit` seconds: a day or an hour), every bucket of the range drawn, empty
 * ones too (an idle stretch is information).
 */
export function activityChart(buckets: readonly ActivityBucket[], unit: number, title: string): string {
  if (buckets.length === 0) return '';
  const n = buckets.length;
  const max = niceMax(Math.max(...buckets.map((b) => b.calls)));
  const bw = PLOT_W / n;
  const fmt = unit >= 86_400 ? day : hour;
  const total = buckets.reduce((a, b) => a + b.calls, 0);
  const peak = buckets.reduce((a, b) => (b.calls > a.calls ? b : a));
  const sums = Object.fromEntries(LAYERS.map((l) => [l.key, buckets.reduce((a, b) => a + b[l.key], 0)]));
  const desc = `${total} calls from ${fmt(buckets[0]!.start)} to ${fmt(buckets[n - 1]!.start)} (UTC), at most ${peak.calls} on ${fmt(peak.start)}; ${LAYERS.map((l) => `${sums[l.key]} ${l.label}`).join(', ')}.`;
  // One path per outcome layer (a rectangle per bucket): a fraction of the markup of an element
  // per layer and bucket, which at 1,000 workloads was most of the report. The numbers are in the
  // text alternative and the evidence.
  const paths = new Map<string, string>();
  buckets.forEach((b, i) => {
    const x = PAD.left + (i * PLOT_W) / n + 0.5;
    const w = num(Math.max(1, bw - 1));
    let y = PAD.top + PLOT_H;
    const ok = Math.max(0, b.calls - b.denied - b.faults - b.errors - b.throttles);
    for (const [cls, v] of [...LAYERS.map((l) => [l.cls, b[l.key]] as const), ['c-ok', ok] as const]) {
      if (v <= 0) continue;
      const hgt = Math.max(0.5, (v / max) * PLOT_H);
      y -= hgt;
      paths.set(cls, `${paths.get(cls) ?? ''}M${num(x)} ${num(y)}h${w}v${num(hgt)}h-${w}z`);
    }
  });
  const bars = [...LAYERS.map((l) => l.cls), 'c-ok']
    .map((cls) => (paths.has(cls) ? `<path class="${cls}" d="${paths.get(cls)}"/>` : ''))
    .join('');
  // Full dates (the year too: a database may hold years): at most 6 day labels, 4 hour labels.
  const every = Math.max(1, Math.ceil(n / (unit >= 86_400 ? 6 : 4)));
  const labels = buckets
    .map((b, i) =>
      i % every === 0
        ? `<text class="tick" x="${num(PAD.left + (i + 0.5) * bw)}" y="${H - PAD.bottom + 14}" text-anchor="middle">${h(fmt(b.start))}</text>`
        : '',
    )
    .join('');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img"><title>${h(title)}</title><desc>${h(desc)}</desc>${yAxis(max, 'calls')}${bars}${labels}<text class="axis" x="${PAD.left + PLOT_W / 2}" y="${H - 4}" text-anchor="middle">${h(unit >= 86_400 ? 'UTC day (YYYY-MM-DD)' : 'UTC hour (YYYY-MM-DDTHH:00)')}</text></svg>`;
}

/** The cumulative count of distinct permissions over the observed period, as a step line. */
export function discoveryChart(
  points: readonly { at: string; permissions: number }[],
  first: string | null,
  last: string | null,
  title: string,
): string {
  if (points.length === 0 || first === null || last === null) return '';
  const t0 = Date.parse(first) / 1000;
  const t1 = Math.max(Date.parse(last) / 1000, t0 + 1);
  const max = niceMax(points[points.length - 1]!.permissions);
  const x = (t: number): number => PAD.left + ((t - t0) / (t1 - t0)) * PLOT_W;
  const y = (v: number): number => PAD.top + PLOT_H - (v / max) * PLOT_H;
  let d = `M${num(x(t0))},${num(y(0))}`;
  for (const p of points) {
    const px = x(Date.parse(p.at) / 1000);
    d += ` H${num(px)} V${num(y(p.permissions))}`;
  }
  d += ` H${num(x(t1))}`;
  const lastPoint = points[points.length - 1]!;
  const desc = `${lastPoint.permissions} permissions in all; the last new one on ${lastPoint.at.slice(0, 16).replace('T', ' ')} UTC; observed ${first.slice(0, 10)} to ${last.slice(0, 10)} (UTC).`;
  // The last new permission, marked: the point the verdict is about.
  const dots = `<circle class="c-line" cx="${num(x(Date.parse(lastPoint.at) / 1000))}" cy="${num(y(lastPoint.permissions))}" r="3"><title>${h(`${lastPoint.at.slice(0, 16).replace('T', ' ')} UTC: ${lastPoint.permissions} permissions`)}</title></circle>`;
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img"><title>${h(title)}</title><desc>${h(desc)}</desc>${yAxis(max, 'permissions')}<path class="c-step" d="${d}"/>${dots}<text class="tick" x="${PAD.left}" y="${H - PAD.bottom + 14}">${h(first.slice(0, 10))}</text><text class="tick" x="${W - PAD.right}" y="${H - PAD.bottom + 14}" text-anchor="end">${h(last.slice(0, 10))}</text><text class="axis" x="${PAD.left + PLOT_W / 2}" y="${H - 4}" text-anchor="middle">observed period (UTC)</text></svg>`;
}
