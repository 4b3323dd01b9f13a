/**
 * Per-op profile of training steps: where a SASRec (or GRU4Rec/LSTM) training step spends its time,
 * forward and backward, by TensorFlow kernel. Every op of the step runs through `tf.profile`, which
 * times each kernel on the backend (libtensorflow kernels are synchronous, so a kernel's time is its
 * wall time); the table sums them by kernel name, with the share of the step they take.
 *
 *   node libs/ml/model/dist/bench/profile-train.js [--data ml-1m] [--model sasrec] [--loss bce]
 *     [--maxlen 200] [--dim 50] [--blocks 2] [--heads 1] [--dropout 0.2] [--batch 128] [--steps 20]
 *     [--profile 0]   (wall time per step only, without the profiler)
 *     [--by-shape 1]  (kernels by name and input shapes)  [--dump file.json]  (every kernel call, in order)
 *
 * Prints one JSON object: steps, wall seconds of the profiled steps, kernel seconds, and the kernels
 * by total time (calls, seconds, share). `npm run bench:train` runs it for the reference
 * configuration and keeps the table in its result.
 */
import { datasetPath, leaveOneOut, loadDataset } from '@seqrec/datasets';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend } from '../backend';
import type { ModelKind } from '../config';
import { createEncoder } from '../encoder';
import type { LossKind } from '../losses';
import { tf } from '../tf';
import { trainModel } from '../train';

const { values: args } = parseArgs({
  strict: true,
  options: Object.fromEntries(
    Object.entries({
      data: 'ml-1m', model: 'sasrec', maxlen: '200', dim: '50', blocks: '2', heads: '1', dropout: '0.2', loss: 'bce',
      batch: '128', steps: '20', top: '25', profile: '1', 'by-shape': '0', dump: '',
    }).map(([name, dflt]) => [name, { type: 'string' as const, default: dflt }]),
  ),
});
const arg = (name: string): string => args[name] as string;

async function main(): Promise<void> {
  const backend = await initBackend('tensorflow');
  const dataset = await loadDataset(datasetPath(arg('data')));
  const split = leaveOneOut(dataset);
  const kind = arg('model') as ModelKind;
  const enc = createEncoder({
    kind: kind as 'sasrec',
    numItems: dataset.numItems,
    dim: Number(arg('dim')),
    maxLen: Number(arg('maxlen')),
    blocks: Number(arg('blocks')),
    heads: Number(arg('heads')),
    dropout: Number(arg('dropout')),
  });
  const steps = Number(arg('steps'));
  const options = { epochs: 1, batchSize: Number(arg('batch')), lr: 0.001, loss: arg('loss') as LossKind };
  // one unprofiled step first: kernel set-up and the first allocation are not what an epoch is made of
  await trainModel(enc, split, { ...options, maxBatchesPerEpoch: 1 });
  const run = () => trainModel(enc, split, { ...options, maxBatchesPerEpoch: steps, seed: 7 });
  if (arg('profile') === '0') {
    // wall time only, without the profiler's own cost
    const t0 = performance.now();
    await run();
    console.log(JSON.stringify({ model: kind, loss: options.loss, steps, wallSecondsPerStep: Number(((performance.now() - t0) / 1000 / steps).toFixed(4)) }));
    enc.dispose();
    return;
  }
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await run();
  });
  const wall = (performance.now() - t0) / 1000;
  const byKernel = new Map<string, { calls: number; ms: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    // tf.customGrad's forward pass (layer norm, the fused losses) is profiled as one unnamed scope
    const name = k.name === 'unnamed scope' ? 'customGrad forward' : k.name;
    const key = arg('by-shape') === '1' ? `${name} ${JSON.stringify(k.inputShapes)}` : name;
    const e = byKernel.get(key) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += ms;
    total += ms;
    byKernel.set(key, e);
  }
  if (arg('dump')) {
    writeFileSync(arg('dump'), JSON.stringify(info.kernels.map((k) => ({ name: k.name, ms: k.kernelTimeMs, in: k.inputShapes, out: k.outputShapes }))));
  }
  const kernels = [...byKernel.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, Number(arg('top')))
    .map(([name, e]) => ({ kernel: name, callsPerStep: Number((e.calls / steps).toFixed(1)), secondsPerStep: Number((e.ms / 1000 / steps).toFixed(4)), share: Number((e.ms / total).toFixed(3)) }));
  console.log(
    JSON.stringify({
      backend: backend.name,
      version: backend.version,
      model: kind,
      loss: options.loss,
      steps,
      wallSecondsPerStep: Number((wall / steps).toFixed(4)),
      kernelSecondsPerStep: Number((total / 1000 / steps).toFixed(4)),
      kernelCallsPerStep: Math.round(info.kernels.length / steps),
      kernels,
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
