import type { BenchRow } from '../suite';
import { isOurs, type BenchReport } from './bench-report';
import { formatRate } from './format';

/**
 * An SVG of the run, hand-written (no charting dependency): one panel per (suite, case). A case
 * measured at several concurrencies is a line chart of ops/s against acquisitions in flight,
 * one line per contender; a case measured at one concurrency is a bar chart.
 */
const W = 470;
const H = 290;
const PAD = { left: 64, right: 16, top: 40, bottom: 104 };
/** Width of the contender labels left of the bars. */
const LABEL_W = 250;
const COLUMNS = 2;
const OUR_COLORS = ['#1f5fbf', '#2e9e5b', '#7b3fbf', '#0b8fa8'];
const PEER_COLORS = ['#d9731a', '#b8323c', '#8a6d3b', '#6b6b6b', '#c2417f'];

/** The number a panel plots, and its unit. */
interface Metric {
  readonly value: (r: BenchRow) => number;
  readonly unit: string;
}

const OPS: Metric = { value: (r) => r.opsPerSec, unit: '/s' };

export function renderChart(report: BenchReport): string {
  const rows = report.suites.flatMap((s) => s.rows).filter((r) => r.opsPerSec > 0);
  const color = palette(rows);
  const metricOf = new Map(
    report.suites.map((s): [string, Metric] => {
      const extra = s.compareBy?.extra;
      return [
        s.name,
        extra ? { value: (r) => Number(r.extra?.[extra] ?? 0), unit: ` ${extra}` } : OPS,
      ];
    }),
  );
  const panels = [...groupBy(rows, (r) => `${r.suite}\u0000${r.case}`).values()].map((group) => {
    const metric = metricOf.get(group[0].suite) ?? OPS;
    const lines = new Set(group.map((r) => r.concurrency)).size > 1 && metric === OPS;
    return lines
      ? { body: linePanel(group, color), height: H }
      : { body: barPanel(group, color, metric), height: PAD.top + group.length * 28 + 24 };
  });
  // Panels sit in a grid of COLUMNS; each grid row is as tall as its tallest panel.
  const svgPanels: string[] = [];
  let y = 36;
  for (let i = 0; i < panels.length; i += COLUMNS) {
    const row = panels.slice(i, i + COLUMNS);
    row.forEach((p, j) => svgPanels.push(`<g transform="translate(${j * W},${y})">${p.body}</g>`));
    y += Math.max(...row.map((p) => p.height));
  }
  const height = y;
  const m = report.machine;
  const title =
    `rate-sync benchmarks — ${esc(m.cpuModel)}, ${m.cores} cores, Node.js ${m.node}, ` +
    `${report.startedAt.slice(0, 10)}, median of ${report.options.rounds} round(s)`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W * COLUMNS}" height="${height}" viewBox="0 0 ${W * COLUMNS} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="14" font-weight="bold">${title}</text>`,
    ...svgPanels,
    '</svg>',
    '',
  ].join('\n');
}

function linePanel(rows: BenchRow[], color: (c: string) => string): string {
  const xs = [...new Set(rows.map((r) => r.concurrency))].sort((a, b) => a - b);
  const max = niceMax(Math.max(...rows.map((r) => r.opsPerSec)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const px = (c: number): number =>
    PAD.left + (xs.length === 1 ? plotW / 2 : (xs.indexOf(c) / (xs.length - 1)) * plotW);
  const py = (v: number): number => PAD.top + plotH - (v / max) * plotH;
  const out = [panelTitle(rows[0]), axes(max, py, plotW)];
  for (const c of xs) {
    out.push(`<text x="${px(c)}" y="${PAD.top + plotH + 14}" text-anchor="middle">${c}</text>`);
  }
  out.push(
    `<text x="${PAD.left + plotW / 2}" y="${PAD.top + plotH + 28}" text-anchor="middle" fill="#555">in flight</text>`,
  );
  const lines = groupBy(rows, (r) => r.contender);
  for (const [who, series] of lines) {
    const pts = series
      .sort((a, b) => a.concurrency - b.concurrency)
      .map((r) => `${px(r.concurrency)},${py(r.opsPerSec)}`);
    const dash = isOurs(series[0]) ? '' : ' stroke-dasharray="5,3"';
    out.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${color(who)}" stroke-width="2"${dash}/>`,
    );
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color(who)}"/>`);
    }
  }
  out.push(legend([...lines.keys()], color, PAD.top + plotH + 40));
  return out.join('');
}

function barPanel(rows: BenchRow[], color: (c: string) => string, metric: Metric): string {
  const max = niceMax(Math.max(...rows.map(metric.value)));
  const plotW = W - LABEL_W - 12 - 90;
  const barH = 22;
  const note = metric === OPS ? `${rows[0].concurrency} in flight` : metric.unit.trim();
  const out = [panelTitle(rows[0], note)];
  rows.forEach((r, i) => {
    const y = PAD.top + i * (barH + 6);
    const w = Math.max(1, (metric.value(r) / max) * plotW);
    out.push(
      `<text x="${LABEL_W + 6}" y="${y + barH / 2 + 4}" text-anchor="end">${esc(shorten(r.contender, 46))}</text>`,
      `<rect x="${LABEL_W + 12}" y="${y}" width="${w}" height="${barH}" fill="${color(r.contender)}"/>`,
      `<text x="${LABEL_W + 16 + w}" y="${y + barH / 2 + 4}">${formatRate(metric.value(r))}${esc(metric.unit)}</text>`,
    );
  });
  return out.join('');
}

function panelTitle(row: BenchRow, note?: string): string {
  const text = `${row.suite}: ${row.case}${note ? ` (${note})` : ''}`;
  return `<text x="12" y="20" font-weight="bold">${esc(shorten(text, 72))}</text>`;
}

function axes(max: number, py: (v: number) => number, plotW: number): string {
  const out: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    const y = py(v);
    out.push(
      `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`,
      `<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end">${formatRate(v)}</text>`,
    );
  }
  out.push(`<text x="14" y="${PAD.top - 10}" fill="#555">ops/s</text>`);
  return out.join('');
}

function legend(names: string[], color: (c: string) => string, y: number): string {
  return names
    .map((name, i) => {
      const yy = y + i * 15;
      return `<rect x="12" y="${yy - 8}" width="10" height="10" fill="${color(name)}"/><text x="26" y="${yy + 1}">${esc(shorten(name, 70))}</text>`;
    })
    .join('');
}

/** Stable colours: ours in blues and greens, peers in warm colours, same name same colour in every panel. */
function palette(rows: BenchRow[]): (contender: string) => string {
  const map = new Map<string, string>();
  let ours = 0;
  let peers = 0;
  for (const r of rows) {
    if (map.has(r.contender)) continue;
    map.set(
      r.contender,
      isOurs(r)
        ? OUR_COLORS[ours++ % OUR_COLORS.length]
        : PEER_COLORS[peers++ % PEER_COLORS.length],
    );
  }
  return (c) => map.get(c) ?? '#999';
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const mag = 10 ** Math.floor(Math.log10(v));
  const step = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((s) => s * mag >= v) ?? 10;
  return step * mag;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    map.set(k, [...(map.get(k) ?? []), item]);
  }
  return map;
}

function shorten(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
