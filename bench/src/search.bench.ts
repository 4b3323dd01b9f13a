/**
 * npm run bench:search — search re-ranking: does blending the shopper's personal score with the
 * search engine's order put the item then clicked higher than either alone? (issue 19 part 6)
 *
 * Protocol: the generator's shop (its catalogue's categories and popularity, its users' view
 * sequences); SASRec trained with the trainer's defaults (at most BENCH_MAX_MINUTES) on the
 * leave-one-out training split. A search session per validation and test case: the query names
 * the category of the item the shopper views next (queries are tied to categories, as the
 * generator's are); the engine returns every catalogue item of that category ordered by its
 * relevance, log(true popularity) + σ · N(0, 1) — a non-personal engine that knows the shop's true
 * popularity up to a stated, fixed noise σ (each of BENCH_ENGINE_NOISE, one table row per σ, the
 * same trained model for all). Items the model never saw are candidates too (personal score unknown).
 * Scored: NDCG@10 of the viewed item among the candidates for
 *   - `engine`: the engine's order;
 *   - `personal`: the model's score alone (unknown items at the candidates' mean);
 *   - `blend`: blendScores with the weight fitted on the validation sessions (fitBlendWeight);
 *   - `oracle weight`: the blend with the weight that is best on the test sessions themselves, an
 *     upper bound for any fixed weight.
 *
 * Writes bench/results/search.json. Environment: BENCH_MAX_MINUTES (5), BENCH_ENGINE_NOISE (0.25,0.5,1,2), BENCH_SEED (1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadArtifact } from '@seqrec/artifacts';
import { leaveOneOut, type EvalCase } from '@seqrec/datasets';
import { userVectors } from '@seqrec/model';
import { FsModelStore } from '@seqrec/model-store';
import { Rng } from '@seqrec/random';
import { fitBlendWeight, meanBlendNdcg, type BlendCase } from '@seqrec/scoring';
import { TrainingPipeline } from '@seqrec/training';
import { generatorDataset } from './generator-data';
import { envNumber, machineInfo, writeResult } from './machine';

const MAX_MINUTES = envNumber('BENCH_MAX_MINUTES', 5);
const NOISES = (process.env['BENCH_ENGINE_NOISE'] ?? '0.25,0.5,1,2').split(',').map(Number);
const SEED = envNumber('BENCH_SEED', 1);
const log = (msg: string) => console.error(`[bench:search ${process.uptime().toFixed(1)}s] ${msg}`);

async function main(): Promise<void> {
  const started = Date.now();
  const options = { seed: 42, users: 6000, items: 3000, categories: 50, events: 400_000 };
  const { dataset, catalogue, catalogueIndex } = generatorDataset(options);
  const split = leaveOneOut(dataset, { minLength: 3 });
  log(`${dataset.users.length} users, ${dataset.numItems} items seen of ${catalogue.size}; training SASRec`);
  const dir = mkdtempSync(join(tmpdir(), 'seqrec-search-'));
  try {
    const store = new FsModelStore(dir);
    const result = await new TrainingPipeline(store).run({ source: { kind: 'dataset', dataset }, model: 'sasrec', options: { seed: SEED, maxMinutes: MAX_MINUTES }, promote: 'never', progress: false });
    const artifact = await loadArtifact(store, result.name, result.version);
    const encoder = artifact.encoder!;
    const table = encoder.itemTable();
    const d = table.shape[1];
    const rows = (await table.data()) as Float32Array;
    // catalogue item → model index (0: the model never saw it)
    const modelIndex = new Int32Array(catalogue.size);
    catalogue.itemIds.forEach((id, c) => (modelIndex[c] = artifact.index.get(id) ?? 0));
    const members: number[][] = Array.from({ length: catalogue.categoryCount }, () => []);
    for (let c = 0; c < catalogue.size; c++) members[catalogue.categoryOf[c]!]!.push(c);

    const sessions = async (cases: readonly EvalCase[], noise: number, rng: Rng): Promise<BlendCase[]> => {
      const histories = cases.map((c) => Int32Array.from(c.history, (i) => artifact.index.get(dataset.itemIds[i]!)!).slice(-encoder.config.maxLen));
      const vectors = await userVectors(encoder, histories);
      return cases.map((c, k) => {
        const targetCat = catalogueIndex[c.target]!;
        const candidates = members[catalogue.categoryOf[targetCat]!]!;
        const u = vectors[k]!;
        const personal = candidates.map((ci) => {
          const m = modelIndex[ci]!;
          if (m === 0) return null;
          let s = 0;
          for (let j = 0; j < d; j++) s += u[j]! * rows[m * d + j]!;
          return s;
        });
        const engine = candidates.map((ci) => Math.log(catalogue.popularity[ci]!) + noise * rng.normal());
        return { personal, engine, target: candidates.indexOf(targetCat) };
      });
    };
    const results = [];
    let test: BlendCase[] = [];
    let valid: BlendCase[] = [];
    for (const noise of NOISES) {
      const rng = new Rng('search-engine', SEED);
      valid = await sessions(split.valid, noise, rng);
      test = await sessions(split.test, noise, rng);
      const fitted = fitBlendWeight(valid);
      const oracle = fitBlendWeight(test);
      const ndcg10 = { engine: meanBlendNdcg(test, 0), personal: meanBlendNdcg(test, 1), blend: meanBlendNdcg(test, fitted.weight), oracleWeight: oracle.ndcg10 };
      results.push({ engineNoise: noise, weight: { fitted: fitted.weight, oracle: oracle.weight }, ndcg10, blendBeatsBoth: ndcg10.blend > ndcg10.engine && ndcg10.blend > ndcg10.personal });
      log(`noise ${noise}: NDCG@10 engine ${ndcg10.engine.toFixed(4)}, personal ${ndcg10.personal.toFixed(4)}, blend (w ${fitted.weight}) ${ndcg10.blend.toFixed(4)}, oracle weight (w ${oracle.weight}) ${ndcg10.oracleWeight.toFixed(4)}`);
    }
    const unknownShare = test.reduce((s, c) => s + Array.from(c.personal).filter((p) => p === null).length / c.personal.length, 0) / test.length;
    encoder.dispose();
    const res = {
      at: new Date().toISOString(),
      machine: machineInfo(),
      backend: 'tensorflow (training), JS (scoring)',
      protocol:
        `generator shop (${catalogue.size} items, ${catalogue.categoryCount} categories, ${dataset.users.length} users); SASRec with the trainer's defaults (at most ${MAX_MINUTES} min, seed ${SEED}); ` +
        `one search per leave-one-out case, the query naming the category of the next viewed item; the engine orders every item of that category by log(true popularity) + noise x N(0, 1); ` +
        `NDCG@10 of the viewed item, ties against it; blend weight fitted on the ${valid.length} validation searches`,
      searches: { valid: valid.length, test: test.length, meanCandidates: test.reduce((s, c) => s + c.engine.length, 0) / test.length, unknownToModelShare: unknownShare },
      model: { version: result.version, bestEpoch: result.bestEpoch, validNdcg10: result.metrics['valid.full.NDCG@10'] },
      rows: results,
      seconds: (Date.now() - started) / 1000,
    };
    writeResult('search', res);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
