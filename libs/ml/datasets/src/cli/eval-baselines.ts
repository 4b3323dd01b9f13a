/**
 * Runs the classic baselines on one dataset under the project's evaluation protocol and prints an
 * aligned table and the JSON rows.
 *
 *   node libs/ml/datasets/dist/cli/eval-baselines.js --dataset ml-1m
 *   node libs/ml/datasets/dist/cli/eval-baselines.js --dataset beauty --models pop,cooc --json out.json
 *
 * Leave-one-out datasets: each model's hyper-parameters are picked on the validation cases (full
 * ranking, NDCG@10) from a small grid, the model is refitted on everything before each test item
 * and evaluated on the test cases under every requested protocol. Session data (`yoochoose`):
 * tuned on train_tr → train_valid, final train_full → test, next-click cases, no seen-item
 * masking (GRU4Rec convention).
 *
 * Options: --dataset <key|path> (keys: see KNOWN_DATASETS; default ml-1m), --format <fmt|auto>,
 * --models pop,itemknn,cooc,bpr-mf, --protocols full,sampled, --negatives 100, --seed 42,
 * --ties pessimistic|optimistic|expected, --min-length 3, --batch-size 256, --no-tune, --json <file>.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BPRMF_DEFAULTS, BprMfRecommender, type BprMfOptions } from '../baselines/bpr-mf';
import type { FittableRecommender } from '../baselines/common';
import { CoocRecommender, type CoocOptions } from '../baselines/cooc';
import { ItemKnnRecommender, type ItemKnnOptions } from '../baselines/itemknn';
import { PopRecommender } from '../baselines/pop';
import { evaluate, type EvalResult, type Protocol } from '../eval/evaluate';
import { TIE_MODES, type TieMode } from '../eval/metrics';
import { formatTable } from '../eval/table';
import { loadDataset, type DatasetFormat } from '../loaders/load';
import { loadYoochooseSplit } from '../loaders/yoochoose';
import { datasetPath, KNOWN_DATASETS } from '../registry';
import { leaveOneOut, trainingSequences } from '../split';
import type { EvalCase } from '../types';
import { datasetStats } from '../vocabulary';

type ModelKey = 'pop' | 'itemknn' | 'cooc' | 'bpr-mf';
const MODEL_KEYS: readonly ModelKey[] = ['pop', 'itemknn', 'cooc', 'bpr-mf'];

/** Small validation grids: a handful of sensible settings, not a search. */
const GRIDS: Record<ModelKey, Record<string, unknown>[]> = {
  pop: [{}],
  itemknn: [
    { neighbours: 200, shrink: 10, decay: 1 },
    { neighbours: 200, shrink: 10, decay: 0.9 },
    { neighbours: 200, shrink: 10, decay: 0.7 },
    { neighbours: 200, shrink: 10, decay: 0.5 },
    { neighbours: 200, shrink: 100, decay: 0.7 },
  ],
  cooc: [
    { window: 1, lastN: 1 },
    { window: 3, windowDecay: 0.5, lastN: 5, recencyDecay: 0.6 },
    { window: 3, windowDecay: 0.5, lastN: 3, recencyDecay: 0.3 },
    { window: 5, windowDecay: 0.7, lastN: 10, recencyDecay: 0.8 },
  ],
  'bpr-mf': [{}, { epochs: 100, learningRate: 0.1 }],
};

/**
 * BPR settings whose training would draw more than this many triples (epochs × distinct
 * (user, item) pairs) are left out of the grid, to keep a run short on a shared 2-core machine:
 * the 100-epoch setting runs on the small Amazon sets, not on ML-1M.
 */
const MAX_BPR_STEPS = 40e6;

interface Args {
  dataset: string;
  format: DatasetFormat | 'auto';
  models: ModelKey[];
  protocols: Protocol[];
  negatives: number;
  seed: number;
  ties: TieMode;
  minLength: number;
  batchSize: number;
  tune: boolean;
  json?: string;
}

const USAGE = `usage: eval-baselines [--dataset ${Object.keys(KNOWN_DATASETS).join('|')}|<file>] [--models ${MODEL_KEYS.join(',')}] [--protocols full,sampled] [--no-tune] [--json <file>]`;

/** The options (node's `util.parseArgs`, strict: an unknown option or a missing value throws). */
function parseCliArgs(argv: string[]): Args {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      dataset: { type: 'string', default: 'ml-1m' },
      format: { type: 'string', default: 'auto' },
      models: { type: 'string' },
      protocols: { type: 'string', default: 'full,sampled' },
      negatives: { type: 'string', default: '100' },
      seed: { type: 'string', default: '42' },
      ties: { type: 'string', default: 'pessimistic' },
      'min-length': { type: 'string', default: '3' },
      'batch-size': { type: 'string', default: '256' },
      'no-tune': { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const models = (v.models?.split(',') ?? [...MODEL_KEYS]) as ModelKey[];
  for (const m of models) if (!MODEL_KEYS.includes(m)) throw new Error(`unknown model ${m}; known: ${MODEL_KEYS.join(', ')}`);
  const protocols = v.protocols.split(',') as Protocol[];
  for (const p of protocols) if (p !== 'full' && p !== 'sampled') throw new Error(`unknown protocol ${p}`);
  const ties = v.ties as TieMode;
  if (!TIE_MODES.includes(ties)) throw new Error(`--ties must be one of ${TIE_MODES.join(', ')}`);
  return {
    dataset: v.dataset,
    format: v.format as DatasetFormat | 'auto',
    models,
    protocols,
    negatives: Number(v.negatives),
    seed: Number(v.seed),
    ties,
    minLength: Number(v['min-length']),
    batchSize: Number(v['batch-size']),
    tune: !v['no-tune'],
    ...(v.json === undefined ? {} : { json: v.json }),
  };
}

function makeModel(key: ModelKey, params: Record<string, unknown>, seed: number): FittableRecommender<object> {
  switch (key) {
    case 'pop':
      return new PopRecommender();
    case 'itemknn':
      return new ItemKnnRecommender(params as Partial<ItemKnnOptions>);
    case 'cooc':
      return new CoocRecommender(params as Partial<CoocOptions>);
    case 'bpr-mf':
      return new BprMfRecommender({ seed, ...(params as Partial<BprMfOptions>) });
  }
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

interface Phase {
  train: readonly Int32Array[];
  cases: EvalCase[];
  numItems: number;
}

async function main(): Promise<void> {
  const args = parseCliArgs(process.argv.slice(2));
  const known = KNOWN_DATASETS[args.dataset];
  const session = (known?.format ?? args.format) === 'yoochoose';
  const t0 = performance.now();

  let name: string;
  let tunePhase: Phase;
  let testPhase: Phase;
  let stats: unknown;
  if (session) {
    const path = datasetPath(args.dataset);
    const dir = dirname(path);
    const prefix = path.replace(/_train_full\.txt(\.gz)?$/, '');
    const gz = path.endsWith('.gz') ? '.gz' : '';
    name = known?.name ?? 'yoochoose';
    const tune = await loadYoochooseSplit(`${prefix}_train_tr.txt${gz}`, `${prefix}_train_valid.txt${gz}`, { name });
    const final = await loadYoochooseSplit(path, `${prefix}_test.txt${gz}`, { name });
    // The tuning run has its own (smaller) vocabulary; each phase is ranked over its own items.
    tunePhase = { train: tune.train.sequences, cases: tune.testCases, numItems: tune.train.numItems };
    testPhase = { train: final.train.sequences, cases: final.testCases, numItems: final.train.numItems };
    stats = { dir, train: datasetStats(final.train), test: datasetStats(final.test), testCases: final.testCases.length, tuneCases: tune.testCases.length };
  } else {
    const path = datasetPath(args.dataset);
    const ds = await loadDataset(path, known?.format ?? args.format, known ? { name: known.name } : {});
    const split = leaveOneOut(ds, { minLength: args.minLength });
    name = ds.name;
    tunePhase = { train: split.train, cases: split.valid, numItems: ds.numItems };
    testPhase = { train: trainingSequences(split, 'test'), cases: split.test, numItems: ds.numItems };
    stats = { ...datasetStats(ds), validCases: split.valid.length, testCases: split.test.length, splitMinLength: args.minLength };
  }
  const loadMs = performance.now() - t0;
  log(`${name}: loaded in ${(loadMs / 1000).toFixed(2)} s ${JSON.stringify(stats)}`);

  const common = { ties: args.ties, batchSize: args.batchSize, excludeSeen: !session, seed: args.seed, negatives: args.negatives };
  const tuneSplit = session ? 'tune-valid' : 'valid';
  const rows: EvalResult[] = [];
  const tuning: EvalResult[] = [];
  for (const key of args.models) {
    const pairs = tunePhase.train.reduce((n, t) => n + new Set(t).size, 0);
    let grid = args.tune ? GRIDS[key] : [{}];
    if (key === 'bpr-mf') grid = grid.filter((g) => ((g['epochs'] as number | undefined) ?? BPRMF_DEFAULTS.epochs) * pairs <= MAX_BPR_STEPS);
    let best: { params: Record<string, unknown>; score: number; row: EvalResult } | null = null;
    for (const params of grid) {
      const model = makeModel(key, params, args.seed);
      const f0 = performance.now();
      model.fit(tunePhase.train, tunePhase.numItems);
      const fitMs = performance.now() - f0;
      const row = await evaluate(model, tunePhase.cases, { ...common, dataset: { name, numItems: tunePhase.numItems }, split: tuneSplit, params: { ...model.params } });
      row.fitMs = fitMs;
      tuning.push(row);
      const score = row.metrics['NDCG@10']!;
      log(`  ${key} ${JSON.stringify(params)}: ${tuneSplit} NDCG@10 ${score.toFixed(4)} HR@10 ${row.metrics['HR@10']!.toFixed(4)} (fit ${(fitMs / 1000).toFixed(1)} s, eval ${(row.timing.totalMs / 1000).toFixed(1)} s)`);
      if (!best || score > best.score) best = { params, score, row };
    }
    if (best) rows.push(best.row);
    const model = makeModel(key, best?.params ?? {}, args.seed);
    const f0 = performance.now();
    model.fit(testPhase.train, testPhase.numItems);
    const fitMs = performance.now() - f0;
    for (const protocol of args.protocols) {
      const row = await evaluate(model, testPhase.cases, { ...common, dataset: { name, numItems: testPhase.numItems }, protocol, split: 'test', params: { ...model.params } });
      row.fitMs = fitMs;
      rows.push(row);
      log(`  ${key} test ${protocol}: HR@10 ${row.metrics['HR@10']!.toFixed(4)} NDCG@10 ${row.metrics['NDCG@10']!.toFixed(4)}`);
    }
  }
  const table = formatTable(rows);
  const report = {
    dataset: name,
    stats,
    loadMs,
    node: process.version,
    protocol: { ties: args.ties, negatives: args.negatives, seed: args.seed, excludeSeen: !session, selection: `${tuneSplit} NDCG@10 (full)` },
    rows,
    tuning,
    totalMs: performance.now() - t0,
  };
  process.stdout.write(`${table}\n\n`);
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`JSON written to ${resolve(args.json)}`);
  } else {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
