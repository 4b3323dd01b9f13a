/**
 * A small full-ranking evaluator for this library's own tests and benchmarks (HR@k, NDCG@k, MRR
 * with the user's seen items masked). The project's evaluator is `evaluate` in `@seqrec/datasets`;
 * use that for reported numbers.
 */
import type { EvalCase, Recommender } from '@seqrec/datasets';

export interface LocalMetrics {
  cases: number;
  hr: number;
  ndcg: number;
  mrr: number;
  k: number;
}

export async function evaluateLocal(
  model: Pick<Recommender, 'scoreBatch'>,
  cases: readonly EvalCase[],
  opts: { k?: number; batchSize?: number; maskSeen?: boolean } = {},
): Promise<LocalMetrics> {
  const k = opts.k ?? 10;
  const batchSize = opts.batchSize ?? 256;
  const maskSeen = opts.maskSeen ?? true;
  let hr = 0;
  let ndcg = 0;
  let mrr = 0;
  for (let i = 0; i < cases.length; i += batchSize) {
    const chunk = cases.slice(i, i + batchSize);
    const scores = await model.scoreBatch(
      chunk.map((c) => c.history),
      chunk.every((c) => c.historyTypes) ? chunk.map((c) => c.historyTypes!) : undefined,
    );
    const width = scores.length / chunk.length;
    chunk.forEach((c, j) => {
      const row = scores.subarray(j * width, (j + 1) * width);
      const seen = new Set<number>(maskSeen ? c.history : []);
      seen.delete(c.target);
      const t = row[c.target]!;
      let rank = 1;
      for (let it = 1; it < width; it++) if (it !== c.target && !seen.has(it) && row[it]! > t) rank++;
      if (rank <= k) {
        hr++;
        ndcg += 1 / Math.log2(rank + 1);
      }
      mrr += 1 / rank;
    });
  }
  const n = Math.max(1, cases.length);
  return { cases: cases.length, hr: hr / n, ndcg: ndcg / n, mrr: mrr / n, k };
}
