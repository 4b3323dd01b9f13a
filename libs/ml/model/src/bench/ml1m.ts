/**
 * Training speed and quality of a sequence model on a leave-one-out split of a dataset file
 * (default: the SASRec-preprocessed ML-1M), evaluated with `@seqrec/datasets`' `evaluate`:
 * full ranking over all items with seen items excluded (headline), and sampled-100 on the test set.
 *
 *   node libs/ml/model/dist/bench/ml1m.js [--data ml-1m|path] [--epochs 3] [--loss softmax|bce|sampled-softmax]
 *     [--model sasrec|gru4rec|lstm] [--maxlen 200] [--dim 50] [--blocks 2] [--heads 1] [--dropout 0.2]
 *     [--batch 128] [--lr 0.001] [--negatives n] [--max-batches n] [--eval-users n] [--patience 3]
 *     [--save dir]
 *
 * Trains on `split.train` and selects the epoch on the validation cases (as SASRec's reference
 * code does); prints one JSON line per epoch and a summary.
 */
import { datasetPath, evaluate, leaveOneOut, loadDataset, type EvalCase } from '@seqrec/datasets';
import { parseArgs } from 'node:util';
import { initBackend } from '../backend';
import type { ModelKind } from '../config';
import { createEncoder } from '../encoder';
import { saveModel } from '../io';
import type { LossKind } from '../losses';
import { Rng } from '@seqrec/random';
import { trainModel } from '../train';

const { values: args } = parseArgs({
  strict: true,
  options: Object.fromEntries(
    Object.entries({
      data: 'ml-1m', model: 'sasrec', maxlen: '200', dim: '50', blocks: '2', heads: '1', dropout: '0.2', 'eval-users': '0', loss: 'softmax',
      'max-batches': '', negatives: '', epochs: '3', batch: '128', lr: '0.001', patience: '3', save: '',
    }).map(([name, dflt]) => [name, { type: 'string' as const, default: dflt }]),
  ),
});
const arg = (name: string): string => args[name] as string;

async function main(): Promise<void> {
  const backend = await initBackend('tensorflow');
  const t0 = performance.now();
  const dataset = await loadDataset(datasetPath(arg('data')));
  const split = leaveOneOut(dataset);
  const loadSeconds = (performance.now() - t0) / 1000;
  const kind = arg('model') as ModelKind;
  const maxLen = Number(arg('maxlen'));
  const enc = createEncoder({
    kind: kind as 'sasrec',
    numItems: dataset.numItems,
    dim: Number(arg('dim')),
    maxLen,
    blocks: Number(arg('blocks')),
    heads: Number(arg('heads')),
    dropout: Number(arg('dropout')),
  });
  const evalUsers = Number(arg('eval-users'));
  const sample = (cases: EvalCase[]) => (evalUsers > 0 ? new Rng(1).shuffle(cases.slice()).slice(0, evalUsers) : cases);
  const valid = sample(split.valid);
  const test = sample(split.test);
  const loss = arg('loss') as LossKind;
  const pick = (m: Record<string, number>) =>
    Object.fromEntries(['HR@10', 'NDCG@10', 'MRR', 'Recall@20'].map((k) => [k, Number(m[k]!.toFixed(4))]));
  const maxBatches = arg('max-batches');
  const negatives = arg('negatives');
  const report = await trainModel(enc, split, {
    epochs: Number(arg('epochs')),
    batchSize: Number(arg('batch')),
    lr: Number(arg('lr')),
    loss,
    ...(negatives ? { negatives: Number(negatives) } : {}),
    ...(maxBatches ? { maxBatchesPerEpoch: Number(maxBatches) } : {}),
    patience: Number(arg('patience')),
    progressEvery: 10,
    onProgress: (p) =>
      process.stderr.write(
        `epoch ${p.epoch} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} ${p.sequencesPerSecond.toFixed(1)} seq/s eta ${p.etaSeconds.toFixed(0)}s\n`,
      ),
    validate: async (epoch) => {
      const r = await evaluate(enc, valid, { dataset, split: 'valid' });
      console.log(JSON.stringify({ epoch, valid: pick(r.metrics) }));
      return { ndcg10: r.metrics['NDCG@10']! };
    },
  });
  for (const e of report.epochs) console.log(JSON.stringify(e));
  const full = await evaluate(enc, test, { dataset, split: 'test' });
  const sampled = await evaluate(enc, test, { dataset, split: 'test', protocol: 'sampled' });
  const save = arg('save');
  if (save) await saveModel(enc, save, { dataset: dataset.name, test: full.metrics, report });
  console.log(
    JSON.stringify({
      summary: true,
      backend: backend.name,
      version: backend.version,
      dataset: dataset.name,
      model: kind,
      loss,
      maxLen,
      numItems: dataset.numItems,
      users: split.train.length,
      loadSeconds: Number(loadSeconds.toFixed(2)),
      epochSeconds: report.epochs.map((e) => Number(e.seconds.toFixed(1))),
      sequencesPerSecond: report.epochs.map((e) => Number(e.sequencesPerSecond.toFixed(1))),
      bestEpoch: report.bestEpoch,
      testFull: pick(full.metrics),
      testSampled100: pick(sampled.metrics),
      evalUsers: test.length,
      numTensors: report.numTensors,
      rssMB: Math.round(process.memoryUsage().rss / 1e6),
    }),
  );
  enc.dispose();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
