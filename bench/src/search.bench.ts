/**
 * npm run bench:search — search re-ranking: does blending the shopper's personal score with the
 * search engine's order put the item then viewed higher than either alone? (issue 19 part 6)
 *
 * Protocol: the generator's stream (its searches are "<category>" or "<term> <category>"; items
 * carry terms; the item viewed after a search matches it, and is often one of the next items of the
 * item viewed before — the generator's own model, Catalogue.sampleForSearch). The first
 * BENCH_TRAIN_SHARE of the stream's time trains SASRec (the trainer's defaults, at most
 * BENCH_MAX_MINUTES) on the users' views; every later search followed by a view is a search
 * session — the first half of them validation, the second half test. For each: the candidates are
 * every catalogue item of the query's category (the engine's result set), the history the user's
 * views before the search. The engine knows the query and the shop's true popularity, not the
 * shopper: relevance log(popularity) − 3 · [item lacks the query's term] + σ · N(0, 1), at each stated
 * noise σ of BENCH_ENGINE_NOISE. Scored, NDCG@10 of the viewed item (ties against it):
 *   - `engine`: the engine's order;
 *   - `personal`: the model's score alone (items it never saw at the candidates' mean);
 *   - `blend`: blendScores with the weight fitted on the validation sessions (fitBlendWeight);
 *   - `oracle weight`: the blend at the weight best on the test sessions themselves (an upper bound
 *     for any fixed weight).
 *
 * Writes bench/results/search.json. Environment: BENCH_EVENTS (800,000), BENCH_TRAIN_SHARE (0.7),
 * BENCH_MAX_MINUTES (5), BENCH_ENGINE_NOISE (0.5,1,2), BENCH_SEED (1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadArtifact } from '@seqrec/artifacts';
import type { SequenceDataset } from '@seqrec/datasets';
import { ClickstreamGenerator } from '@seqrec/generator';
import { userVectors } from '@seqrec/model';
import { FsModelStore } from '@seqrec/model-store';
import { Rng } from '@seqrec/random';
import { fitBlendWeight, meanBlendNdcg, type BlendCase } from '@seqrec/scoring';
import { TrainingPipeline } from '@seqrec/training';
import { envNumber, machineInfo, writeResult } from './machine';

const EVENTS = envNumber('BENCH_EVENTS', 800_000);
const TRAIN_SHARE = envNumber('BENCH_TRAIN_SHARE', 0.7);
const MAX_MINUTES = envNumber('BENCH_MAX_MINUTES', 5);
const NOISES = (process.env['BENCH_ENGINE_NOISE'] ?? '0.5,1,2').split(',').map(Number);
const SEED = envNumber('BENCH_SEED', 1);
const TERM_MISMATCH = 3;
const log = (msg: string) => console.error(`[bench:search ${process.uptime().toFixed(1)}s] ${msg}`);

interface Search {
  user: string;
  /** The user's views before the search (catalogue indices, oldest first). */
  history: number[];
  category: number;
  term: number;
  target: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  const gen = new ClickstreamGenerator({ seed: 42, users: 6000, items: 3000, categories: 50 });
  const cat = gen.catalogue;
  const index = new Map(cat.itemIds.map((id, i) => [id, i]));
  const events = gen.take(EVENTS);
  const cutoff = events[0]!.ts as number + TRAIN_SHARE * ((events[events.length - 1]!.ts as number) - (events[0]!.ts as number));
  const views = new Map<string, number[]>();
  const trainViews = new Map<string, number[]>();
  const pending = new Map<string, { category: number; term: number; history: number[] }>();
  const searches: Search[] = [];
  for (const e of events) {
    const user = e.userId!;
    if (e.type === 'search') {
      const q = cat.parseQuery(e.query!)!;
      if ((e.ts as number) >= cutoff) pending.set(user, { ...q, history: (views.get(user) ?? []).slice() });
      continue;
    }
    if (e.type !== 'view') continue;
    const item = index.get(e.itemId!)!;
    const p = pending.get(user);
    if (p) {
      pending.delete(user);
      searches.push({ user, history: p.history, category: p.category, term: p.term, target: item });
    }
    let v = views.get(user);
    if (!v) views.set(user, (v = []));
    v.push(item);
    if ((e.ts as number) < cutoff) {
      let t = trainViews.get(user);
      if (!t) trainViews.set(user, (t = []));
      t.push(item);
    }
  }
  // the training data: views before the cutoff, items numbered by first appearance
  const itemIds = [''];
  const local = new Map<number, number>();
  const users: string[] = [];
  const sequences: Int32Array[] = [];
  for (const [user, items] of trainViews) {
    if (items.length < 3) continue;
    users.push(user);
    sequences.push(
      Int32Array.from(items, (c) => {
        let i = local.get(c);
        if (i === undefined) local.set(c, (i = itemIds.push(cat.itemIds[c]!) - 1));
        return i;
      }),
    );
  }
  const dataset: SequenceDataset = { name: 'generator-search', numItems: itemIds.length - 1, itemIds, users, sequences };
  const valid = searches.slice(0, Math.floor(searches.length / 2));
  const test = searches.slice(Math.floor(searches.length / 2));
  log(`${EVENTS} events: ${users.length} users and ${dataset.numItems} items before the cutoff, ${searches.length} searches after it; training SASRec`);

  const dir = mkdtempSync(join(tmpdir(), 'seqrec-search-'));
  try {
    const store = new FsModelStore(dir);
    const result = await new TrainingPipeline(store).run({ source: { kind: 'dataset', dataset }, model: 'sasrec', options: { seed: SEED, maxMinutes: MAX_MINUTES }, promote: 'never', progress: false });
    const artifact = await loadArtifact(store, result.name, result.version);
    const encoder = artifact.encoder!;
    const table = encoder.itemTable();
    const d = table.shape[1];
    const rows = (await table.data()) as Float32Array;
    const modelIndex = Int32Array.from(cat.itemIds, (id) => artifact.index.get(id) ?? 0);
    const members: number[][] = Array.from({ length: cat.categoryCount }, () => []);
    for (let c = 0; c < cat.size; c++) members[cat.categoryOf[c]!]!.push(c);

    const personalOf = async (list: readonly Search[]) => {
      const histories = list.map((s) => Int32Array.from(s.history.map((c) => modelIndex[c]!).filter((m) => m > 0)).slice(-encoder.config.maxLen));
      const vectors = await userVectors(encoder, histories);
      return list.map((s, k) => {
        const u = vectors[k]!;
        return members[s.category]!.map((c) => {
          const m = modelIndex[c]!;
          if (m === 0 || histories[k]!.length === 0) return null;
          let x = 0;
          for (let j = 0; j < d; j++) x += u[j]! * rows[m * d + j]!;
          return x;
        });
      });
    };
    const personalValid = await personalOf(valid);
    const personalTest = await personalOf(test);
    const cases = (list: readonly Search[], personal: (number | null)[][], noise: number, rng: Rng): BlendCase[] =>
      list.map((s, k) => {
        const candidates = members[s.category]!;
        const engine = candidates.map((c) => Math.log(cat.popularity[c]!) - (cat.matches(c, s.category, s.term) ? 0 : TERM_MISMATCH) + noise * rng.normal());
        return { personal: personal[k]!, engine, target: candidates.indexOf(s.target) };
      });

    const results = [];
    for (const noise of NOISES) {
      const rng = new Rng('search-engine', SEED);
      const v = cases(valid, personalValid, noise, rng);
      const t = cases(test, personalTest, noise, rng);
      const fitted = fitBlendWeight(v);
      const oracle = fitBlendWeight(t);
      const ndcg10 = { engine: meanBlendNdcg(t, 0), personal: meanBlendNdcg(t, 1), blend: meanBlendNdcg(t, fitted.weight), oracleWeight: oracle.ndcg10 };
      results.push({ engineNoise: noise, weight: { fitted: fitted.weight, oracle: oracle.weight }, ndcg10, blendBeatsBoth: ndcg10.blend > ndcg10.engine && ndcg10.blend > ndcg10.personal });
      log(`noise ${noise}: NDCG@10 engine ${ndcg10.engine.toFixed(4)}, personal ${ndcg10.personal.toFixed(4)}, blend (w ${fitted.weight}) ${ndcg10.blend.toFixed(4)}, oracle weight (w ${oracle.weight}) ${ndcg10.oracleWeight.toFixed(4)}`);
    }
    encoder.dispose();
    writeResult('search', {
      at: new Date().toISOString(),
      machine: machineInfo(),
      backend: 'tensorflow (training), JS (scoring)',
      protocol:
        `the generator's stream (${EVENTS} events, ${cat.size} items, ${cat.categoryCount} categories); SASRec with the trainer's defaults on the views of the first ${TRAIN_SHARE * 100}% of the stream's time (at most ${MAX_MINUTES} min, seed ${SEED}); ` +
        `every later search followed by a view is a session (first half validation, second half test); candidates: every item of the query's category; ` +
        `engine relevance log(true popularity) - ${TERM_MISMATCH} x [item lacks the query's term] + noise x N(0, 1); NDCG@10 of the viewed item, ties against it`,
      searches: { valid: valid.length, test: test.length, meanCandidates: test.reduce((s, x) => s + members[x.category]!.length, 0) / test.length },
      model: { version: result.version, bestEpoch: result.bestEpoch, validNdcg10: result.metrics['valid.full.NDCG@10'] },
      rows: results,
      seconds: (Date.now() - started) / 1000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
