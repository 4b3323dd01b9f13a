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
 *   - `content`: the scorer's content score (ContentItems: user vector · the item's content vector,
 *     calibrated by SCORER_NEW_ITEM_BOOST: 0 raw, 1 standardised per user to the known items' score
 *     distribution, the default between);
 *   - `popularity-within-attribute`: the mean training popularity of the known items sharing each
 *     of its attributes, averaged over its attributes (non-personal);
 *   - `last`: what the scorer did before — unknown items after every known item, in no order.
 * Reported, HR@10 and NDCG@10 with ties counted against the target:
 *   - `new-items`: a held-out target ranked among all held-out items (which new item comes next);
 *   - `full`: the top 10 a shopper is shown over every item (known ones scored by the model, held-out
 *     ones by their content score at each boost), for the users with a held-out target, those with a
 *     known target (what the boost costs the model's ranking) and all of them, and how many of the
 *     10 are new items;
 *   - `rerank`: a held-out target among 99 random known items, as a re-rank request would send
 *     (raw and at the default boost).
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
import { ContentItems, DEFAULT_NEW_ITEM_BOOST } from '@seqrec/scoring';
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
/** SCORER_NEW_ITEM_BOOST settings measured: raw (0, the scorer before calibration), the default, fully standardised (1). */
const BOOSTS = [...new Set([0, 0.5, DEFAULT_NEW_ITEM_BOOST, 1])].sort((x, y) => x - y);
interface Entry {
  score: number;
  isNew: boolean;
  target: boolean;
}
/**
 * The top k a shopper is shown from the candidates (each source's best k and the target), by score,
 * ties against the target: the target's 1-based position (0: not shown) and the new items in it.
 */
function shown(entries: Entry[], k: number): { position: number; shownNew: number } {
  entries.sort((x, y) => y.score - x.score || Number(x.target) - Number(y.target));
  const list = entries.slice(0, k);
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
    // the scorer's own content items, one per boost setting (held-out item j has index N + 1 + j, or none)
    const boosts = BOOSTS.map((boost) => {
      const content = new ContentItems(map, N + 1, boost);
      const ixs = heldItems.map((i, j) => content.put(String(j), features[i]!));
      return { boost, content, ixs, newTarget: acc(), knownTarget: acc(), all: acc(), shownNew: 0 };
    });
    const crng = new Rng(`coldstart-rerank-${dataset.name}`, seed);
    const ks = new Float32Array(N + 1);
    let scaleSum = 0;
    const defaultAt = BOOSTS.indexOf(DEFAULT_NEW_ITEM_BOOST);
    cases.forEach((c, k) => {
      const u = vectors[k]!;
      for (let r = 1; r <= N; r++) ks[r] = dot(u, rows, r * d, d);
      scaleSum += map.calibrate(u, DEFAULT_NEW_ITEM_BOOST)?.scale ?? 1;
      const knownTop = new TopK(K);
      for (let r = 1; r <= N; r++) if (c.held || r !== c.target) knownTop.offer(r, ks[r]!);
      const known = knownTop.result();
      const scores = boosts.map((b) => b.ixs.map((ix) => (ix > 0 ? b.content.score(u, ix) : -Infinity)));
      boosts.forEach((b, q) => {
        const ns = scores[q]!;
        const newTop = new TopK(K);
        ns.forEach((x, j) => {
          if (x > -Infinity && !(c.held && j === c.target)) newTop.offer(j, x);
        });
        const fresh = newTop.result();
        const entries: Entry[] = [
          ...Array.from(known.scores, (score) => ({ score, isNew: false, target: false })),
          ...Array.from(fresh.scores, (score) => ({ score, isNew: true, target: false })),
          { score: c.held ? ns[c.target]! : ks[c.target]!, isNew: c.held, target: true },
        ];
        const { position, shownNew } = shown(entries, K);
        add(c.held ? b.newTarget : b.knownTarget, position || Infinity);
        add(b.all, position || Infinity);
        b.shownNew += shownNew;
      });
      const raw = scores[0]!;
      const calibrated = scores[defaultAt]!;
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
    const coverage = boosts[0]!.ixs.filter((ix) => ix > 0).length / heldItems.length;
    return {
      seed,
      heldOutItems: heldItems.length,
      knownItems: N,
      cases: cases.length,
      casesWithANewTarget: cases.filter((c) => c.held).length,
      model: { kind: 'sasrec', version: result.version, bestEpoch: result.bestEpoch, validNdcg10: result.metrics['valid.full.NDCG@10'], trainSeconds: result.timings.trainSeconds },
      contentMap: { features: map.features.length, lambda: map.lambda, newItemsWithAVector: coverage, meanCalibrationScale: scaleSum / cases.length },
      newItems: { content: done(m.contentNew), popularityWithinAttribute: done(m.popAttrNew), last: done(m.lastNew), randomExpectedHr10: Math.min(1, 10 / heldItems.length) },
      full: Object.fromEntries(boosts.map((b) => [String(b.boost), { newTarget: done(b.newTarget), knownTarget: done(b.knownTarget), all: done(b.all), newItemsShownPerList: b.shownNew / cases.length }])),
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
      /** Per SCORER_NEW_ITEM_BOOST setting. */
      full: Object.fromEntries(
        BOOSTS.map((b) => String(b)).map((b) => [
          b,
          {
            newItemsNdcg10: mean((r) => r.full[b]!.newTarget.ndcg10),
            newItemsHr10: mean((r) => r.full[b]!.newTarget.hr10),
            knownItemsNdcg10: mean((r) => r.full[b]!.knownTarget.ndcg10),
            allNdcg10: mean((r) => r.full[b]!.all.ndcg10),
            newItemsShownPerList: mean((r) => r.full[b]!.newItemsShownPerList),
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
    protocol: `${HOLDOUT * 100}% of items held out of training entirely; SASRec with the trainer's defaults (at most ${MAX_MINUTES} min); ContentMap (ridge, lambda chosen on 10% of known items) from content features to item rows; cases = every user with a known item before the last, the last item the target (held out or the model's own test item); new items scored by the scorer's ContentItems at SCORER_NEW_ITEM_BOOST ${BOOSTS.join(', ')} (default ${DEFAULT_NEW_ITEM_BOOST}); HR@10 / NDCG@10, ties against the target; mean of ${SEEDS} seed(s)`,
    defaultBoost: DEFAULT_NEW_ITEM_BOOST,
    datasets: out,
    seconds: (Date.now() - started) / 1000,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
