/**
 * The training report written beside each artifact (`report.html`): one self-contained page with
 * the loss curve (per epoch and per progress tick) and the validation NDCG@10 curve as inline SVG,
 * the metrics table, the configuration, the backend and the timings. No scripts, no external files.
 */
import type { EvalResult } from '@seqrec/datasets';

export interface Curve {
  label: string;
  points: Array<[number, number]>;
  color: string;
}

export interface ReportInput {
  title: string;
  model: string;
  version: string;
  dataset: string;
  backend: string;
  data: string;
  rows: readonly EvalResult[];
  /** Loss per epoch and per progress tick (x in epochs, fractional for ticks). */
  loss: Array<[number, number]>;
  epochLoss: Array<[number, number]>;
  /** Validation NDCG@10 per epoch. */
  validNdcg: Array<[number, number]>;
  config: Record<string, unknown>;
  timings: Record<string, number>;
  promotion: Record<string, unknown>;
  notes?: string[];
}

const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4));

/** A line chart as an SVG element; empty curves are skipped, a chart with no points says so. */
export function lineChart(title: string, curves: readonly Curve[], xLabel: string, width = 560, height = 260): string {
  const pts = curves.flatMap((c) => c.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">`;
  const titleEl = `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`;
  if (pts.length === 0) {
    return `${head}${titleEl}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="12" fill="#888">no data</text></svg>`;
  }
  const m = { l: 60, r: 16, t: 28, b: 40 };
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.05, y1 + Math.abs(y1 || 1) * 0.05];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (width - m.l - m.r);
  const sy = (y: number) => height - m.b - ((y - y0) / (y1 - y0)) * (height - m.t - m.b);
  const ticks = (a: number, b: number) => Array.from({ length: 5 }, (_, i) => a + ((b - a) * i) / 4);
  const grid = [
    ...ticks(y0, y1).map(
      (y) =>
        `<line x1="${m.l}" x2="${width - m.r}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="#eee"/>` +
        `<text x="${m.l - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end" font-size="10">${fmt(y)}</text>`,
    ),
    ...ticks(x0, x1).map(
      (x) => `<text x="${sx(x).toFixed(1)}" y="${height - m.b + 14}" text-anchor="middle" font-size="10">${fmt(x)}</text>`,
    ),
    `<line x1="${m.l}" x2="${width - m.r}" y1="${height - m.b}" y2="${height - m.b}" stroke="#444"/>`,
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${height - m.b}" stroke="#444"/>`,
    `<text x="${(m.l + width - m.r) / 2}" y="${height - 8}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`,
  ];
  const lines = curves
    .filter((c) => c.points.length > 0)
    .map((c, i) => {
      const d = c.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
      const dots = c.points.length <= 60 ? c.points.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${c.color}"/>`).join('') : '';
      const legend = `<text x="${width - m.r - 4}" y="${m.t + 12 + i * 14}" text-anchor="end" font-size="11" fill="${c.color}">${esc(c.label)}</text>`;
      return `<path d="${d}" fill="none" stroke="${c.color}" stroke-width="1.5"/>${dots}${legend}`;
    });
  return `${head}${titleEl}${grid.join('')}${lines.join('')}</svg>`;
}

const METRIC_COLUMNS = ['HR@10', 'NDCG@10', 'HR@20', 'NDCG@20', 'MRR', 'Recall@20', 'Precision@10', 'F1@10'];

function metricsTable(rows: readonly EvalResult[]): string {
  const head = ['dataset', 'split', 'protocol', 'model', 'users', ...METRIC_COLUMNS].map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr><td>${esc(r.dataset)}</td><td>${esc(r.split)}</td><td>${r.protocol === 'sampled' ? `sampled-${r.negatives ?? '?'}` : 'full'}</td>` +
        `<td>${esc(r.model)}</td><td class="n">${r.users}</td>` +
        METRIC_COLUMNS.map((m) => `<td class="n">${r.metrics[m] === undefined ? '-' : r.metrics[m]!.toFixed(4)}</td>`).join('') +
        '</tr>',
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function kvTable(obj: Record<string, unknown>): string {
  return `<table>${Object.entries(obj)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'object' && v !== null ? JSON.stringify(v) : v)}</td></tr>`)
    .join('')}</table>`;
}

/** The whole report page. */
export function renderReport(r: ReportInput): string {
  const lossChart = lineChart(
    'Training loss',
    [
      { label: 'running mean in epoch', points: r.loss, color: '#9bb7d4' },
      { label: 'epoch mean', points: r.epochLoss, color: '#1f5fa8' },
    ],
    'epoch',
  );
  const validChart = lineChart('Validation NDCG@10 (full ranking)', [{ label: 'NDCG@10', points: r.validNdcg, color: '#c0392b' }], 'epoch');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.charts{display:flex;flex-wrap:wrap;gap:16px}
</style></head><body>
<h1>${esc(r.title)}</h1>
<p>model <b>${esc(r.model)}</b>, version <b>${esc(r.version)}</b>, dataset <b>${esc(r.dataset)}</b>, backend <b>${esc(r.backend)}</b>, data <code>${esc(r.data)}</code></p>
<div class="charts">${lossChart}${validChart}</div>
<h2>Metrics</h2>
${metricsTable(r.rows)}
<h2>Promotion</h2>
${kvTable(r.promotion)}
<h2>Configuration</h2>
${kvTable(r.config)}
<h2>Timings (seconds)</h2>
${kvTable(Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, v.toFixed(2)])))}
${r.notes && r.notes.length > 0 ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}

/**
 * The printed metrics table: `formatTable`'s columns plus the backend (from `params.backend`), so
 * every printed row names dataset, split, protocol, model and backend.
 */
export function formatResultTable(rows: readonly EvalResult[], metrics: readonly string[] = METRIC_COLUMNS): string {
  const header = ['dataset', 'split', 'protocol', 'model', 'backend', 'users', ...metrics, 'fit s', 'eval s'];
  const body = rows.map((r) => [
    r.dataset,
    r.split,
    r.protocol === 'sampled' ? `sampled-${r.negatives ?? '?'}` : 'full',
    r.model,
    String(r.params?.['backend'] ?? '-'),
    String(r.users),
    ...metrics.map((m) => (r.metrics[m] === undefined ? '-' : r.metrics[m]!.toFixed(4))),
    r.fitMs === undefined ? '-' : (r.fitMs / 1000).toFixed(2),
    (r.timing.totalMs / 1000).toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
