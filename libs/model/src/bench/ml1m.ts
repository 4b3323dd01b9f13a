/**
 * SASRec training speed and quality on the SASRec-preprocessed ML-1M file
 * (`user item` lines, gzip, grouped by user, chronological).
 *
 *   node libs/model/dist/bench/ml1m.js [--data path] [--epochs 3] [--loss softmax|bce|sampled-softmax]
 *     [--model sasrec|gru4rec|lstm] [--maxlen 200] [--dim 50] [--blocks 2] [--heads 1] [--dropout 0.2]
 *     [--batch 128] [--lr 0.001] [--max-batches n] [--eval-users n] [--backend tensorflow|wasm|cpu]
 *
 * Prints one JSON line per epoch and a summary. Validation/test use this library's local
 * full-ranking evaluator (seen items masked) on a fixed user sample.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { EvalCase, LeaveOneOutSplit } from '@seqrec/datasets';
import { initBackend, type BackendName } from '../backend';
import type { ModelKind } from '../config';
import { createEncoder } from '../encoder';
import { evaluateLocal } from '../evaluate-local';
import type { LossKind } from '../losses';
import { Rng } from '../random';
import { trainModel } from '../train';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

/** Reads `user item` lines into per-user sequences and a leave-one-out split. */
export function loadSasrecFile(path: string): LeaveOneOutSplit {
  const text = gunzipSync(readFileSync(path)).toString('utf8');
  const byUser = new Map<number, number[]>();
  let numItems = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const sp = line.indexOf(' ');
    const u = Number(line.slice(0, sp));
    const it = Number(line.slice(sp + 1));
    if (it > numItems) numItems = it;
    let s = byUser.get(u);
    if (!s) byUser.set(u, (s = []));
    s.push(it);
  }
  const users = [...byUser.keys()].sort((a, b) => a - b);
  const sequences = users.map((u) => Int32Array.from(byUser.get(u)!));
  const cut = (s: Int32Array, u: number, n: number): EvalCase => ({ user: u, history: s.slice(0, n), target: s[n]! });
  return {
    dataset: {
      name: 'ml-1m',
      numItems,
      itemIds: Array.from({ length: numItems + 1 }, (_, i) => (i ? String(i) : '')),
      users: users.map(String),
      sequences,
    },
    train: sequences.map((s) => s.slice(0, Math.max(0, s.length - 2))),
    valid: sequences.filter((s) => s.length >= 3).map((s, u) => cut(s, u, s.length - 2)),
    test: sequences.filter((s) => s.length >= 3).map((s, u) => cut(s, u, s.length - 1)),
  };
}

async function main(): Promise<void> {
  const backend = await initBackend(arg('backend', 'tensorflow') as BackendName);
  const data = arg('data', join(__dirname, '../../../../../shared/datasets/ml-1m-sasrec/ml-1m.txt.gz'));
  const t0 = performance.now();
  const split = loadSasrecFile(data);
  const loadSeconds = (performance.now() - t0) / 1000;
  const kind = arg('model', 'sasrec') as ModelKind;
  const maxLen = Number(arg('maxlen', '200'));
  const enc = createEncoder({
    kind: kind as 'sasrec',
    numItems: split.dataset.numItems,
    dim: Number(arg('dim', '50')),
    maxLen,
    blocks: Number(arg('blocks', '2')),
    heads: Number(arg('heads', '1')),
    dropout: Number(arg('dropout', '0.2')),
  });
  const evalUsers = Number(arg('eval-users', '1000'));
  const sample = (cases: EvalCase[]) => new Rng(1).shuffle(cases.slice()).slice(0, evalUsers);
  const valid = sample(split.valid);
  const test = sample(split.test);
  const loss = arg('loss', 'softmax') as LossKind;
  const maxBatches = arg('max-batches', '');
  const report = await trainModel(enc, split, {
    epochs: Number(arg('epochs', '3')),
    batchSize: Number(arg('batch', '128')),
    lr: Number(arg('lr', '0.001')),
    loss,
    ...(maxBatches ? { maxBatchesPerEpoch: Number(maxBatches) } : {}),
    progressEvery: 10,
    onProgress: (p) =>
      process.stderr.write(
        `epoch ${p.epoch} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} ${p.sequencesPerSecond.toFixed(1)} seq/s eta ${p.etaSeconds.toFixed(0)}s\n`,
      ),
    validate: async (epoch) => {
      const m = await evaluateLocal(enc, valid);
      console.log(JSON.stringify({ epoch, valid: m }));
      return { ndcg10: m.ndcg };
    },
    patience: 100,
  });
  for (const e of report.epochs) console.log(JSON.stringify(e));
  const testMetrics = await evaluateLocal(enc, test);
  console.log(
    JSON.stringify({
      summary: true,
      backend: backend.name,
      version: backend.version,
      model: kind,
      loss,
      maxLen,
      numItems: split.dataset.numItems,
      users: split.train.length,
      loadSeconds,
      medianEpochSeconds: report.epochs.map((e) => e.seconds).sort((a, b) => a - b)[Math.floor(report.epochs.length / 2)],
      sequencesPerSecond: report.epochs.map((e) => e.sequencesPerSecond),
      test: testMetrics,
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
