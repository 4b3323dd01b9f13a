/**
 * npm run bench:coldstart — new items: how well items the model never saw are ranked from their
 * content alone (issue 19 part 5).
 *
 * Protocol, per dataset and seed: 10% of the items (seeded) are held out of training entirely
 * (removed from every sequence); SASRec is trained with the trainer's defaults on the rest
 * (TrainingPipeline, early stopping on validation, at most BENCH_MAX_MINUTES); a ContentMap
 * (ridge from the items' content features to their item-table rows) is fitted on the known items.
 * Test cases: every user with a known item before the last; the last item is the target (held out
 * for some users, known for the others: the model's own test item); history = the items before it
 * that the model knows. Each method gives the held-out items a score:
 *   - `content`: user vector · the item's content vector (personal), raw or calibrated
 *     (ContentMap.calibrate: standardised to the known items' score distribution for the user);
 *   - `popularity-within-attribute`: the mean training popularity of the known items sharing each
 *     of its attributes, averaged over its attributes (non-personal);
 *   - `last`: what the scorer did before — unknown items after every known item, in no order.
 * Reported, HR@10 and NDCG@10 with ties counted against the target:
 *   - `new-items`: a held-out target ranked among all held-out items (which new item comes next);
 *   - `full`: the top 10 a shopper is shown over every item (known ones scored by the model, held-out
 *     ones by a variant: raw, calibrated, and the alternatives measured against it), for the users
 *     with a held-out target, those with a known target (what a boost costs) and all of them, and
 *     how many of the 10 are new items;
 *   - `rerank`: a held-out target among 99 random known items, as a re-rank request would send.
 * Datasets: Amazon Beauty and Toys (S3-Rec files, attributes = Amazon categories and brand,
 * anonymised) and the generator's catalogue (attribute = the item's category).
 *
 * Writes bench/results/coldstart.json. Environment: BENCH_SEEDS (2), BENCH_DATASETS
 * (beauty,toys,generator), BENCH_MAX_MINUTES (10), BENCH_HOLDOUT (0.1), BENCH_MODEL_DIR (unset: train
 * in a temporary folder; set: keep the trained models there and reuse them on the next run).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { dot, loadArtifact } from '@seqrec/artifacts';
import { datasetPath, datasetsRoot, loadDataset, KNOWN_DATASETS, type SequenceDataset } from '@seqrec/datasets';
import { ContentMap, initBackend, TopK, userVectors } from '@seqrec/model';
import { FsModelStore } from '@seqrec/model-store';
import { Rng } from '@seqrec/random';
import { TrainingPipeline, type TrainingResult } from '@seqrec/training';
import { generatorDataset } from './generator-data';
import { envNumber, machineInfo, writeResult } from './machine';

const SEEDS = envNumber('BENCH_SEEDS', 2);
const MAX_MINUTES = envNumber('BENCH_MAX_MINUTES', 10);
const HOLDOUT = envNumber('BENCH_HOLDOUT', 0.1);
/** A folder to keep the trained models in and reuse them (same dataset, seed, holdout, budget): to evaluate scoring changes without retraining. */
const MODEL_DIR = process.env['BENCH_MODEL_DIR'];
const DATASETS = (process.env['BENCH_DATASETS'] ?? 'beauty,toys,generator').split(',').filter(Boolean);
const log = (msg: string) => console.error(`[bench:coldstart ${process.uptime().toFixed(1)}s] ${msg}`);

interface WithContent {
  dataset: SequenceDataset;
  /** Content features per item index (`[0]` padding: []). */
  features: string[][];
  content: string;
}

function amazon(key: 'beauty' | 'toys', attributesFile: string): Promise<WithContent> {
  return loadDataset(datasetPath(key), KNOWN_DATASETS[key]!.format, { name: KNOWN_DATASETS[key]!.name }).then((dataset) => {
    const attrs = JSON.parse(gunzipSync(readFileSync(join(datasetsRoot(), 'amazon-s3rec', attributesFile))).toString('utf8')) as Record<string, number[]>;
    const features = dataset.itemIds.map((id) => (id === '' ? [] : (attrs[id] ?? []).map((a) => `attr:${a}`)));
    return { dataset, features, content: 'Amazon 2014 metadata categories and brand (S3-Rec anonymised attribute ids)' };
  });
}

function generator(): WithContent {
  const { dataset, catalogue, catalogueIndex } = generatorDataset({ seed: 42, users: 6000, items: 3000, categories: 50, events: 400_000 });
  const features = Array.from(catalogueIndex, (c) => (c < 0 ? [] : [`cat:${catalogue.categoryOf[c]}`]));
  return { dataset, features, content: "the generator's item category" };
}

interface Metric {
  hr10: number;
  ndcg10: number;
}
const acc = () => ({ hr: 0, ndcg: 0, n: 0 });
/** Pessimistic rank (1-based): every other item scoring at least the target's is ahead of it. */
function add(a: { hr: number; ndcg: number; n: number }, rank: number): void {
  a.n++;
  if (rank <= 10) {
    a.hr++;
    a.ndcg += 1 / Math.log2(rank + 1);
  }
}
/** The list length the full-catalogue metrics judge. */
const K = 10;
type Calibration = 'raw' | 'norm' | 'global' | 'user';
interface Variant {
  name: string;
  calibration: Calibration;
  /** New items guaranteed a place in the top K (the best ones, replacing the last known items). */
  slots: number;
  /** A new item takes a reserved slot only with a calibrated z-score at least this. */
  zMin: number;
  alpha?: number;
}
const VARIANTS: Variant[] = [
  { name: 'raw', calibration: 'raw', slots: 0, zMin: -Infinity },
  { name: 'norm', calibration: 'norm', slots: 0, zMin: -Infinity },
  { name: 'global', calibration: 'global', slots: 0, zMin: -Infinity },
  { name: 'calibrated', calibration: 'user', slots: 0, zMin: -Infinity },
  { name: 'raw+1', calibration: 'raw', slots: 1, zMin: -Infinity },
  { name: 'raw+2', calibration: 'raw', slots: 2, zMin: -Infinity },
  { name: 'calibrated+1', calibration: 'user', slots: 1, zMin: -Infinity },
  { name: 'calibrated+1 z>=2', calibration: 'user', slots: 1, zMin: 2 },
  { name: 'calibrated+2 z>=2', calibration: 'user', slots: 2, zMin: 2 },
  { name: 'calibrated a=0.25', calibration: 'user', slots: 0, zMin: -Infinity, alpha: 0.25 },
  { name: 'calibrated a=0.5', calibration: 'user', slots: 0, zMin: -Infinity, alpha: 0.5 },
  { name: 'calibrated a=0.75', calibration: 'user', slots: 0, zMin: -Infinity, alpha: 0.75 },
  { name: 'calibrated a=0.5 +1', calibration: 'user', slots: 1, zMin: -Infinity, alpha: 0.5 },
];
interface Entry {
  score: number;
  isNew: boolean;
  target: boolean;
  z: number;
}
/**
 * The top k a shopper is shown from the candidates (each source's best k and the target): by score,
 * ties against the target; then, when fewer than `slots` new items made it, the best remaining new
 * items with z ≥ zMin replace the last known items. The target's 1-based position (0: not shown).
 */
function shown(entries: Entry[], k: number, slots: number, zMin: number): { position: number; shownNew: number } {
  entries.sort((a, b) => b.score - a.score || Number(a.target) - Number(b.target));
  let list = entries.slice(0, k);
  const have = list.filter((e) => e.isNew).length;
  if (have < slots) {
    const extra = entries.slice(k).filter((e) => e.isNew && e.z >= zMin).slice(0, slots - have);
    let drop = extra.length;
    const kept: Entry[] = [];
    for (let i = list.length - 1; i >= 0; i--) {
      if (drop > 0 && !list[i]!.isNew) drop--;
      else kept.unshift(list[i]!);
    }
    list = [...kept, ...extra];
  }
  return { position: list.findIndex((e) => e.target) + 1, shownNew: list.filter((e) => e.isNew).length };
}
const done = (a: { hr: number; ndcg: number; n: number }): Metric => ({ hr10: a.n ? a.hr / a.n : 0, ndcg10: a.n ? a.ndcg / a.n : 0 });

async function runOne(data: WithContent, seed: number) {
  const { dataset, features } = data;
  const rng = new Rng(`coldstart-${dataset.name}`, seed);
  const held = new Uint8Array(dataset.numItems + 1);
  for (let i = 1; i <= dataset.numItems; i++) if (rng.float() < HOLDOUT) held[i] = 1;
  // the training data: every sequence without the held-out items, items renumbered
  const itemIds = [''];
  const known = new Int32Array(dataset.numItems + 1);
  for (let i = 1; i <= dataset.numItems; i++) if (!held[i]) known[i] = itemIds.push(dataset.itemIds[i]!) - 1;
  const users: string[] = [];
  const sequences: Int32Array[] = [];
  dataset.sequences.forEach((s, u) => {
    const kept = Int32Array.from(Array.from(s).filter((i) => !held[i]), (i) => known[i]!);
    if (kept.length > 0) {
      users.push(dataset.users[u]!);
      sequences.push(kept);
    }
  });
  const reduced: SequenceDataset = { name: `${dataset.name}-known`, numItems: itemIds.length - 1, itemIds, users, sequences };
  const heldItems = Array.from({ length: dataset.numItems }, (_, i) => i + 1).filter((i) => held[i]);
  log(`${dataset.name} seed ${seed}: ${heldItems.length} items held out, training SASRec on ${reduced.numItems} items`);

  const dir = MODEL_DIR ? join(MODEL_DIR, `${dataset.name}-seed${seed}-holdout${HOLDOUT}-max${MAX_MINUTES}`) : mkdtempSync(join(tmpdir(), 'seqrec-coldstart-'));
  try {
    const store = new FsModelStore(dir);
    const kept = join(dir, 'bench-result.json');
    const result: TrainingResult = existsSync(kept)
      ? (JSON.parse(readFileSync(kept, 'utf8')) as TrainingResult)
      : await new TrainingPipeline(store).run({
          source: { kind: 'dataset', dataset: reduced },
          model: 'sasrec',
          options: { seed, maxMinutes: MAX_MINUTES },
          promote: 'never',
          progress: false,
        });
    if (MODEL_DIR) writeFileSync(kept, JSON.stringify(result));
    else log(`${dataset.name} seed ${seed}: trained in ${result.timings.trainSeconds.toFixed(0)} s`);
    const artifact = await loadArtifact(store, result.name, result.version);
    const encoder = artifact.encoder!;
    const table = encoder.itemTable();
    const d = table.shape[1];
    const rows = (await table.data()) as Float32Array;
    // the content map, fitted on the known items (model index 1..N)
    const fitFeatures: string[][] = [];
    const originalOf = new Map(dataset.itemIds.map((id, i) => [id, i]));
    for (let m = 1; m < artifact.vocabulary.length; m++) fitFeatures.push(features[originalOf.get(artifact.vocabulary[m]!)!] ?? []);
    const map = ContentMap.fit(fitFeatures, rows.slice(d), d, { seed });
    const newVectors = heldItems.map((i) => map.vector(features[i]!));
    // popularity within attribute, from the training data
    const pop = new Float64Array(artifact.vocabulary.length);
    for (const s of reduced.sequences) for (const i of s) pop[artifact.index.get(reduced.itemIds[i]!)!]! += 1;
    const attrSum = new Map<string, { sum: number; n: number }>();
    for (let m = 1; m < artifact.vocabulary.length; m++) {
      for (const f of fitFeatures[m - 1]!) {
        const a = attrSum.get(f) ?? { sum: 0, n: 0 };
        a.sum += pop[m]!;
        a.n++;
        attrSum.set(f, a);
      }
    }
    const popAttr = heldItems.map((i) => {
      const fs = features[i]!.map((f) => attrSum.get(f)).filter((a): a is { sum: number; n: number } => a !== undefined);
      return fs.length ? fs.reduce((s, a) => s + a.sum / a.n, 0) / fs.length : 0;
    });

    // test cases: every user with a known item before the last; the last is the target, held out or known
    const cases: Array<{ history: Int32Array; target: number; held: boolean }> = [];
    for (const s of dataset.sequences) {
      const last = s[s.length - 1]!;
      const history = Int32Array.from(
        Array.from(s.subarray(0, s.length - 1)).filter((i) => !held[i]),
        (i) => artifact.index.get(dataset.itemIds[i]!)!,
      );
      if (history.length === 0) continue;
      const target = held[last] ? heldItems.indexOf(last) : artifact.index.get(dataset.itemIds[last]!)!;
      cases.push({ history: history.slice(-encoder.config.maxLen), target, held: held[last] === 1 });
    }
    const vectors = await userVectors(encoder, cases.map((c) => c.history));
    const m = { contentNew: acc(), popAttrNew: acc(), lastNew: acc(), contentRerank: acc(), calibratedRerank: acc(), lastRerank: acc() };
    const N = artifact.vocabulary.length - 1;
    const dotVec = (u: Float32Array, v: Float32Array | null) => (v ? dot(u, v, 0, d) : -Infinity);
    // the variants' new-item vectors: norm-matched, and the deviations from the mean prediction stretched by one factor
    const predictedKnown = fitFeatures.map((f) => map.vector(f)).filter((v): v is Float32Array => v !== null);
    const meanOf = (vs: ArrayLike<number>[], n: number) => {
      const mu = new Float32Array(d);
      for (const v of vs) for (let j = 0; j < d; j++) mu[j]! += v[j]! / n;
      return mu;
    };
    const knownRows = Array.from({ length: N }, (_, r) => rows.subarray((r + 1) * d, (r + 2) * d));
    const knownMean = meanOf(knownRows, N);
    const predictedMean = meanOf(predictedKnown, predictedKnown.length);
    const spread = (vs: ArrayLike<number>[], mu: Float32Array) => vs.reduce((a, v) => a + Array.from({ length: d }, (_, j) => (v[j]! - mu[j]!) ** 2).reduce((x, y) => x + y, 0), 0) / vs.length;
    const stretch = Math.sqrt(spread(knownRows, knownMean) / spread(predictedKnown, predictedMean));
    const meanNorm = knownRows.reduce((a, v) => a + Math.hypot(...v), 0) / N;
    const normed = newVectors.map((v) => (v ? v.map((x) => (x * meanNorm) / Math.hypot(...v)) : null));
    const variants = VARIANTS.map((v) => ({ ...v, newTarget: acc(), knownTarget: acc(), all: acc(), shownNew: 0 }));
    const crng = new Rng(`coldstart-rerank-${dataset.name}`, seed);
    const ks = new Float32Array(N + 1);
    let scaleSum = 0;
    cases.forEach((c, k) => {
      const u = vectors[k]!;
      for (let r = 1; r <= N; r++) ks[r] = dot(u, rows, r * d, d);
      const raw = newVectors.map((v) => dotVec(u, v));
      const cal = map.calibrate(u);
      scaleSum += cal?.scale ?? 1;
      const calibrated = cal ? raw.map((x) => cal.offset + cal.scale * x) : raw;
      const z = cal ? calibrated.map((x) => (x - cal.knownMean) / cal.knownSd) : raw.map(() => Infinity);
      const knownTop = new TopK(K);
      for (let r = 1; r <= N; r++) if (c.held || r !== c.target) knownTop.offer(r, ks[r]!);
      const known = knownTop.result();
      const um = dotVec(u, predictedMean);
      const scoresOf: Record<Calibration, () => number[]> = {
        raw: () => raw,
        norm: () => normed.map((v) => dotVec(u, v)),
        global: () => raw.map((x) => um + stretch * (x - um)),
        user: () => calibrated,
      };
      for (const v of variants) {
        const a = v.alpha ?? 1;
        const ns = v.calibration === 'user' && a !== 1 ? raw.map((x, j) => (1 - a) * x + a * calibrated[j]!) : scoresOf[v.calibration]();
        const newTop = new TopK(K);
        ns.forEach((x, j) => {
          if (x > -Infinity && !(c.held && j === c.target)) newTop.offer(j, x);
        });
        const fresh = newTop.result();
        const entries: Entry[] = [
          ...Array.from(known.items, (_, q) => ({ score: known.scores[q]!, isNew: false, target: false, z: 0 })),
          ...Array.from(fresh.items, (j, q) => ({ score: fresh.scores[q]!, isNew: true, target: false, z: z[j]! })),
          c.held ? { score: ns[c.target]!, isNew: true, target: true, z: z[c.target]! } : { score: ks[c.target]!, isNew: false, target: true, z: 0 },
        ];
        const { position, shownNew } = shown(entries, K, v.slots, v.zMin);
        add(c.held ? v.newTarget : v.knownTarget, position || Infinity);
        add(v.all, position || Infinity);
        v.shownNew += shownNew;
      }
      if (!c.held) return;
      const t = raw[c.target]!;
      const tp = popAttr[c.target]!;
      let aheadContent = 0;
      let aheadPop = 0;
      for (let j = 0; j < heldItems.length; j++) {
        if (j === c.target) continue;
        if (raw[j]! >= t) aheadContent++;
        if (popAttr[j]! >= tp) aheadPop++;
      }
      add(m.contentNew, aheadContent + 1);
      add(m.popAttrNew, aheadPop + 1);
      add(m.lastNew, heldItems.length); // no order among unknown items: pessimistic, last of them
      let aheadRerank = 0;
      let aheadCalibrated = 0;
      for (let q = 0; q < 99; q++) {
        const r = ks[1 + crng.int(N)]!;
        if (r >= t) aheadRerank++;
        if (r >= calibrated[c.target]!) aheadCalibrated++;
      }
      add(m.contentRerank, aheadRerank + 1);
      add(m.calibratedRerank, aheadCalibrated + 1);
      add(m.lastRerank, 100);
    });
    encoder.dispose();
    const coverage = newVectors.filter((v) => v !== null).length / heldItems.length;
    return {
      seed,
      heldOutItems: heldItems.length,
      knownItems: N,
      cases: cases.length,
      casesWithANewTarget: cases.filter((c) => c.held).length,
      model: { kind: 'sasrec', version: result.version, bestEpoch: result.bestEpoch, validNdcg10: result.metrics['valid.full.NDCG@10'], trainSeconds: result.timings.trainSeconds },
      contentMap: { features: map.features.length, lambda: map.lambda, newItemsWithAVector: coverage, meanCalibrationScale: scaleSum / cases.length },
      newItems: { content: done(m.contentNew), popularityWithinAttribute: done(m.popAttrNew), last: done(m.lastNew), randomExpectedHr10: Math.min(1, 10 / heldItems.length) },
      full: Object.fromEntries(variants.map((v) => [v.name, { newTarget: done(v.newTarget), knownTarget: done(v.knownTarget), all: done(v.all), newItemsShownPerList: v.shownNew / cases.length }])),
      rerank: { content: done(m.contentRerank), calibrated: done(m.calibratedRerank), last: done(m.lastRerank) },
    };
  } finally {
    if (!MODEL_DIR) rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  await initBackend(); // the trainer's backend, also for the user vectors of models reused from BENCH_MODEL_DIR
  const out: Record<string, unknown> = {};
  const sources: Record<string, () => Promise<WithContent>> = {
    beauty: () => amazon('beauty', 'Beauty_item2attributes.json.gz'),
    toys: () => amazon('toys', 'Toys_and_Games_item2attributes.json.gz'),
    generator: async () => generator(),
  };
  for (const name of DATASETS) {
    const data = await sources[name]!();
    const runs: Array<Awaited<ReturnType<typeof runOne>>> = [];
    for (let s = 1; s <= SEEDS; s++) runs.push(await runOne(data, s));
    const mean = (f: (r: (typeof runs)[number]) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
    const summary = {
      content: data.content,
      newItemsNdcg10: { content: mean((r) => r.newItems.content.ndcg10), popularityWithinAttribute: mean((r) => r.newItems.popularityWithinAttribute.ndcg10), last: mean((r) => r.newItems.last.ndcg10) },
      newItemsHr10: { content: mean((r) => r.newItems.content.hr10), popularityWithinAttribute: mean((r) => r.newItems.popularityWithinAttribute.hr10), last: mean((r) => r.newItems.last.hr10) },
      full: Object.fromEntries(
        VARIANTS.map((v) => [
          v.name,
          {
            newItemsNdcg10: mean((r) => r.full[v.name]!.newTarget.ndcg10),
            newItemsHr10: mean((r) => r.full[v.name]!.newTarget.hr10),
            knownItemsNdcg10: mean((r) => r.full[v.name]!.knownTarget.ndcg10),
            allNdcg10: mean((r) => r.full[v.name]!.all.ndcg10),
            newItemsShownPerList: mean((r) => r.full[v.name]!.newItemsShownPerList),
          },
        ]),
      ),
      rerankNdcg10: { content: mean((r) => r.rerank.content.ndcg10), calibrated: mean((r) => r.rerank.calibrated.ndcg10), last: mean((r) => r.rerank.last.ndcg10) },
    };
    const beats = summary.newItemsNdcg10.content > summary.newItemsNdcg10.popularityWithinAttribute;
    out[name] = { ...summary, contentBeatsPopularityWithinAttribute: beats, runs };
    log(`${name}: new-items NDCG@10 content ${summary.newItemsNdcg10.content.toFixed(4)} vs popularity-within-attribute ${summary.newItemsNdcg10.popularityWithinAttribute.toFixed(4)}`);
  }
  writeResult('coldstart', {
    at: new Date().toISOString(),
    machine: machineInfo(),
    backend: 'tensorflow (training), JS (scoring)',
    protocol: `${HOLDOUT * 100}% of items held out of training entirely; SASRec with the trainer's defaults (at most ${MAX_MINUTES} min); ContentMap (ridge, lambda chosen on 10% of known items) from content features to item rows; cases = users whose last item is held out; HR@10 / NDCG@10, ties against the target; mean of ${SEEDS} seed(s)`,
    datasets: out,
    seconds: (Date.now() - started) / 1000,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
