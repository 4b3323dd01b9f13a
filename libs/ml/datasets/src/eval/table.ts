import type { EvalResult } from './evaluate';

/** Metric columns of `formatTable` unless others are asked for. */
export const DEFAULT_TABLE_METRICS = ['HR@10', 'NDCG@10', 'HR@20', 'NDCG@20', 'MRR', 'Recall@20', 'Precision@10', 'F1@10'];

/**
 * An aligned plain-text table of result rows: dataset, split, protocol, model, cases, the metric
 * columns (4 decimals; '-' when a row lacks the metric), the training time when recorded and the
 * evaluation time, in seconds.
 */
export function formatTable(rows: readonly EvalResult[], metrics: readonly string[] = DEFAULT_TABLE_METRICS): string {
  const header = ['dataset', 'split', 'protocol', 'model', 'users', ...metrics, 'fit s', 'eval s'];
  const body = rows.map((r) => [
    r.dataset,
    r.split,
    r.protocol === 'sampled' ? `sampled-${r.negatives ?? '?'}` : 'full',
    r.model,
    String(r.users),
    ...metrics.map((m) => (r.metrics[m] === undefined ? '-' : r.metrics[m]!.toFixed(4))),
    r.fitMs === undefined ? '-' : (r.fitMs / 1000).toFixed(2),
    (r.timing.totalMs / 1000).toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const numeric = header.map((_, i) => i >= 4);
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
